import { ApplicationFailure } from '@temporalio/common';
import type { Db } from '../../db/connection.js';
import type { ErrataPackage } from '../../db/database.js';
import { json } from '../../db/json.js';
import { failureHistory, findActiveItems, insertQueueRow, rowsOfRequest } from '../../db/queries/queue.js';
import { successScore } from '../../domain/score.js';
import type { ActivityDeps } from '../index.js';
import type { UyuniClient } from '../uyuni/client.js';
import { toApplicationFailure } from '../uyuni/failure.js';
import { loadScoreWeights } from './score-weights.js';

export interface QueueRequest {
  requestId: string;
  requestedBy: string;
  items: { advisoryName: string; targetOs: string }[];
  priorityOverride: number | null;
  notes: string | null;
}

async function fetchPackages(db: Db, uyuni: UyuniClient, advisoryName: string): Promise<void> {
  let packages: ErrataPackage[];
  try {
    packages = (await uyuni.listPackages(advisoryName)).map((p) => ({
      id: p.id,
      name: p.name,
      epoch: p.epoch,
      version: p.version,
      release: p.release,
      arch: p.archLabel,
      size: p.size ?? 0,
    }));
  } catch (err) {
    throw toApplicationFailure(err);
  }
  await db
    .updateTable('errata_cache')
    .set({ packages: json(packages), packages_fetched_at: new Date() })
    .where('advisory_name', '=', advisoryName)
    .execute();
}

export function createQueueActivities(deps: Pick<ActivityDeps, 'db' | 'uyuni' | 'uyuniLimit' | 'config'>) {
  const { db, uyuni, uyuniLimit } = deps;
  return {
    /** errata.listPackages on demand, kept in errata_cache.packages (fetched once per advisory). */
    async fetchErrataPackages(input: { advisories: string[] }): Promise<{ fetched: number }> {
      const missing = await db
        .selectFrom('errata_cache')
        .select('advisory_name')
        .where('advisory_name', 'in', input.advisories)
        .where('packages', 'is', null)
        .execute();
      await Promise.all(missing.map((m) => uyuniLimit(() => fetchPackages(db, uyuni, m.advisory_name))));
      return { fetched: missing.length };
    },

    /**
     * Scores each advisory and inserts its queue row and risk profile, all in one transaction. Idempotent:
     * a retry of a committed request returns its rows. An advisory already queued for the OS fails the
     * whole request (nothing half-inserted) with the existing ids.
     */
    async insertQueueItems(req: QueueRequest): Promise<number[]> {
      const done = await rowsOfRequest(db, req.requestId);
      if (done.length) return done.map((r) => r.id);

      const existing = await findActiveItems(db, req.items);
      if (existing.length) {
        throw ApplicationFailure.create({
          type: 'AlreadyQueued',
          nonRetryable: true,
          message: existing.map((e) => `${e.advisory_name} is already queued for ${e.target_os} as item ${e.id} (${e.status})`).join('; '),
          details: [existing.map((e) => ({ id: e.id, advisory_name: e.advisory_name, target_os: e.target_os, status: e.status }))],
        });
      }
      const weights = await loadScoreWeights(db, deps.config.score);
      try {
        return await db.transaction().execute(async (trx) => {
          const ids: number[] = [];
          for (const item of req.items) {
            const erratum = await trx
              .selectFrom('errata_cache')
              .select(['packages', 'requires_reboot'])
              .where('advisory_name', '=', item.advisoryName)
              .executeTakeFirstOrThrow();
            const packages = erratum.packages ?? [];
            const history = await failureHistory(trx, item.advisoryName, [...new Set(packages.map((p) => p.name))]);
            const score = successScore({ packages, rebootSuggested: erratum.requires_reboot, history }, weights);
            ids.push(
              await insertQueueRow(trx, {
                advisoryName: item.advisoryName,
                targetOs: item.targetOs,
                priorityOverride: req.priorityOverride,
                notes: req.notes,
                successScore: score.score,
                requiresReboot: score.requiresReboot,
                queuedBy: req.requestedBy,
                requestId: req.requestId,
                risk: {
                  hasKernel: score.hasKernel,
                  requiresReboot: score.requiresReboot,
                  hasConfigFiles: score.hasConfigFiles,
                  dependencyCount: score.dependencyCount,
                  totalSizeBytes: score.totalSizeBytes,
                  failureHistoryCount: history.failures,
                  breakdown: { score: score.score, raw: score.raw, lines: score.lines, history },
                  weights: { ...weights },
                },
              }),
            );
          }
          return ids;
        });
      } catch (err) {
        // Lost a race with a concurrent request for the same advisory and OS.
        if ((err as { constraint?: string }).constraint === 'patch_test_queue_active_uq') {
          throw ApplicationFailure.create({ type: 'AlreadyQueued', nonRetryable: true, message: 'an advisory of this request was queued concurrently' });
        }
        throw err;
      }
    },
  };
}
