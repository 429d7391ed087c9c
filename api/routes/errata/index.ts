import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ERRATA_COUNT_AHEAD, erratumIntelOf, errataStats, getErratum, listErrata } from '../../../db/queries/errata.js';
import { CveIntel, ErratumIntel, IntelFilterQuery, intelFilterOf } from '../../schemas/intel.js';
import { lastSucceededSyncRun } from '../../../db/queries/sync-runs.js';
import { TARGET_OSES } from '../../../domain/os.js';
import { SEVERITIES } from '../../../domain/severity.js';
import { notFound } from '../../errors.js';
import { errorResponses, Paging, SafeText } from '../../schemas/common.js';
import { SyncRunSchema, toSyncRun } from '../sync/schemas.js';

const literals = <T extends string>(values: readonly T[]) => Type.Union(values.map((v) => Type.Literal(v)));
const ADVISORY_TYPES = ['Security Advisory', 'Bug Fix Advisory', 'Product Enhancement Advisory'] as const;

const ErratumSummary = Type.Object({
  advisory_name: Type.String(),
  advisory_type: Type.String(),
  advisory_status: Type.Union([Type.String(), Type.Null()]),
  synopsis: Type.Union([Type.String(), Type.Null()]),
  severity: literals(SEVERITIES),
  cves: Type.Array(Type.String()),
  target_os: Type.Array(Type.String()),
  requires_reboot: Type.Boolean(),
  issue_date: Type.Union([Type.String({ format: 'date' }), Type.Null()]),
  update_date: Type.Union([Type.String({ format: 'date' }), Type.Null()]),
  last_synced_at: Type.String({ format: 'date-time' }),
  test_systems: Type.Integer({ description: 'test systems it is relevant to now' }),
  intel: ErratumIntel,
  cve_intel: Type.Array(CveIntel, { description: 'what NVD, EPSS and KEV say about each CVE (CVEs not enriched yet are absent)' }),
});

const Package = Type.Object({
  id: Type.Integer(), name: Type.String(), epoch: Type.String(), version: Type.String(), release: Type.String(),
  arch: Type.String(), size: Type.Number(),
});

const ErratumDetail = Type.Composite([
  Type.Omit(ErratumSummary, ['test_systems']),
  Type.Object({
    uyuni_errata_id: Type.Union([Type.Integer(), Type.Null()]),
    description: Type.Union([Type.String(), Type.Null()]),
    uyuni_severity: Type.Union([Type.String(), Type.Null()]),
    packages: Type.Union([Type.Array(Package), Type.Null()], { description: 'null until fetched on queueing' }),
    test_system_ids: Type.Array(Type.Integer()),
    first_seen_at: Type.String({ format: 'date-time' }),
  }),
]);

const iso = (d: Date) => d.toISOString();

export const errataRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/cache/stats',
    {
      config: { auth: 'read' },
      schema: {
        tags: ['errata'],
        summary: 'Totals of the errata cache by type, severity and OS, and the last successful sync',
        response: {
          200: Type.Object({
            total: Type.Integer(),
            relevant: Type.Integer({ description: 'relevant to at least one test system now' }),
            requires_reboot: Type.Integer(),
            with_cves: Type.Integer(),
            cves: Type.Integer({ description: 'CVE references over all advisories' }),
            by_type: Type.Record(Type.String(), Type.Integer()),
            by_severity: Type.Record(Type.String(), Type.Integer()),
            by_os: Type.Record(Type.String(), Type.Integer()),
            last_sync: Type.Union([SyncRunSchema, Type.Null()]),
          }),
          ...errorResponses(401, 403),
        },
      },
    },
    async () => {
      const [stats, last] = await Promise.all([errataStats(app.db), lastSucceededSyncRun(app.db)]);
      return { ...stats, last_sync: last ? toSyncRun(last) : null };
    },
  );

  app.get(
    '/',
    {
      config: { auth: 'read' },
      schema: {
        tags: ['errata'],
        summary: 'The errata cache, filtered and paged',
        querystring: Type.Object(
          {
            severity: Type.Optional(Type.Array(literals(SEVERITIES), { description: 'repeatable', maxItems: SEVERITIES.length, uniqueItems: true })),
            advisory_type: Type.Optional(Type.Array(literals(ADVISORY_TYPES), { maxItems: ADVISORY_TYPES.length, uniqueItems: true })),
            os: Type.Optional(literals(TARGET_OSES)),
            cve: Type.Optional(Type.String({ pattern: '^[Cc][Vv][Ee]-\\d{4}-\\d{4,}$', maxLength: 40 })),
            search: Type.Optional(SafeText({ minLength: 1, maxLength: 200, description: 'in advisory name and synopsis' })),
            relevant: Type.Optional(Type.Boolean()),
            requires_reboot: Type.Optional(Type.Boolean()),
            sort: Type.Optional(literals(['severity', 'advisory_name', 'update_date', 'issue_date', 'urgency'] as const)),
            ...IntelFilterQuery,
            ...Paging({ defaultLimit: 50, maxLimit: 500 }),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            total: Type.Integer({ description: `advisories matching: exact when total_capped is false; counted at most ${ERRATA_COUNT_AHEAD.toLocaleString('en')} past offset, so when total_capped is true more than this many match` }),
            total_capped: Type.Boolean({ description: 'true: the count stopped at its bound and `total` is a lower bound ("more than"), not the exact number' }),
            limit: Type.Integer(),
            offset: Type.Integer(),
            items: Type.Array(ErratumSummary),
          }),
          ...errorResponses(400, 401, 403),
        },
      },
    },
    async (request) => {
      const q = request.query;
      const { total, total_capped, items } = await listErrata(
        app.db,
        {
          ...(q.severity ? { severity: q.severity } : {}),
          ...(q.advisory_type ? { advisoryType: q.advisory_type } : {}),
          ...(q.os ? { os: q.os } : {}),
          ...(q.cve ? { cve: q.cve } : {}),
          ...(q.search ? { search: q.search } : {}),
          ...(q.relevant !== undefined ? { relevant: q.relevant } : {}),
          ...(q.requires_reboot !== undefined ? { requiresReboot: q.requires_reboot } : {}),
          intel: intelFilterOf(q),
        },
        { limit: q.limit, offset: q.offset, sort: q.sort ?? 'severity' },
      );
      return { total, total_capped, limit: q.limit, offset: q.offset, items: items.map((r) => ({ ...r, last_synced_at: iso(r.last_synced_at) })) };
    },
  );

  app.get(
    '/:advisory',
    {
      config: { auth: 'read' },
      schema: {
        tags: ['errata'],
        summary: 'One advisory: metadata, CVEs, packages (once fetched) and the test systems it applies to',
        params: Type.Object({ advisory: SafeText({ minLength: 1, maxLength: 200, description: 'advisory name, e.g. RHSA-2025:0948' }) }, { additionalProperties: false }),
        response: { 200: ErratumDetail, ...errorResponses(401, 403, 404) },
      },
    },
    async (request) => {
      const row = await getErratum(app.db, request.params.advisory);
      if (!row) throw notFound(`advisory "${request.params.advisory}" (not in the errata cache; has the sync run?)`);
      const intel = await erratumIntelOf(app.db, row.advisory_name);
      return {
        intel: intel!.intel,
        cve_intel: intel!.cve_intel,
        advisory_name: row.advisory_name,
        advisory_type: row.advisory_type,
        advisory_status: row.advisory_status,
        synopsis: row.synopsis,
        severity: row.severity,
        cves: row.cves,
        target_os: row.target_os,
        requires_reboot: row.requires_reboot,
        issue_date: row.issue_date,
        update_date: row.update_date,
        last_synced_at: iso(row.last_synced_at),
        uyuni_errata_id: row.uyuni_errata_id,
        description: row.description,
        uyuni_severity: row.uyuni_severity,
        packages: row.packages,
        test_system_ids: row.test_system_ids,
        first_seen_at: iso(row.first_seen_at),
      };
    },
  );
};
