import { activityInfo, heartbeat } from '@temporalio/activity';
import type { LimitFunction } from 'p-limit';
import type { Logger } from 'pino';
import type { Config } from '../../config/config.js';
import type { Db } from '../../db/connection.js';
import type { SyncError, SyncRunsTable } from '../../db/database.js';
import { beginSyncRun, failSyncRun } from '../../db/queries/sync-runs.js';
import {
  commitSync,
  discardStaging,
  planDetails,
  plannedSlice,
  saveDetails,
  stageChunk,
  type AdvisoryDetails,
  type StagedErratum,
} from '../../db/queries/sync-staging.js';
import { upsertTestSystems } from '../../db/queries/test-systems.js';
import { advisoriesToCheck, retractedWithOpenItems } from '../../db/queries/retractions.js';
import { retractAdvisory } from '../shared/retraction.js';
import { isTestGroup, osFromGroup } from '../../domain/os.js';
import { mapSeverity } from '../../domain/severity.js';
import { wakeIntel } from '../../temporal/intel.js';
import type { Client } from '@temporalio/client';
import type { UyuniClient } from '../uyuni/client.js';
import { UyuniNotFoundError } from '../uyuni/errors.js';
import { toApplicationFailure } from '../uyuni/failure.js';
import type { ErrataOverview } from '../uyuni/types.js';

// The side of uyuniSync that talks to UYUNI and PostgreSQL. Inputs and outputs are small (ids, counts):
// large data goes to the staging tables, never into workflow history. UYUNI errors become Temporal
// ApplicationFailures with the client's retryable flag (bad credentials, unknown advisory: non-retryable).

export interface SyncDeps {
  config: Readonly<Config>;
  db: Db;
  log: Logger;
  uyuni: UyuniClient;
  /** Caps concurrent UYUNI calls for the whole worker process at UYUNI_SYNC_WORKERS. */
  uyuniLimit: LimitFunction;
  /** the worker's Temporal client: a committed sync wakes the intel-enrichment workflow (issue 14) */
  temporal?: Client;
}

export interface TestGroup {
  name: string;
  os: string;
}

export interface ChunkResult {
  systems: number;
  errata: number;
  calls: number;
  errors: SyncError[];
}

export interface DetailsResult {
  advisories: number;
  cvesFetched: number;
  calls: number;
  errors: SyncError[];
}

export interface CommitInput {
  syncRunId: number;
  groups: number;
  systems: number;
  uyuniCalls: number;
  cvesFetched: number;
  phaseDurations: Record<string, number>;
  errors: SyncError[];
}

const dayOf = (d: Date | null): string | null => (d ? d.toISOString().slice(0, 10) : null);
/**
 * A copy that does not share memory with the response it came from: decoded strings are slices of the
 * body's text, and keeping one slice per advisory would keep every response of the chunk alive.
 */
const own = (s: string): string => Buffer.from(s, 'utf8').toString('utf8');

async function uyuniCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toApplicationFailure(err);
  }
}

export function createSyncActivities(deps: SyncDeps) {
  const { db, uyuni, uyuniLimit, log } = deps;
  const limited = <T>(fn: () => Promise<T>) => uyuniLimit(() => uyuniCall(fn));

  return {
    async beginSyncRun(input: { trigger: SyncRunsTable['trigger'] }): Promise<number> {
      const { workflowExecution } = activityInfo();
      if (!workflowExecution) throw new Error('beginSyncRun runs only inside the uyuniSync workflow');
      return beginSyncRun(db, { workflowId: workflowExecution.workflowId, runId: workflowExecution.runId, trigger: input.trigger });
    },

    /** The test groups (by name prefix) whose OS the group name tells; others are reported, not synced. */
    async listTestGroups(): Promise<{ groups: TestGroup[]; skipped: string[] }> {
      const all = await limited(() => uyuni.listAllGroups());
      const groups: TestGroup[] = [];
      const skipped: string[] = [];
      for (const g of all) {
        if (!isTestGroup(g.name, deps.config.uyuni.testGroupPrefix)) continue;
        const os = osFromGroup(g.name);
        if (os) groups.push({ name: g.name, os });
        else skipped.push(g.name);
      }
      return { groups: groups.sort((a, b) => a.name.localeCompare(b.name)), skipped };
    },

    /** The group's systems, recorded as test systems (name, minion id) for leasing by tests. */
    async listGroupSystems(group: TestGroup): Promise<number[]> {
      const systems = await limited(() => uyuni.listSystems(group.name));
      await upsertTestSystems(
        db,
        systems.map((s) => ({ systemId: s.id, name: s.profileName, os: group.os, groupName: group.name, minionId: s.minionId })),
      );
      return systems.map((s) => s.id).sort((a, b) => a - b);
    },

    /**
     * getRelevantErrata for each system of a chunk (in parallel under the process-wide limit), deduplicated
     * by advisory, staged in PostgreSQL. A system UYUNI no longer knows is reported and skipped.
     */
    async collectRelevantErrata(input: { syncRunId: number; chunk: number; systems: { id: number; os: string }[] }): Promise<ChunkResult> {
      const byAdvisory = new Map<string, StagedErratum>();
      const errors: SyncError[] = [];
      let done = 0;
      let calls = 0;
      const add = (system: { id: number; os: string }, e: ErrataOverview) => {
        let row = byAdvisory.get(e.advisoryName);
        if (!row) {
          row = {
            advisoryName: own(e.advisoryName),
            uyuniErrataId: e.id,
            advisoryType: own(e.advisoryType),
            advisoryStatus: e.advisoryStatus ? own(e.advisoryStatus) : null,
            synopsis: e.advisorySynopsis ? own(e.advisorySynopsis) : null,
            issueDate: dayOf(e.issueDate),
            updateDate: dayOf(e.updateDate),
            rebootSuggested: e.reboot,
            targetOs: [],
            systemIds: [],
          };
          byAdvisory.set(row.advisoryName, row);
        }
        if (!row.targetOs.includes(system.os)) row.targetOs.push(system.os);
        row.systemIds.push(system.id);
      };
      await Promise.all(
        input.systems.map((system) =>
          uyuniLimit(async () => {
            calls++;
            try {
              for (const e of await uyuni.getRelevantErrata(system.id)) add(system, e);
            } catch (err) {
              if (err instanceof UyuniNotFoundError) {
                errors.push({ scope: `system ${system.id}`, message: err.message });
                return;
              }
              throw toApplicationFailure(err);
            }
            heartbeat({ done: ++done });
          }),
        ),
      );
      await stageChunk(db, input.syncRunId, input.chunk, [...byAdvisory.values()]);
      return { systems: input.systems.length - errors.length, errata: byAdvisory.size, calls, errors };
    },

    async planAdvisoryDetails(input: { syncRunId: number }): Promise<number> {
      return planDetails(db, input.syncRunId);
    },

    /** Details (description, UYUNI severity) for a range of planned advisories; CVEs only for Security Advisories. */
    async fetchAdvisoryDetails(input: { syncRunId: number; fromSeq: number; toSeq: number }): Promise<DetailsResult> {
      const slice = await plannedSlice(db, input.syncRunId, input.fromSeq, input.toSeq);
      const errors: SyncError[] = [];
      let calls = 0;
      let cvesFetched = 0;
      const details = await Promise.all(
        slice.map(async ({ advisory_name: name, advisory_type: type }): Promise<AdvisoryDetails> => {
          const isSecurity = type === 'Security Advisory';
          try {
            const [info, cves] = await Promise.all([
              uyuniLimit(() => (calls++, uyuni.getErrataDetails(name))),
              isSecurity ? uyuniLimit(() => (calls++, uyuni.listCves(name))) : Promise.resolve([] as string[]),
            ]);
            if (isSecurity) cvesFetched++;
            heartbeat();
            return {
              advisoryName: name,
              description: info.description || null,
              uyuniSeverity: info.severity,
              severity: mapSeverity(type, info.severity),
              cves: [...new Set(cves)].sort(),
              rebootSuggested: info.rebootSuggested,
            };
          } catch (err) {
            // Retracted or deleted between the listing and now: keep what we know, report it.
            if (err instanceof UyuniNotFoundError && err.kind === 'advisory') {
              errors.push({ scope: `advisory ${name}`, message: err.message });
              return { advisoryName: name, description: null, uyuniSeverity: null, severity: mapSeverity(type, null), cves: [], rebootSuggested: null };
            }
            throw toApplicationFailure(err);
          }
        }),
      );
      await saveDetails(db, input.syncRunId, details);
      return { advisories: slice.length, cvesFetched, calls, errors };
    },

    async commitSync(input: CommitInput) {
      const result = await commitSync(db, input.syncRunId, input);
      const { bytesDecoded, decodeMs, decodeMBps, totalCalls, relogins } = uyuni.stats();
      // Cumulative for this worker process: what bench/sync reads to report the decoder's throughput.
      log.info({ syncRunId: input.syncRunId, ...result, uyuniClient: { bytesDecoded, decodeMs, decodeMBps, totalCalls, relogins } }, 'sync committed');
      // issue 14: NVD / EPSS / KEV enrichment of what the sync brought, in its own workflow (never waited for here).
      if (deps.config.intel.afterSync && deps.temporal) {
        await wakeIntel(deps.temporal, deps.config).catch((err: unknown) => log.warn({ err }, 'could not wake the intel-enrichment workflow'));
      }
      return result;
    },

    /**
     * Retracted advisories (issue 15): asks UYUNI (errata.getDetails → advisory_status) about every advisory the
     * orchestrator may still act on and records each retraction (cancel, halt, event; activities/shared/retraction.ts).
     * The relevant-errata lists cannot tell: UYUNI leaves a retracted patch out of them, and an applied one is no
     * longer relevant to its test system. Advisories already known as retracted with items left to cancel or
     * halt are handled again. Returns the advisories found retracted by this run.
     */
    async checkRetractions(): Promise<{ retracted: string[]; cancelled: number; halted: number }> {
      const names = await advisoriesToCheck(db);
      const found: string[] = [];
      await Promise.all(
        names.map((name) =>
          uyuniLimit(async () => {
            try {
              const details = await uyuni.getErrataDetails(name);
              if (details.advisoryStatus === 'retracted') found.push(name);
            } catch (err) {
              // Deleted from UYUNI (not retracted): nothing to conclude here.
              if (err instanceof UyuniNotFoundError) return;
              throw toApplicationFailure(err);
            }
            heartbeat();
          }),
        ),
      );
      let cancelled = 0;
      let halted = 0;
      for (const name of [...new Set([...found, ...(await retractedWithOpenItems(db))])].sort()) {
        const r = await retractAdvisory({ db, temporal: deps.temporal, log }, name, 'sync');
        cancelled += r.cancelled.length;
        halted += r.halts.length;
      }
      return { retracted: found.sort(), cancelled, halted };
    },

    async failSyncRun(input: { syncRunId: number; error: string; errors: SyncError[] }): Promise<void> {
      await failSyncRun(db, input.syncRunId, input.error, input.errors);
      await discardStaging(db, input.syncRunId);
    },
  };
}
