import { DEFAULT_SALT_CREDENTIALS } from '../../lab/salt/server.js';
import { DEFAULT_CREDENTIALS } from '../../lab/uyuni/server.js';

// A benchmark runs on the lab's embedded defaults, like `npm run lab`: the worker refuses to start without
// UYUNI and salt-api credentials, so every bench that starts one passes the lab's (never a real system's).
export const LAB_CREDENTIALS_ENV: Readonly<Record<string, string>> = {
  UYUNI_USER: DEFAULT_CREDENTIALS.user,
  UYUNI_PASSWORD: DEFAULT_CREDENTIALS.password,
  SALT_USER: DEFAULT_SALT_CREDENTIALS.user,
  SALT_PASSWORD: DEFAULT_SALT_CREDENTIALS.password,
  SALT_EAUTH: DEFAULT_SALT_CREDENTIALS.eauth,
};

/** `--small`: the bench's quick mode, run by .ci/run to prove it still runs and prints its figures. */
export const SMALL = process.argv.includes('--small');

/** The positional arguments, without flags such as --small. */
export const positional = (): string[] => process.argv.slice(2).filter((a) => !a.startsWith('--'));
