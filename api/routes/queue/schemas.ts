import { Type } from '@sinclair/typebox';
import { TARGET_OSES } from '../../../domain/os.js';
import { QUEUE_STATUSES } from '../../../domain/queue-status.js';
import { SEVERITIES } from '../../../domain/severity.js';

import { Paging, SafeText } from '../../schemas/common.js';
import { CveIntel, ErratumIntel, IntelFilterQuery } from '../../schemas/intel.js';
import { Nullable, StringEnum } from '../../schemas/types.js';

export const literals = StringEnum;
const DateTime = Type.String({ format: 'date-time' });

export const PriorityOverride = Type.Integer({ minimum: 1, maximum: 1000, description: '1 = first; unset items come after every set one' });
export const Notes = SafeText({ maxLength: 2000 });

export const QueueItem = Type.Object({
  id: Type.Integer(),
  advisory_name: Type.String(),
  target_os: Type.String(),
  status: literals(QUEUE_STATUSES),
  status_changed_at: DateTime,
  priority_override: Nullable(Type.Integer()),
  notes: Nullable(Type.String()),
  success_score: Nullable(Type.Integer()),
  requires_reboot: Type.Boolean(),
  queued_by: Nullable(Type.String()),
  workflow_id: Nullable(Type.String()),
  test_system_id: Nullable(Type.Integer()),
  severity: literals(SEVERITIES),
  synopsis: Nullable(Type.String()),
  advisory_type: Type.String(),
  cves: Type.Array(Type.String()),
  created_at: DateTime,
  updated_at: DateTime,
  intel: ErratumIntel,
  cve_intel: Type.Array(CveIntel),
});

export const QueueRequestBody = Type.Object(
  {
    advisories: Type.Array(SafeText({ minLength: 1, maxLength: 200 }), { minItems: 1, maxItems: 100, uniqueItems: true }),
    target_os: Type.Optional(literals(TARGET_OSES)),
    priority_override: Type.Optional(PriorityOverride),
    notes: Type.Optional(Notes),
  },
  { additionalProperties: false },
);

export const QueuePatchBody = Type.Object(
  {
    priority_override: Type.Optional(Nullable(PriorityOverride)),
    notes: Type.Optional(Nullable(Notes)),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const QueueListQuery = Type.Object(
  {
    status: Type.Optional(Type.Array(literals(QUEUE_STATUSES), { description: 'repeatable; default: all but cancelled', maxItems: QUEUE_STATUSES.length, uniqueItems: true })),
    target_os: Type.Optional(literals(TARGET_OSES)),
    severity: Type.Optional(Type.Array(literals(SEVERITIES), { maxItems: SEVERITIES.length, uniqueItems: true })),
    ...IntelFilterQuery,
    ...Paging({ defaultLimit: 50, maxLimit: 500 }),
  },
  { additionalProperties: false },
);

export const ScoreLine = Type.Object({ term: Type.String(), points: Type.Number(), reason: Type.String() });

export const RiskProfile = Type.Object({
  success_score: Type.Integer(),
  has_kernel: Type.Boolean(),
  requires_reboot: Type.Boolean(),
  has_config_files: Type.Boolean(),
  dependency_count: Type.Integer(),
  total_size_bytes: Type.Number(),
  failure_history_count: Type.Integer(),
  breakdown: Type.Object({
    score: Type.Integer(),
    raw: Type.Number(),
    lines: Type.Array(ScoreLine),
    history: Type.Object({ tests: Type.Integer(), failures: Type.Integer() }),
  }),
  weights: Type.Record(Type.String(), Type.Number()),
  computed_at: DateTime,
});

export const QueueRequestRunning = Type.Object(
  {
    request_id: Type.String({ format: 'uuid' }),
    workflow_id: Type.String(),
    status: Type.Literal('running'),
    poll: Type.String({ description: 'GET this for the items once queued, or why it failed' }),
  },
  { description: 'still running after the wait bound' },
);

