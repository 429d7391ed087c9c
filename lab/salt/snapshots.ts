/**
 * Snapper snapshots of btrfs systems. The lab's "filesystem" is the installed package builds (every
 * family, several kernels, absent packages), the service states and the saved boot entry (/boot is
 * in the snapshot), so a snapshot records exactly those; undo restores them. The running kernel is
 * not on disk: no snapshot has it.
 */
export type SnapshotType = 'single' | 'pre' | 'post';

export interface Snapshot {
  readonly id: number;
  readonly type: SnapshotType;
  readonly pre?: number;
  /** Epoch seconds. */
  readonly timestamp: number;
  readonly user: string;
  readonly description: string;
  readonly cleanup: string;
  readonly userdata: Readonly<Record<string, string>>;
  /** family → installed package build ids at that moment (empty = not installed). */
  readonly packages: ReadonlyMap<string, readonly number[]>;
  readonly services: Readonly<Record<string, boolean>>;
  /** The saved boot entry (kernel build), undefined = the newest kernel. */
  readonly savedKernel: number | undefined;
}

export class SnapshotStore {
  private readonly bySystem = new Map<number, { next: number; list: Snapshot[] }>();

  list(systemId: number): readonly Snapshot[] {
    return this.bySystem.get(systemId)?.list ?? [];
  }

  get(systemId: number, id: number): Snapshot | undefined {
    return this.list(systemId).find((s) => s.id === id);
  }

  last(systemId: number): Snapshot | undefined {
    const list = this.list(systemId);
    return list[list.length - 1];
  }

  add(systemId: number, snapshot: Omit<Snapshot, 'id'>): Snapshot {
    let entry = this.bySystem.get(systemId);
    if (!entry) {
      entry = { next: 1, list: [] };
      this.bySystem.set(systemId, entry);
    }
    const full: Snapshot = { ...snapshot, id: entry.next++ };
    entry.list.push(full);
    return full;
  }

  delete(systemId: number, ids: readonly number[]): number[] {
    const entry = this.bySystem.get(systemId);
    if (!entry) return [];
    const gone = entry.list.filter((s) => ids.includes(s.id)).map((s) => s.id);
    entry.list = entry.list.filter((s) => !ids.includes(s.id));
    return gone;
  }
}
