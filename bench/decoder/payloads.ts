// Realistic Uyuni response bodies for the decoder benchmark and the decoder-equality tests, built
// with the xmlrpc package's serializer and then shaped like Redstone's output: ints as <i4>,
// dates in the compact zone-less form, special characters entity-escaped rather than in CDATA.
import { encodeMethodResponse } from '../../activities/uyuni/encode.js';
import type { XmlRpcParam } from '../../activities/uyuni/values.js';

/** Deterministic PRNG (mulberry32) so payloads and failures are reproducible from a seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(random: () => number, items: readonly T[]): T {
  const item = items[Math.floor(random() * items.length)];
  if (item === undefined) throw new Error('pick from an empty list');
  return item;
}

/** Redstone writes <i4>; the package's serializer writes <int>. */
export function intsAsI4(xml: string): string {
  return xml.replaceAll('<int>', '<i4>').replaceAll('</int>', '</i4>');
}

/** The serializer wraps strings containing < or & in CDATA; Redstone escapes them instead. */
export function cdataAsEntities(xml: string): string {
  return xml.replace(/<!\[CDATA\[([\s\S]*?)\]\]>/g, (_match, text: string) =>
    text.replaceAll('&', '&amp;').replaceAll('<', '&lt;'),
  );
}

/** Uyuni-shaped body: <i4>, entities, compact dates written in `timeZone`. */
export function uyuniResponse(value: XmlRpcParam, timeZone = 'UTC'): string {
  return cdataAsEntities(intsAsI4(encodeMethodResponse(value, timeZone)));
}

const PACKAGES = ['openssl-3', 'glibc', 'kernel-default', 'libxml2', 'curl', 'systemd', 'python311', 'sudo', 'vim', 'zlib'];
const TYPES = ['Security Advisory', 'Bug Fix Advisory', 'Product Enhancement Advisory'] as const;
const STATUSES = ['final', 'stable', 'testing'] as const;
const WORDS = ['important', 'moderate', 'update', 'fixes', 'CVE', 'heap', 'overflow', 'in', 'parser', 'for', 'and', 'über-löst', '修正', 'DoS'];

function isoDay(random: () => number): string {
  const month = 1 + Math.floor(random() * 12);
  const day = 1 + Math.floor(random() * 28);
  return `2024-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

function sentence(random: () => number, words: number): string {
  return Array.from({ length: words }, () => pick(random, WORDS)).join(' ');
}

/** Approximate size of one errata-overview struct on the wire. */
const ERRATA_WIRE_BYTES = 770;

/** One errata-overview struct (system.getRelevantErrata), ~720 bytes on the wire. */
export function errataOverview(random: () => number, index: number): Record<string, XmlRpcParam> {
  const pkg = pick(random, PACKAGES);
  const type = pick(random, TYPES);
  const issued = isoDay(random);
  const suse = random() < 0.5;
  const name = suse
    ? `${type === 'Security Advisory' ? 'SUSE-SU' : 'SUSE-RU'}-SLE-Module-Basesystem-15-SP5-2024-${1000 + index}`
    : `${type === 'Security Advisory' ? 'RHSA' : 'RHBA'}-2024:${1000 + index}`;
  // Escaped characters and non-ASCII in a fifth of the synopses.
  const extra = random() < 0.2 ? ` & ${pick(random, PACKAGES)} <${pick(random, WORDS)}>` : '';
  return {
    id: 5000 + index,
    issue_date: issued,
    date: issued,
    update_date: issued,
    advisory_synopsis: `${type === 'Security Advisory' ? 'Security' : 'Recommended'} update for ${pkg}${extra}`,
    advisory_type: type,
    advisory_status: pick(random, STATUSES),
    advisory_name: name,
    // Only newer servers send these two.
    ...(random() < 0.3 ? { reboot: random() < 0.1, reload: random() < 0.05 } : {}),
  };
}

/** system.getRelevantErrata for one system with `count` errata (500 → ~360 KB). */
export function relevantErrataXml(count = 500, seed = 1): string {
  const random = seededRandom(seed);
  return uyuniResponse(Array.from({ length: count }, (_, i) => errataOverview(random, i)));
}

/** errata.listPackages: size/payload_size are strings, dates are strings, channels an array. */
export function listPackagesXml(count = 200, seed = 2): string {
  const random = seededRandom(seed);
  const packages = Array.from({ length: count }, (_, i) => {
    const name = pick(random, PACKAGES);
    const size = 10_000 + Math.floor(random() * 50_000_000);
    return {
      id: 88000 + i,
      name,
      epoch: random() < 0.8 ? '' : String(1 + Math.floor(random() * 3)),
      version: `3.${Math.floor(random() * 10)}.${Math.floor(random() * 30)}`,
      release: `150500.5.${Math.floor(random() * 50)}.1`,
      arch_label: pick(random, ['x86_64', 'noarch', 'aarch64']),
      providing_channels: ['sle-module-basesystem15-sp5-updates-x86_64', 'sle-product-sles15-sp5-pool-x86_64'],
      build_host: `sheep${Math.floor(random() * 100)}`,
      description: `${sentence(random, 20)}\n\n  * fixes "bsc#${1200000 + i}" & 'friends'`,
      checksum: Array.from({ length: 64 }, () => '0123456789abcdef'[Math.floor(random() * 16)]).join(''),
      checksum_type: 'sha256',
      vendor: 'SUSE LLC <https://www.suse.com/>',
      summary: sentence(random, 5),
      cookie: `sheep${i} 1715500000`,
      license: 'Apache-2.0',
      path: `x/y/z/${name}-${i}.rpm`,
      file: `${name}-${i}.rpm`,
      build_date: '5/12/24 9:01 AM',
      last_modified_date: '2024-05-12 09:01:02.0',
      part_of_retracted_patch: false,
      size: String(size),
      payload_size: String(Math.floor(size * 0.9)),
    };
  });
  return uyuniResponse(packages);
}

/** systemgroup.listSystemsMinimal: the method with real dateTime.iso8601 members. */
export function systemsMinimalXml(count = 300, seed = 3, timeZone = 'UTC'): string {
  const random = seededRandom(seed);
  const base = Date.UTC(2024, 4, 14, 10, 0, 0);
  const systems = Array.from({ length: count }, (_, i) => ({
    id: 1000010000 + i,
    name: `web${String(i).padStart(3, '0')}.example.com`,
    last_checkin: new Date(base - Math.floor(random() * 86_400) * 1000),
    ...(random() < 0.7 ? { last_boot: new Date(base - Math.floor(random() * 30 * 86_400) * 1000) } : {}),
    extra_pkg_count: Math.floor(random() * 5),
    outdated_pkg_count: Math.floor(random() * 200),
  }));
  return uyuniResponse(systems, timeZone);
}

/** system.getRelevantErrata(int[]) grown to about `targetBytes` (system_id is a string on the wire). */
export function multiSystemErrataXml(targetBytes = 5_000_000, seed = 4): string {
  const random = seededRandom(seed);
  const perSystem = 60;
  const systems = Math.max(1, Math.round(targetBytes / (perSystem * ERRATA_WIRE_BYTES + 120)));
  const value = Array.from({ length: systems }, (_, s) => ({
    system_id: String(1000010000 + s),
    errata: Array.from({ length: perSystem }, (_, i) => errataOverview(random, s * perSystem + i)),
  }));
  return uyuniResponse(value);
}
