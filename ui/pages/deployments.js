import { useState } from 'preact/hooks';
import { api } from '../lib/api.js';
import { ago, span, when } from '../lib/format.js';
import { html } from '../lib/html.js';
import { usePoll } from '../lib/poll.js';
import { Badge, ErrorNote, Loading, Pager, Select, Severity } from '../components/common.js';
import { RolloutBar } from '../components/charts.js';
import { ConfirmDialog } from '../components/dialog.js';
import { OSES } from './queue.js';

const STATUSES = ['approved', 'promoting', 'halted', 'prod_applied', 'completed', 'prod_rolled_back', 'prod_rollback_failed'];
const LIMIT = 50;
const ROLLBACK_FROM = ['promoting', 'halted', 'prod_applied', 'completed'];

/** GET /deployments: approved patches and their rollouts; an approved one can be started from here. */
export function DeploymentList({ me }) {
  const [status, setStatus] = useState('');
  const [os, setOs] = useState('');
  const [offset, setOffset] = useState(0);
  const [error, setError] = useState(null);
  const f = (set) => (v) => (set(v), setOffset(0));
  const { data, error: loadError, loading } = usePoll(
    (signal) => api('/deployments', { signal, params: { status: status || undefined, target_os: os || undefined, limit: LIMIT, offset } }),
    [status, os, offset],
  );
  const start = async (queueId) => {
    setError(null);
    try {
      await api('/deployments', { method: 'POST', body: { queue_id: queueId } });
      location.hash = `#/deployments/${queueId}`;
    } catch (err) {
      setError(err);
    }
  };
  return html`<section aria-labelledby="deployments-title">
    <h1 id="deployments-title">Deployments</h1>
    <form class="filters" aria-label="Deployment filters" onSubmit=${(e) => e.preventDefault()}>
      <${Select} id="d-status" label="Status" value=${status} options=${STATUSES} onChange=${f(setStatus)} />
      <${Select} id="d-os" label="OS" value=${os} options=${OSES} onChange=${f(setOs)} />
    </form>
    <${ErrorNote} error=${loadError ?? error} />
    <${Loading} when=${loading && !data} />
    ${data
      ? html`<table data-testid="deployments-table"><caption class="sr-only">Production rollouts</caption>
          <thead><tr><th scope="col">item</th><th scope="col">advisory</th><th scope="col">OS</th><th scope="col">severity</th><th scope="col">status</th>
            <th scope="col">systems</th><th scope="col">failed</th><th scope="col">started</th><th scope="col"><span class="sr-only">actions</span></th></tr></thead>
          <tbody>${data.items.map((d) => html`<tr key=${d.queue_id}>
            <td>${d.targets ? html`<a href=${`#/deployments/${d.queue_id}`}>#${d.queue_id}</a>` : `#${d.queue_id}`}</td><td>${d.advisory_name}</td><td>${d.target_os}</td>
            <td><${Severity} value=${d.severity} /></td><td><${Badge} value=${d.status} /> <span class="muted small">${ago(d.status_changed_at)}</span></td>
            <td>${d.targets ? html`<${RolloutBar} applied=${d.applied} failed=${d.failed} targets=${d.targets} /> ${d.applied}/${d.targets} applied` : '—'}</td>
            <td>${d.failed ?? '—'}</td><td>${ago(d.started_at)}</td>
            <td>${d.status === 'approved' && !d.targets && me.may.write
              ? html`<button type="button" class="primary" onClick=${() => start(d.queue_id)}>Start rollout<span class="sr-only"> of ${d.advisory_name} ${d.target_os}</span></button>`
              : d.status === 'approved' && !d.targets ? html`<span class="muted">ready</span>` : html`<a href=${`#/deployments/${d.queue_id}`}>View<span class="sr-only"> rollout of ${d.advisory_name}</span></a>`}</td>
          </tr>`)}</tbody></table>
          <${Pager} total=${data.total} limit=${LIMIT} offset=${offset} onChange=${setOffset} label="rollouts" />`
      : null}
  </section>`;
}

/** One rollout (GET /deployments/:id, polled): waves as steps, budget, systems, halt and rollback. */
export function DeploymentPage({ id, me }) {
  const { data, error, loading, refresh } = usePoll((signal) => api(`/deployments/${id}`, { signal }), [id]);
  return html`<section aria-labelledby="deployment-title">
    <p><a href="#/deployments">← all deployments</a></p>
    <h1 id="deployment-title">Rollout of queue item ${id}${data ? html`: ${data.advisory_name} (${data.target_os})` : null}</h1>
    ${error?.status === 404 ? html`<p class="muted">No rollout has started for this item yet; this page follows it once it does.</p>` : html`<${ErrorNote} error=${error} />`}
    <${Loading} when=${loading && !data} />
    ${data ? html`<${DeploymentBody} d=${data} me=${me} onChanged=${refresh} />` : null}
  </section>`;
}

function DeploymentBody({ d, me, onChanged }) {
  const [asking, setAsking] = useState(null);
  const live = d.live;
  const waves = wavesOf(d);
  const failed = live?.failed ?? d.systems.filter((s) => s.status === 'failed' || ((s.status === 'rolled_back' || s.status === 'rollback_failed') && s.error)).length;
  const policy = d.policy;
  const budgetCount = live?.budget.count ?? policy?.failureBudgetCount;
  const budgetPercent = live?.budget.percent ?? policy?.failureBudgetPercent;
  const targets = live?.targets ?? d.systems.length;
  const exceeded = live?.budget.exceeded ?? (budgetCount !== undefined && (failed > budgetCount || (targets > 0 && (failed * 100) / targets > budgetPercent)));
  const rollbackBySystem = new Map(d.rollbacks.map((r) => [r.system_id, r]));
  const canaryDone = waves[0]?.state === 'done';
  const soakEnds = d.soak_ends_at;
  return html`
    <div class="card summary">
      <p><${Badge} value=${d.queue_status} /> ${live?.haltReason ? html`<span class="error">${live.haltReason}</span>` : null}</p>
      <div class="row" role="group" aria-label="Rollout actions">
        ${me.may.write && d.queue_status === 'promoting' ? html`<button type="button" class="danger" onClick=${() => setAsking('halt')}>Halt rollout</button>` : null}
        ${me.may.write && ROLLBACK_FROM.includes(d.queue_status) ? html`<button type="button" class="danger" onClick=${() => setAsking('rollback')}>Roll back production</button>` : null}
      </div>
    </div>

    <section class="card" aria-labelledby="waves-title">
      <h2 id="waves-title">Waves</h2>
      <ol class="steps" data-testid="waves">
        ${waves.map((w, i) => html`
          <li class=${`step step-${w.state}`} data-state=${w.state}>
            <strong>${w.wave === 0 ? 'Canary' : `Wave ${w.wave}`}</strong> <${Badge} value=${w.state} />
            <div class="small">${w.systems} system${w.systems === 1 ? '' : 's'} · ${w.applied} applied${w.failed ? `, ${w.failed} failed` : ''}</div>
          </li>
          ${i === 0 && waves.length > 1 && policy?.soakSeconds > 0 ? html`<${SoakStep} policy=${policy} soakEnds=${soakEnds} canaryDone=${canaryDone} next=${waves[1]} />` : null}`)}
      </ol>
    </section>

    <section class="card" aria-labelledby="budget-title">
      <h2 id="budget-title">Failure budget</h2>
      <p data-testid="budget"><strong>${failed}</strong> failed of ${targets} systems · allowed: at most ${budgetCount ?? '—'} systems and ${budgetPercent ?? '—'} %
        ${exceeded ? html` · <${Badge} value="exceeded" />` : null}</p>
      <meter min="0" max=${Math.max(1, (budgetCount ?? 0) + 1)} value=${failed} low=${budgetCount ?? 0} high=${budgetCount ?? 0} optimum="0" aria-label="failures against the budget"></meter>
      ${policy ? html`<p class="small muted">Policy: canary ${policy.canarySize}, then waves of ${policy.waveSize}; soak ${span(policy.soakSeconds * 1000)}.</p>` : null}
    </section>

    <section class="card" aria-labelledby="systems-title">
      <h2 id="systems-title">Systems (${d.systems.length})</h2>
      <table data-testid="deployment-systems"><caption class="sr-only">Production systems of this rollout</caption>
        <thead><tr><th scope="col">wave</th><th scope="col">system</th><th scope="col">group</th><th scope="col">state</th><th scope="col">UYUNI action</th>
          <th scope="col">finished</th><th scope="col">error</th><th scope="col">rollback</th></tr></thead>
        <tbody>${d.systems.map((s) => {
          const rb = rollbackBySystem.get(s.system_id);
          return html`<tr key=${s.system_id}><td>${s.wave === 0 ? 'canary' : s.wave}</td><td>${s.system_name}</td><td>${s.group_name ?? '—'}</td>
            <td><${Badge} value=${s.status} /></td><td>${s.uyuni_action_id ?? '—'}</td><td>${s.completed_at ? when(s.completed_at) : '—'}</td>
            <td class="small">${s.error ?? ''}</td><td>${rb ? html`<${Badge} value=${rb.status} />${rb.error ? html` <span class="small">${rb.error}</span>` : null}` : '—'}</td></tr>`;
        })}</tbody></table>
    </section>

    ${d.rollbacks.length || d.halts.length
      ? html`<section class="card" aria-labelledby="actions-title"><h2 id="actions-title">Halts and rollbacks</h2>
          <ul>
            ${d.halts.map((h) => html`<li>Halt asked by <strong>${h.requested_by}</strong> (${h.source}) ${when(h.requested_at)}: ${h.reason}</li>`)}
            ${d.rollbacks.length ? html`<li>Rollback of ${d.rollbacks.length} patched system${d.rollbacks.length === 1 ? '' : 's'} asked by <strong>${d.rollbacks[0].requested_by ?? '—'}</strong>: ${d.rollbacks[0].reason ?? ''} —
              ${d.rollbacks.filter((r) => r.status === 'succeeded').length} succeeded, ${d.rollbacks.filter((r) => r.status === 'failed').length} failed, ${d.rollbacks.filter((r) => r.status === 'running').length} running</li>` : null}
          </ul></section>`
      : null}

    ${asking === 'halt'
      ? html`<${ConfirmDialog} title="Halt this rollout?" message="No further wave starts; the wave in flight finishes; systems not reached stay untouched." confirmLabel="Halt" danger=${true} reasonRequired=${true}
          onConfirm=${({ reason }) => api(`/deployments/${d.queue_id}/halt`, { method: 'POST', body: { reason, source: 'dashboard' } }).then(onChanged)} onClose=${() => setAsking(null)} />`
      : null}
    ${asking === 'rollback'
      ? html`<${ConfirmDialog} title="Roll back production?" message="The rollout is halted, then every system UYUNI patched gets its versions from before the patch back, each verified." confirmLabel="Roll back" danger=${true} reasonRequired=${true}
          onConfirm=${({ reason }) => api(`/deployments/${d.queue_id}/rollback`, { method: 'POST', body: { reason } }).then(onChanged)} onClose=${() => setAsking(null)} />`
      : null}`;
}

/** The soak between the canary and wave 1: waiting, soaking until its end time, over, or cut short by a halt. */
function SoakStep({ policy, soakEnds, canaryDone, next }) {
  const over = next.state === 'running' || next.state === 'done' || (soakEnds && Date.parse(soakEnds) <= Date.now());
  const state = next.state === 'skipped' ? 'skipped' : over ? 'done' : canaryDone ? 'running' : 'pending';
  const text =
    state === 'skipped' ? `halted during the soak${soakEnds ? ` (it would have ended ${when(soakEnds)})` : ''}`
    : soakEnds ? `${state === 'done' ? 'ended' : 'ends'} ${when(soakEnds)}`
    : 'after the canary';
  return html`<li class=${`step step-${state}`} data-state=${state}>
    <strong>Soak</strong> <span class="small">${span(policy.soakSeconds * 1000)}</span> <${Badge} value=${state} />
    <div class="small">${text}</div>
  </li>`;
}

/** The waves with their state: from the live workflow when it answers, else from the systems' rows. */
function wavesOf(d) {
  const byWave = new Map();
  for (const s of d.systems) {
    const w = byWave.get(s.wave) ?? { wave: s.wave, systems: 0, applied: 0, failed: 0, open: 0, skipped: 0 };
    w.systems += 1;
    if (s.status === 'applied' || (s.status === 'rolled_back' && !s.error)) w.applied += 1;
    if (s.status === 'failed') w.failed += 1;
    if (['applying', 'rebooting', 'verifying'].includes(s.status)) w.open += 1;
    if (s.status === 'skipped') w.skipped += 1;
    byWave.set(s.wave, w);
  }
  const liveState = new Map((d.live?.waves ?? []).map((w) => [w.wave, w.state]));
  return [...byWave.values()]
    .sort((a, b) => a.wave - b.wave)
    .map((w) => ({
      ...w,
      state: liveState.get(w.wave) ?? (w.skipped === w.systems ? 'skipped' : w.open ? 'running' : w.applied + w.failed === w.systems || w.applied + w.failed + w.skipped === w.systems ? 'done' : 'pending'),
    }));
}

