/**
 * Serialized responses keyed by (method, arguments without the session key) and tagged with the
 * fleet version they were built from (-1 = immutable data). A hit with an older version is a miss,
 * so a mutation invalidates everything without a sweep.
 *
 * Bounded by bytes and scan-resistant: when full, stale versions go first; after that new
 * entries are refused rather than evicting live ones, because a sync sweeps every system in
 * turn and LRU would then evict each entry just before it is asked for again.
 */
export interface CacheStats {
  hits: number;
  misses: number;
  entries: number;
  bytes: number;
}

export class ResponseCache {
  private readonly entries = new Map<string, { version: number; xml: string }>();
  private bytes = 0;
  private hits = 0;
  private misses = 0;
  private latestVersion = 0;

  constructor(private readonly maxBytes: number) {}

  get(key: string, version: number): string | undefined {
    this.noteVersion(version);
    const e = this.entries.get(key);
    if (!e || e.version !== version) {
      if (e) this.remove(key, e.xml);
      this.misses++;
      return undefined;
    }
    this.hits++;
    return e.xml;
  }

  set(key: string, version: number, xml: string): void {
    this.noteVersion(version);
    if (this.maxBytes <= 0 || xml.length > this.maxBytes) return;
    const old = this.entries.get(key);
    if (old) this.remove(key, old.xml);
    if (this.bytes + xml.length > this.maxBytes) this.dropStale();
    if (this.bytes + xml.length > this.maxBytes) return;
    this.entries.set(key, { version, xml });
    this.bytes += xml.length;
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }

  stats(): CacheStats {
    return { hits: this.hits, misses: this.misses, entries: this.entries.size, bytes: this.bytes };
  }

  resetStats(): void {
    this.hits = 0;
    this.misses = 0;
  }

  private noteVersion(version: number): void {
    if (version > this.latestVersion) this.latestVersion = version;
  }

  private dropStale(): void {
    for (const [k, e] of this.entries) if (e.version !== -1 && e.version < this.latestVersion) this.remove(k, e.xml);
  }

  private remove(key: string, xml: string): void {
    this.entries.delete(key);
    this.bytes -= xml.length;
  }
}
