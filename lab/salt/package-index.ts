/**
 * Binary package name → builds, per OS, for resolving `pkg.install` pins. Kernel packages carry
 * their ABI in the name, so a name can map to one build of a family; others to the whole chain.
 * Built once per fleet (the catalog never changes after generation).
 */
import { packageVersionString, type Fleet, type Os, type PackageBuild } from '../fleet/index.js';

const indexes = new WeakMap<Fleet, Map<string, PackageBuild[]>>();

function index(fleet: Fleet): Map<string, PackageBuild[]> {
  let idx = indexes.get(fleet);
  if (idx) return idx;
  idx = new Map();
  for (const p of fleet.catalog.packages) {
    const key = `${p.os}:${p.name}`;
    const list = idx.get(key);
    if (list) list.push(p);
    else idx.set(key, [p]);
  }
  indexes.set(fleet, idx);
  return idx;
}

export function buildsNamed(fleet: Fleet, os: Os, name: string): readonly PackageBuild[] {
  return index(fleet).get(`${os}:${name}`) ?? [];
}

/** Accepts the full version (with epoch), the version without epoch, and a leading `=`. */
export function findBuildByVersion(builds: readonly PackageBuild[], requested: string): PackageBuild | undefined {
  const v = requested.trim().replace(/^=+/, '');
  return builds.find((b) => {
    const full = packageVersionString(b);
    const bare = `${b.version}-${b.release}`;
    return v === full || v === bare || v === `0:${bare}`;
  });
}
