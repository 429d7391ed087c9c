import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// The project's root (where package.json and ui/ live), found the same way from the TypeScript sources run by
// tsx (config/paths.ts) and from the build (dist/config/paths.js): the nearest directory above with package.json.
function findRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'ui'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`no package.json with ui/ above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

export const PROJECT_ROOT = findRoot();
