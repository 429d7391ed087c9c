import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../db/connection.js';
import { claimTest } from '../../db/queries/dispatch.js';
import { acquireLease, quarantine } from '../../db/queries/test-systems.js';
import { isolatedDatabase, testConfig, testDb } from '../support/context.js';

// The two queries that hand out test systems, against real PostgreSQL, with no API pre-check in front: a
// quarantined system is never leased, by a test that asks for one (acquireLease) or by the dispatcher's claim.
describe('leases skip quarantined test systems', () => {
  let db: Db;
  let n = 0;

  beforeAll(async () => {
    db = testDb(testConfig({ DB_NAME: await isolatedDatabase('lease') }));
  });
  afterAll(async () => db?.destroy());
  beforeEach(async () => {
    await db.deleteFrom('patch_test_queue').execute();
    await db.deleteFrom('test_systems').execute();
    // system 11 (lowest id, first in order) is quarantined; 12 is free; both rhel
    await db.insertInto('test_systems').values([
      { system_id: 11, name: 'rhel-test-a', os: 'rhel', group_name: 'test-rhel9', minion_id: 'a' },
      { system_id: 12, name: 'rhel-test-b', os: 'rhel', group_name: 'test-rhel9', minion_id: 'b' },
    ]).execute();
    await quarantine(db, 11, 'left half-patched by a failed rollback');
  });

  it('acquireLease takes the healthy system, and none when only the quarantined one is a candidate', async () => {
    expect(await acquireLease(db, { os: 'rhel', candidates: [11], workflowId: 'wf-only-quarantined', runId: 'r1' })).toBeUndefined();
    const lease = await acquireLease(db, { os: 'rhel', candidates: [11, 12], workflowId: 'wf-both', runId: 'r2' });
    expect(lease).toMatchObject({ system_id: 12, leased_by: 'wf-both', leased_run_id: 'r2' });
    const quarantined = await db.selectFrom('test_systems').selectAll().where('system_id', '=', 11).executeTakeFirstOrThrow();
    expect(quarantined).toMatchObject({ leased_by: null, quarantined: true });
  });

  it('claimTest pairs a queued item with the healthy system, and claims nothing when only the quarantined one fits', async () => {
    const name = `RHSA-2026:${9000 + ++n}`;
    await db.insertInto('errata_cache').values({
      advisory_name: name, advisory_type: 'Security Advisory', severity: 'High', synopsis: 's', cves: [], target_os: ['rhel'], test_system_ids: [11, 12], uyuni_errata_id: 5000 + n,
    }).execute();
    const { id } = await db.insertInto('patch_test_queue').values({ advisory_name: name, target_os: 'rhel', success_score: 80, queued_by: 'test' }).returning('id').executeTakeFirstOrThrow();

    const claim = await db.transaction().execute((trx) => claimTest(trx, { workflowIdOf: (q) => `patch-test-${q}` }));
    expect(claim).toEqual({ queueId: id, advisoryName: name, targetOs: 'rhel', systemId: 12 });

    // Back to queued with system 12 gone: only the quarantined 11 would fit.
    await db.updateTable('patch_test_queue').set({ status: 'queued', workflow_id: null, test_system_id: null }).where('id', '=', id).execute();
    await db.deleteFrom('test_systems').where('system_id', '=', 12).execute();
    expect(await db.transaction().execute((trx) => claimTest(trx, { workflowIdOf: (q) => `patch-test-${q}` }))).toBeUndefined();
    expect(await db.selectFrom('test_systems').select(['leased_by']).where('system_id', '=', 11).executeTakeFirstOrThrow()).toEqual({ leased_by: null });
  });
});
