import { describe, expect, it } from 'vitest';
import {
  diffInventory,
  inventoryDifferences,
  planIsEmpty,
  restorePlan,
  revertedInventory,
  toInventory,
  type PackageInventory,
} from '../../../domain/package-inventory.js';

// Shapes from the field: an RHEL kernel update installs kernel-core beside the running one (install-only), an
// Ubuntu kernel USN installs new package names (the ABI is in the name), a dependency appears, an Obsoletes
// removes a package.
const rhelBefore: PackageInventory = {
  'kernel-core': ['5.14.0-427.13.1.el9_4'],
  'kernel-tools': ['5.14.0-427.13.1.el9_4'],
  openssl: ['1:3.0.7-27.el9'],
  'openssh-keycat': ['8.7p1-38.el9'],
};
const rhelAfter: PackageInventory = {
  'kernel-core': ['5.14.0-427.13.1.el9_4', '5.14.0-427.16.1.el9_4'],
  'kernel-tools': ['5.14.0-427.16.1.el9_4'],
  openssl: ['1:3.0.7-27.el9'],
  'openssl-fips-provider': ['3.0.7-2.el9'],
};

describe('package inventory', () => {
  it('reads pkg.list_pkgs with comma-joined versions and with versions_as_list', () => {
    expect(toInventory({ 'kernel-core': '5.14.0-427.16.1.el9_4,5.14.0-427.13.1.el9_4', bash: '5.1.8-9.el9' })).toEqual({
      'kernel-core': ['5.14.0-427.13.1.el9_4', '5.14.0-427.16.1.el9_4'],
      bash: ['5.1.8-9.el9'],
    });
    expect(toInventory({ 'kernel-core': ['5.14.0-427.16.1.el9_4', '5.14.0-427.13.1.el9_4'], empty: [] })).toEqual({
      'kernel-core': ['5.14.0-427.13.1.el9_4', '5.14.0-427.16.1.el9_4'],
    });
  });

  it('tells upgraded, added (install-only kernel, new dependency) and removed (obsoleted) packages apart', () => {
    expect(diffInventory(rhelBefore, rhelAfter)).toEqual({
      upgraded: [{ name: 'kernel-tools', from: '5.14.0-427.13.1.el9_4', to: '5.14.0-427.16.1.el9_4' }],
      added: [
        { name: 'kernel-core', version: '5.14.0-427.16.1.el9_4' },
        { name: 'openssl-fips-provider', version: '3.0.7-2.el9' },
      ],
      removed: [{ name: 'openssh-keycat', version: '8.7p1-38.el9' }],
    });
  });

  it('an Ubuntu kernel USN adds new package names and changes nothing else', () => {
    const before = { 'linux-image-6.8.0-49-generic': ['6.8.0-49.49'], 'linux-generic': ['6.8.0.49.49'] };
    const after = { ...before, 'linux-image-6.8.0-51-generic': ['6.8.0-51.52'], 'linux-generic': ['6.8.0.51.52'] };
    const changes = diffInventory(before, after);
    expect(changes.added).toEqual([{ name: 'linux-image-6.8.0-51-generic', version: '6.8.0-51.52' }]);
    expect(changes.upgraded).toEqual([{ name: 'linux-generic', from: '6.8.0.49.49', to: '6.8.0.51.52' }]);
    expect(restorePlan(before, after)).toEqual({
      install: [{ name: 'linux-generic', version: '6.8.0.49.49' }],
      remove: [{ name: 'linux-image-6.8.0-51-generic', version: '6.8.0-51.52' }],
    });
  });

  it('plans the way back: downgrade the upgraded, reinstall the removed, remove the added', () => {
    const plan = restorePlan(rhelBefore, rhelAfter);
    expect(plan.install).toEqual([
      { name: 'kernel-tools', version: '5.14.0-427.13.1.el9_4' },
      { name: 'openssh-keycat', version: '8.7p1-38.el9' },
    ]);
    expect(plan.remove).toEqual([
      { name: 'kernel-core', version: '5.14.0-427.16.1.el9_4' },
      { name: 'openssl-fips-provider', version: '3.0.7-2.el9' },
    ]);
    expect(planIsEmpty(restorePlan(rhelBefore, rhelBefore))).toBe(true);
    expect(planIsEmpty(plan)).toBe(false);
  });

  it('names every difference of a whole inventory, so a partial rollback cannot pass verification', () => {
    expect(inventoryDifferences(rhelBefore, rhelBefore)).toEqual([]);
    expect(inventoryDifferences(rhelBefore, rhelAfter)).toEqual([
      'kernel-core is 5.14.0-427.13.1.el9_4, 5.14.0-427.16.1.el9_4; it was 5.14.0-427.13.1.el9_4 before the patch',
      'kernel-tools is 5.14.0-427.16.1.el9_4; it was 5.14.0-427.13.1.el9_4 before the patch',
      'openssh-keycat is not installed; it was 8.7p1-38.el9 before the patch',
      'openssl-fips-provider 3.0.7-2.el9 is installed; it was not before the patch',
    ]);
    // One package left at the new version is one difference.
    expect(inventoryDifferences(rhelBefore, { ...rhelBefore, openssl: ['1:3.0.7-28.el9'] })).toEqual([
      'openssl is 1:3.0.7-28.el9; it was 1:3.0.7-27.el9 before the patch',
    ]);
  });

  it('undoing one patch right after it gives the inventory from before it', () => {
    const { inventory, conflicts } = revertedInventory(rhelAfter, diffInventory(rhelBefore, rhelAfter));
    expect(conflicts).toEqual([]);
    expect(inventory).toEqual(rhelBefore);
  });

  it('undoing an earlier patch keeps what later patches changed, and refuses what a later patch changed again', () => {
    const changesA = diffInventory(rhelBefore, rhelAfter);
    // A later test on the same system upgraded bash and openssl.
    const later = { ...rhelAfter, bash: ['5.1.8-10.el9'], openssl: ['1:3.0.7-28.el9'] };
    const a = revertedInventory(later, changesA);
    expect(a.conflicts).toEqual([]);
    expect(a.inventory).toEqual({ ...rhelBefore, bash: ['5.1.8-10.el9'], openssl: ['1:3.0.7-28.el9'] });
    // ... but if the later one moved kernel-tools on again, undoing A cannot just put A's old version back.
    const again = { ...rhelAfter, 'kernel-tools': ['5.14.0-427.18.1.el9_4'] };
    expect(revertedInventory(again, changesA).conflicts).toEqual([
      'kernel-tools is 5.14.0-427.18.1.el9_4 now; the patch had changed it from 5.14.0-427.13.1.el9_4 to 5.14.0-427.16.1.el9_4',
    ]);
  });
});
