// Every installed package's `engines.node` against the Node versions the project claims to run on (package.json
// engines: the lowest Node 20 and the lowest Node 22 it allows) and the Node running CI. A dependency that needs
// a newer Node (npm's EBADENGINE warning) fails here, naming the package, the range and the version.
//   node .ci/check-engines.mjs
/* global process, console */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import semver from 'semver';

const root = path.resolve(import.meta.dirname, '..');
const own = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const claimed = own.engines.node;
// The lowest version of each alternative of the range (">=20.19 <21 || >=22" → 20.19.0 and 22.0.0), and this Node.
const lowest = new semver.Range(claimed).set.map((set) => semver.minVersion(set.map((c) => c.value).join(' '))?.version);
const targets = [...new Set([...lowest, process.versions.node].filter(Boolean))];
if (!semver.satisfies(process.versions.node, claimed)) {
  console.error(`check-engines: this Node ${process.versions.node} is outside the project's engines "${claimed}"`);
  process.exit(1);
}

function* packages(dir) {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
    const full = path.join(dir, entry.name);
    if (entry.name.startsWith('@')) {
      yield* packages(full);
      continue;
    }
    const manifest = path.join(full, 'package.json');
    if (existsSync(manifest)) yield manifest;
    yield* packages(path.join(full, 'node_modules'));
  }
}

const problems = [];
let checked = 0;
for (const manifest of packages(path.join(root, 'node_modules'))) {
  let pkg;
  try {
    pkg = JSON.parse(readFileSync(manifest, 'utf8'));
  } catch {
    continue;
  }
  const range = pkg.engines?.node;
  if (!pkg.name || typeof range !== 'string') continue;
  checked++;
  if (!semver.validRange(range)) continue;
  for (const version of targets) {
    if (!semver.satisfies(version, range, { includePrerelease: true })) problems.push(`${pkg.name}@${pkg.version} needs node "${range}": not ${version} (${path.relative(root, manifest)})`);
  }
}
if (problems.length) {
  console.error(`check-engines: ${problems.length} engine conflict(s) with the project's engines "${claimed}":\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`check-engines: ${checked} packages with an engines.node field accept Node ${targets.join(', ')} (project engines "${claimed}")`);
