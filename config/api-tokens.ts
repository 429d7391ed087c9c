export const ROLES = ['viewer', 'operator', 'approver', 'admin'] as const;
export type RoleName = (typeof ROLES)[number];

export interface ApiToken {
  /** Who holds the token: recorded as the actor of approvals and other decisions. */
  name: string;
  role: RoleName;
  token: string;
}

const MIN_TOKEN_LENGTH = 16;

/** Parses `name:role:token[,name:role:token...]`. Errors never include the token itself. */
export function parseApiTokens(value: string, error: (message: string) => Error): ApiToken[] {
  const tokens: ApiToken[] = [];
  const entries = value.split(',').map((s) => s.trim()).filter(Boolean);
  entries.forEach((entry, i) => {
    const [name, role, ...rest] = entry.split(':');
    const token = rest.join(':');
    if (!name || !role || !token) throw error(`entry ${i + 1} must be name:role:token`);
    if (!(ROLES as readonly string[]).includes(role)) {
      throw error(`entry ${i + 1} (${name}) has unknown role "${role}" (roles: ${ROLES.join(', ')})`);
    }
    if (token.length < MIN_TOKEN_LENGTH) throw error(`entry ${i + 1} (${name}) token is shorter than ${MIN_TOKEN_LENGTH} characters`);
    if (tokens.some((t) => t.token === token)) throw error(`entry ${i + 1} (${name}) reuses another entry's token`);
    tokens.push({ name, role: role as RoleName, token });
  });
  return tokens;
}

/**
 * Fixed tokens for `npm run lab` (SPM_ENV=lab) only, listed in the README. A production API refuses to
 * start without API_TOKENS, so these can never open a real deployment.
 */
export const LAB_API_TOKENS: readonly ApiToken[] = [
  { name: 'lab-viewer', role: 'viewer', token: 'spm-lab-viewer-token' },
  { name: 'lab-operator', role: 'operator', token: 'spm-lab-operator-token' },
  { name: 'lab-approver', role: 'approver', token: 'spm-lab-approver-token' },
  { name: 'lab-admin', role: 'admin', token: 'spm-lab-admin-token' },
];
