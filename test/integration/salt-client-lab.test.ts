import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SaltClient } from '../../activities/salt/client.js';
import { isSaltFunctionUnavailable, SaltFunctionUnavailableError } from '../../activities/salt/errors.js';
import { toApplicationFailure } from '../../activities/salt/failure.js';
import { Fleet, packageVersionString, type LabSystem } from '../../lab/fleet/index.js';
import { DEFAULT_SALT_CREDENTIALS, startSaltLab, type SaltLab, type SnapperModuleState } from '../../lab/salt/index.js';

// The real Salt client against the lab's salt-api over HTTP, for the field inputs the lab reproduces: minions
// whose snapper module does not load, and a job cache that answers an Error beside the returns.
describe('Salt client against the lab', () => {
  let fleet: Fleet;
  let lab: SaltLab;
  let client: SaltClient;
  let btrfs: LabSystem;
  let ext4: LabSystem;

  beforeAll(async () => {
    fleet = new Fleet({ prodSystemsPerOs: 4 });
    lab = await startSaltLab({ fleet, jobDurations: { pkgInstallMs: 50, snapperMs: 20 } });
    client = new SaltClient({ url: lab.url, ...DEFAULT_SALT_CREDENTIALS, timeoutMs: 5_000 });
    btrfs = fleet.systems.find((s) => s.btrfs && s.stage === 'test')!;
    ext4 = fleet.systems.find((s) => !s.btrfs && s.stage === 'test')!;
  });
  afterAll(async () => {
    await client?.close();
    await lab?.close();
  });
  beforeEach(() => {
    lab.jobFaults.clear();
    lab.modules.reset();
  });

  it('a minion without python3-dbus: snapper is unavailable (false), not an error; its functions throw the typed error', async () => {
    expect(await client.snapperAvailable(ext4.minionId)).toBe(false);
    const error = await client.snapperCreate(ext4.minionId, 'before USN-1').catch((e: unknown) => e);
    expect(isSaltFunctionUnavailable(error)).toBe(true);
    expect((error as SaltFunctionUnavailableError).unavailable).toEqual({ module: 'snapper', form: 'virtual', detail: 'The snapper module cannot be loaded: missing python dbus module' });
    expect(toApplicationFailure(error)).toMatchObject({ type: 'SaltFunctionUnavailableError', nonRetryable: true, details: [{ reason: 'unavailable', unavailable: { module: 'snapper', form: 'virtual' } }] });
    expect(await client.snapperAvailable(btrfs.minionId)).toBe(true);
  });

  it.each(['no-dbus', 'snapper-missing', 'no-system-bus', 'virtual-false', 'absent'] as SnapperModuleState[])(
    'snapper module state %s on a btrfs minion: unavailable, and no snapshot is taken',
    async (state) => {
      lab.modules.setSnapper(btrfs, state);
      expect(await client.snapperAvailable(btrfs.minionId)).toBe(false);
      const error = await client.snapperCreate(btrfs.minionId, 'before RHSA-1').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SaltFunctionUnavailableError);
      expect((error as SaltFunctionUnavailableError).unavailable.module).toBe('snapper');
      expect(lab.snapshots.list(btrfs.id)).toHaveLength(0);
    },
  );

  it('/jobs answering an Error beside the returns: the pinned install returns its changes', async () => {
    const sys = fleet.systemsOf('rhel', 'prod')[0]!;
    const installed = fleet.installedBuild(sys.id, 'curl');
    const target = fleet.packageChain('rhel', 'curl').find((b) => b.id !== installed.id)!;
    lab.jobFaults.inject({ kind: 'loadMissing', times: 'always' });
    const changes = await client.installPinned(sys.minionId, { curl: packageVersionString(target) }, { deadlineMs: 5_000, pollMs: 30 });
    expect(changes).toEqual({ curl: { old: packageVersionString(installed), new: packageVersionString(target) } });
    expect(fleet.installedBuild(sys.id, 'curl').id).toBe(target.id);
  });

  it('/jobs with the Error and no returns for a while: polling goes on and the install is still read', async () => {
    const sys = fleet.systemsOf('ubuntu', 'prod')[0]!;
    const installed = fleet.installedBuild(sys.id, 'curl');
    const target = fleet.packageChain('ubuntu', 'curl').find((b) => b.id !== installed.id)!;
    lab.jobFaults.inject({ kind: 'cacheUnreachable', times: 3 });
    const changes = await client.installPinned(sys.minionId, { curl: packageVersionString(target) }, { deadlineMs: 5_000, pollMs: 30 });
    expect(changes.curl?.new).toBe(packageVersionString(target));
    expect(lab.jobFaults.list()).toEqual([]);
  });
});
