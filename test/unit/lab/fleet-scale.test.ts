import { describe, expect, it } from 'vitest';
import { generateFleet, manualClock } from '../../../lab/fleet/index.js';
import { osFromGroup } from '../../../domain/os.js';

// The lab at fleet scale (issue 15): production groups, a fleet-wide erratum, and one batched action whose
// outcome differs per system.
describe('the lab fleet at scale', () => {
  const clock = manualClock();
  const fleet = generateFleet({
    clock, testSystemsPerOs: 1, prodSystemsPerOs: 0, prodSystemsByOs: { rhel: 400 }, prodGroupsPerOs: 4, fleetWideErrata: 1,
    applyFailPercent: 10, errataPerOs: 60, relevantPerSystem: 20, actionPickupMs: 100, actionCompleteMs: 900,
  });

  it('deals the production systems round-robin into role groups whose names still say the OS', () => {
    const names = ['prod-rhel9-web', 'prod-rhel9-db', 'prod-rhel9-app', 'prod-rhel9-cache'];
    for (const name of names) {
      const g = fleet.group(name);
      expect(g?.systemIds, name).toHaveLength(100);
      expect(osFromGroup(name)).toBe('rhel');
      expect(g!.systemIds.every((id) => fleet.system(id)!.group === name)).toBe(true);
    }
    expect(fleet.group('prod-rhel9')).toBeUndefined();
    expect(fleet.systemsOf('rhel', 'prod')).toHaveLength(400);
    expect(fleet.systemsOf('ubuntu', 'prod')).toHaveLength(0);
  });

  it('one action for 400 systems of a fleet-wide erratum: completed on most, failed on about applyFailPercent, each with its message', () => {
    const e = fleet.findErrata({ os: 'rhel', personality: 'none', rebootSuggested: false, kernel: false }, 60).find((x) => fleet.affectedSystems(x.id).filter((s) => s.stage === 'prod').length === 400);
    expect(e, 'relevant to every production system').toBeDefined();
    const sids = fleet.systemsOf('rhel', 'prod').map((s) => s.id);
    const ids = fleet.scheduleApplyErrata(sids, [e!.id]);
    expect(ids).toHaveLength(1);
    clock.advance(999);
    fleet.tick();
    const action = fleet.action(ids[0]!)!;
    expect([...action.systems.values()].every((s) => s.status === 'Picked Up')).toBe(true);
    clock.advance(1);
    fleet.tick();
    const states = [...action.systems.values()];
    const failed = states.filter((s) => s.status === 'Failed');
    expect(states.filter((s) => s.status === 'Completed').length + failed.length).toBe(400);
    expect(failed.length).toBeGreaterThan(20);
    expect(failed.length).toBeLessThan(65);
    expect(failed.every((s) => /Failed to apply patch/.test(s.resultMsg ?? ''))).toBe(true);
    for (const s of failed) expect(fleet.applyCount(s.systemId, e!.id)).toBe(0);
  });
});
