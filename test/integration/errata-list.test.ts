import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERRATA_COUNT_AHEAD } from '../../db/queries/errata.js';
import { bearer, startTestApi, type TestApi } from '../support/api.js';
import { isolatedDatabase } from '../support/context.js';

// GET /errata over a cache larger than its bounded count: the default page (relevant advisories by severity,
// newest update first) comes from errata_cache_relevant_severity_idx in the same order as before, and the total
// is exact up to offset + ERRATA_COUNT_AHEAD rows, else a lower bound that says so (total_capped).

describe('GET /errata: order and bounded total over a large cache', () => {
  let api: TestApi;
  const relevant = ERRATA_COUNT_AHEAD + 300;
  const get = async (url: string) => {
    const r = await api.app.inject({ method: 'GET', url, headers: bearer('viewer') });
    expect(r.statusCode, r.body).toBe(200);
    return r.json();
  };

  beforeAll(async () => {
    api = await startTestApi({ DB_NAME: await isolatedDatabase('errata_list') });
    // `relevant` advisories for a test system, 40 that are not; severities and update dates spread out
    await sql`insert into errata_cache (advisory_name, advisory_type, severity, synopsis, cves, target_os, test_system_ids, update_date)
              select 'LIST-' || lpad(i::text, 6, '0'), 'Security Advisory', (array['Critical', 'High', 'Medium', 'Low'])[1 + i % 4], 'synopsis ' || i,
                     array['CVE-2026-' || lpad(i::text, 5, '0')], array['rhel'], case when i <= ${relevant} then array[1] else array[]::integer[] end,
                     case when i % 9 = 0 then null else date '2026-01-01' + (i % 300) end
              from generate_series(1, ${relevant + 40}) i`.execute(api.db);
    await sql`analyze errata_cache`.execute(api.db);
  });
  afterAll(async () => api?.close());

  it('a match larger than the bound: total is the bound and total_capped says "more than"', async () => {
    const first = await get('/api/v1/errata?relevant=true&limit=50');
    expect(first).toMatchObject({ total: ERRATA_COUNT_AHEAD, total_capped: true, limit: 50, offset: 0 });
    // further on, the bound moves with the offset: near the end the count is exact again
    const late = await get(`/api/v1/errata?relevant=true&limit=50&offset=${relevant - 100}`);
    expect(late).toMatchObject({ total: relevant, total_capped: false });
    expect(late.items).toHaveLength(50);
    // a small match is counted exactly
    expect(await get('/api/v1/errata?relevant=false')).toMatchObject({ total: 40, total_capped: false });
  });

  it('the default order is severity, newest update first (undated first, as PostgreSQL sorts nulls in descending order), then name, as the unindexed sort gave', async () => {
    const { rows } = await sql<{ advisory_name: string }>`
      select advisory_name from errata_cache where cardinality(test_system_ids) > 0
      order by case severity when 'Critical' then 1 when 'High' then 2 when 'Medium' then 3 else 4 end, update_date desc, advisory_name
      limit 120 offset 1230`.execute(api.db);
    const page = [...(await get('/api/v1/errata?relevant=true&limit=60&offset=1230')).items, ...(await get('/api/v1/errata?relevant=true&limit=60&offset=1290')).items];
    expect(page.map((e: { advisory_name: string }) => e.advisory_name)).toEqual(rows.map((r) => r.advisory_name));
  });
});
