import { api } from '../lib/api.js';
import { ago, hours, label, num, span } from '../lib/format.js';
import { html } from '../lib/html.js';
import { usePoll } from '../lib/poll.js';
import { Badge, Counts, ErrorNote, Loading, Stat } from '../components/common.js';
import { DailyChart, RolloutBar } from '../components/charts.js';

/** The morning view: one request (GET /overview) every few seconds. */
export function Overview() {
  const { data, error, loading } = usePoll((signal) => api('/overview', { signal }), []);
  return html`<section aria-labelledby="overview-title">
    <h1 id="overview-title">Overview</h1>
    <${ErrorNote} error=${error} />
    <${Loading} when=${loading && !data} />
    ${data ? html`<${OverviewBody} o=${data} />` : null}
  </section>`;
}

function OverviewBody({ o }) {
  const s = o.last_sync;
  return html`
    <div class="cards">
      <section class="card" aria-labelledby="ov-sync" data-testid="overview-sync">
        <h2 id="ov-sync">Last sync</h2>
        ${s
          ? html`<p><${Badge} value=${s.status} /> ${s.finished_at ? html`finished <strong>${ago(s.finished_at)}</strong>` : html`started ${ago(s.started_at)}`}
              ${s.duration_ms !== null ? html`, took ${span(s.duration_ms)}` : null}</p>
              <dl class="counts">
                <div><dt>systems</dt><dd data-testid="sync-systems">${num(s.systems_count)}</dd></div>
                <div><dt>errata</dt><dd data-testid="sync-errata">${num(s.errata_count)}</dd></div>
                <div><dt>new</dt><dd>${num(s.errata_inserted)}</dd></div>
                <div><dt>changed</dt><dd>${num(s.errata_updated)}</dd></div>
                <div><dt>errors</dt><dd>${num(s.errors.length)}</dd></div>
              </dl>
              ${s.error ? html`<p class="error">${s.error}</p>` : null}
              ${s.errors.length ? html`<ul class="errors">${s.errors.slice(0, 5).map((e) => html`<li><code>${e.scope}</code> ${e.message}</li>`)}</ul>` : null}`
          : html`<p class="muted">No sync has run yet.</p>`}
      </section>
      <section class="card" aria-labelledby="ov-approvals" data-testid="overview-approvals">
        <h2 id="ov-approvals">Waiting for a decision</h2>
        <div class="stats">
          <${Stat} label="pending" value=${html`<span data-testid="pending-count">${o.approvals.pending}</span>`} />
          <${Stat} label="snoozed" value=${o.approvals.snoozed} />
          <${Stat} label="oldest waits" value=${hours(o.approvals.oldest_hours_pending)} />
        </div>
        <p><a href="#/approvals">Open the inbox</a></p>
      </section>
      <section class="card" aria-labelledby="ov-systems" data-testid="overview-systems">
        <h2 id="ov-systems">Test systems</h2>
        <div class="stats">
          <${Stat} label="total" value=${html`<span data-testid="systems-total">${o.test_systems.total}</span>`} />
          <${Stat} label="leased" value=${o.test_systems.leased} />
          <${Stat} label="quarantined" value=${o.test_systems.quarantined} />
        </div>
        ${o.test_systems.quarantined_systems.length
          ? html`<ul>${o.test_systems.quarantined_systems.map((q) => html`<li><strong>${q.name}</strong> (${q.os}) since ${ago(q.quarantined_at)}: ${q.quarantine_reason}</li>`)}</ul>`
          : null}
        <p><a href="#/test-systems">All test systems</a></p>
      </section>
    </div>

    <section class="card" aria-labelledby="ov-queue" data-testid="overview-queue">
      <h2 id="ov-queue">Queue <span class="muted">(${html`<span data-testid="queue-total">${num(o.queue.total)}</span>`} items, average score ${o.queue.avg_score ?? '—'})</span></h2>
      <div class="cols">
        <div><h3>by status</h3><${Counts} counts=${o.queue.by_status} caption="queue by status" /></div>
        <div><h3>by OS</h3><${Counts} counts=${o.queue.by_os} caption="queue by OS" /></div>
        <div><h3>by severity</h3><${Counts} counts=${o.queue.by_severity} caption="queue by severity" /></div>
      </div>
    </section>

    <div class="cards two">
      <section class="card" aria-labelledby="ov-tests">
        <h2 id="ov-tests">Running tests (${o.running_tests.total})</h2>
        ${o.running_tests.items.length
          ? html`<table><caption class="sr-only">Running tests</caption>
              <thead><tr><th scope="col">advisory</th><th scope="col">system</th><th scope="col">phase</th><th scope="col">since</th></tr></thead>
              <tbody>${o.running_tests.items.map((t) => html`<tr>
                <td><a href=${`#/tests/${t.id}`}>${t.advisory_name}</a></td><td>${t.test_system_name ?? 'waiting for a system'}</td>
                <td>${label(t.current_phase)}</td><td>${ago(t.started_at)}</td></tr>`)}</tbody></table>`
          : html`<p class="muted">No test is running.</p>`}
      </section>
      <section class="card" aria-labelledby="ov-rollouts">
        <h2 id="ov-rollouts">Rollouts in progress (${o.running_rollouts.total})</h2>
        ${o.running_rollouts.items.length
          ? html`<table><caption class="sr-only">Rollouts in progress</caption>
              <thead><tr><th scope="col">advisory</th><th scope="col">progress</th><th scope="col">failed</th></tr></thead>
              <tbody>${o.running_rollouts.items.map((d) => html`<tr>
                <td><a href=${`#/deployments/${d.queue_id}`}>${d.advisory_name}</a> (${d.target_os})</td>
                <td><${RolloutBar} applied=${d.applied} failed=${d.failed} targets=${d.targets} /> ${d.applied ?? 0}/${d.targets ?? 0}</td><td>${d.failed ?? 0}</td></tr>`)}</tbody></table>`
          : html`<p class="muted">No rollout is running.</p>`}
      </section>
    </div>

    <section class="card" aria-labelledby="ov-daily">
      <h2 id="ov-daily">Tests per day (last 30 days)</h2>
      <${DailyChart} days=${o.daily} />
    </section>`;
}
