import { Type } from '@sinclair/typebox';
import type { SyncRunRow } from '../../../db/database.js';

export const SyncRunSchema = Type.Object({
  id: Type.Integer(),
  workflow_id: Type.String(),
  run_id: Type.String(),
  trigger: Type.String(),
  status: Type.Union([Type.Literal('running'), Type.Literal('succeeded'), Type.Literal('failed')]),
  started_at: Type.String({ format: 'date-time' }),
  finished_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  duration_ms: Type.Union([Type.Integer(), Type.Null()]),
  groups_count: Type.Integer(),
  systems_count: Type.Integer(),
  errata_count: Type.Integer(),
  errata_inserted: Type.Integer(),
  errata_updated: Type.Integer(),
  cves_fetched: Type.Integer(),
  uyuni_calls: Type.Integer(),
  phase_durations: Type.Record(Type.String(), Type.Number()),
  errors: Type.Array(Type.Object({ scope: Type.String(), message: Type.String() })),
  error: Type.Union([Type.String(), Type.Null()]),
});

export function toSyncRun(r: SyncRunRow) {
  return { ...r, started_at: r.started_at.toISOString(), finished_at: r.finished_at?.toISOString() ?? null };
}

export const SyncProgressSchema = Type.Object({
  phase: Type.String(),
  syncRunId: Type.Union([Type.Integer(), Type.Null()]),
  groups: Type.Object({ done: Type.Integer(), total: Type.Integer() }),
  systems: Type.Object({ done: Type.Integer(), total: Type.Integer() }),
  errata: Type.Object({ seen: Type.Integer(), detailsDone: Type.Integer(), detailsTotal: Type.Integer() }),
  uyuniCalls: Type.Integer(),
  errors: Type.Integer(),
});

export const SyncSummarySchema = Type.Object({
  syncRunId: Type.Integer(),
  groups: Type.Integer(),
  systems: Type.Integer(),
  errata: Type.Integer(),
  inserted: Type.Integer(),
  updated: Type.Integer(),
  cvesFetched: Type.Integer(),
  uyuniCalls: Type.Integer(),
  durationMs: Type.Integer(),
  errors: Type.Array(Type.Object({ scope: Type.String(), message: Type.String() })),
});
