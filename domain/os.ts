export const TARGET_OSES = ['ubuntu', 'rhel', 'debian'] as const;
export type TargetOs = (typeof TARGET_OSES)[number];

// Group names follow `<role>-<os><version>`: test-ubuntu-2404, test-rhel9, prod-debian-12, ...
const PATTERNS: [RegExp, TargetOs][] = [
  [/(^|-)ubuntu(-|\d|$)/, 'ubuntu'],
  [/(^|-)(rhel|redhat|alma|rocky)(-|\d|$)/, 'rhel'],
  [/(^|-)debian(-|\d|$)/, 'debian'],
];

/** The OS of the systems in a UYUNI system group, from its name; null when the name says none. */
export function osFromGroup(groupName: string): TargetOs | null {
  const name = groupName.trim().toLowerCase();
  for (const [pattern, os] of PATTERNS) if (pattern.test(name)) return os;
  return null;
}

export function isTestGroup(groupName: string, prefix = 'test-'): boolean {
  return groupName.startsWith(prefix);
}
