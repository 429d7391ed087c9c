import { useState } from 'preact/hooks';
import { api } from '../lib/api.js';
import { ago, label, pp, span, when } from '../lib/format.js';
import { html } from '../lib/html.js';
import { usePoll } from '../lib/poll.js';
import { Badge, ErrorNote, Loading, Pager, Select, TextInput } from '../components/common.js';
import { MetricChart } from '../components/charts.js';
import { ConfirmDialog } from '../components/dialog.js';
import { OSES } from './queue.js';

const STATUSES = ['running', 'passed', 'failed', 'rolled_back', 'inconclusive', 'cancelled'];
const PHASES = ['lease', 'snapshot', 'patch', 'reboot', 'validate', 'services', 'rollback', 'verify_rollback'];
const LIMIT = 50;

/** GET /tests: newest first, with the phase each is in. */
export function TestList() {
  const [status, setStatus] = useState('');
  const [os, setOs] = useState('');
  const [advisory, setAdvisory] = useState('');
  const [offset, setOffset] = useState(0);
  const f = (set) => (v) => (set(v), setOffset(0));
  const { data, error, loading } = usePoll(
    (signal) => api('/tests', { signal, params: { status: status || undefined, target_os: os || undefined, advisory: advisory.trim() || undefined, limit: LIMIT, offset } }),
    [status, os, advisory, offset],
  );
  return html`<section aria-labelledby="tests-title">
    <h1 id="tests-title">Tests</h1>
    <form class="filters" aria-label="Test filters" onSubmit=${(e) => e.preventDefault()}>
      <${Select} id="t-status" label="Status" value=${status} options=${STATUSES} onChange=${f(setStatus)} />
      <${Select} id="t-os" label="OS" value=${os} options=${OSES} onChange=${f(setOs)} />
      <${TextInput} id="t-advisory" label="Advisory" value=${advisory} onInput=${f(setAdvisory)} maxlength="200" />
    </form>
    <${ErrorNote} error=${error} />
    <${Loading} when=${loading && !data} />
    ${data
      ? html`<table data-testid="tests-table"><caption class="sr-only">Tests, newest first</caption>
          <thead><tr><th scope="col">test</th><th scope="col">advisory</th><th scope="col">OS</th><th scope="col">system</th><th scope="col">status</th>
            <th scope="col">phase</th><th scope="col">CPU Δ</th><th scope="col">memory Δ</th><th scope="col">rollback</th><th scope="col">started</th></tr></thead>
          <tbody>${data.items.map((t) => html`<tr key=${t.id}>
            <td><a href=${`#/tests/${t.id}`}>test ${t.id}</a></td><td>${t.advisory_name}</td><td>${t.target_os}</td><td>${t.test_system_name ?? '—'}</td>
            <td><${Badge} value=${t.status} /></td><td>${label(t.current_phase)}${t.current_phase_status ? html` <span class="muted small">${t.current_phase_status}</span>` : null}</td>
            <td>${pp(t.cpu_delta)}</td><td>${pp(t.memory_delta)}</td>
            <td>${t.rollback_type ? `${t.rollback_type}${t.rollback_verified === true ? ', verified' : t.rollback_verified === false ? ', NOT verified' : ''}` : '—'}</td>
            <td>${ago(t.started_at)}</td></tr>`)}</tbody></table>
          <${Pager} total=${data.total} limit=${LIMIT} offset=${offset} onChange=${setOffset} label="tests" />`
      : null}
  </section>`;
}

/**
 * One test (GET /tests/:id, polled while it runs): the phase timeline, the metric evidence, the rollback and
 * its verification, the Temporal Web UI link. Sections are components so a bundle's members and bisection
 * tree can be added as one more (see BundleSection).
 */
export function TestPage({ id, me, settings }) {
  const [running, setRunning] = useState(true);
  const { data, error, loading, refresh } = usePoll(
    async (signal) => {
      const r = await api(`/tests/${id}`, { signal });
      setRunning(r.test.status === 'running');
      return r;
    },
    [id],
    running ? 4000 : 0,
  );
  return html`<section aria-labelledby="test-title">
    <p><a href="#/tests">← all tests</a></p>
    <h1 id="test-title">Test ${id}${data?.item ? html`: ${data.item.advisory_name}` : null}</h1>
    <${ErrorNote} error=${error} />
    <${Loading} when=${loading && !data} />
    ${data ? html`<${TestBody} d=${data} me=${me} settings=${settings} onChanged=${refresh} />` : null}
  </section>`;
}

function TestBody({ d, me, settings, onChanged }) {
  const t = d.test;
  const temporalUrl = `${settings.temporalUiUrl}/namespaces/${encodeURIComponent(settings.temporalNamespace)}/workflows/${encodeURIComponent(t.workflow_id)}/${encodeURIComponent(t.run_id)}/history`;
  const validate = d.phases.find((p) => p.phase === 'validate');
  return html`
    <div class="card summary">
      <p><${Badge} value=${t.status} /> ${d.item ? html`${d.item.synopsis} · <strong>${d.item.target_os}</strong> · queue item <a href=${`#/queue`}>#${d.item.id}</a> (${label(d.item.status)})` : null}</p>
      <dl class="counts">
        <div><dt>test system</dt><dd>${t.test_system_name ?? 'not leased yet'}</dd></div>
        <div><dt>started</dt><dd>${when(t.started_at)}</dd></div>
        <div><dt>${t.completed_at ? 'took' : 'running for'}</dt><dd>${span((t.completed_at ? Date.parse(t.completed_at) : Date.now()) - Date.parse(t.started_at))}</dd></div>
        <div><dt>snapshot</dt><dd>${t.snapshot_type ? `${t.snapshot_type}${t.snapshot_id ? ` #${t.snapshot_id}` : ''}` : '—'}</dd></div>
        <div><dt>reboot</dt><dd>${t.requires_reboot ? (t.reboot_duration_seconds !== null ? `${Math.round(t.reboot_duration_seconds)} s` : 'required') : 'not required'}</dd></div>
      </dl>
      ${t.failure_reason ? html`<p class="error">Failed in ${label(t.failure_phase)}: ${t.failure_reason}</p>` : null}
      <p><a href=${temporalUrl} target="_blank" rel="noopener noreferrer">Open workflow ${t.workflow_id} in the Temporal Web UI</a></p>
      ${me.may.write && t.status === 'passed' && d.item && ['passed', 'pending_approval', 'snoozed'].includes(d.item.status) ? html`<${ForcedRollback} testId=${t.id} onDone=${onChanged} />` : null}
    </div>
    <${BundleSection} test=${t} />
    <section class="card" aria-labelledby="phases-title">
      <h2 id="phases-title">Phases</h2>
      <${PhaseTimeline} phases=${d.phases} live=${d.live} />
    </section>
    <section class="card" aria-labelledby="metrics-title">
      <h2 id="metrics-title">Metric evidence</h2>
      <${MetricChart} before=${validate?.details?.before ?? t.metrics_before} after=${validate?.details?.after ?? t.metrics_after} thresholds=${validate?.details?.thresholds} />
    </section>
    <section class="card" aria-labelledby="rollback-title">
      <h2 id="rollback-title">Rollback</h2>
      <${RollbackSummary} test=${t} phases=${d.phases} rollbacks=${d.rollbacks} />
    </section>`;
}

/**
 * A run of a bundle (several errata at once): the bundle's members with their own verdicts and evidence, and
 * its bisection as a tree of runs (GET /bundles/<id>). Renders nothing for a one-erratum test.
 */
export function BundleSection({ test }) {
  const id = test.bundle_id;
  const { data, error } = usePoll((signal) => (id ? api(`/bundles/${id}`, { signal }) : Promise.resolve(null)), [id], test.status === 'running' ? 4000 : 10000);
  if (!id) return null;
  return html`<section class="card" aria-labelledby="bundle-title">
    <h2 id="bundle-title">Bundle #${data?.id ?? id}${data ? html` · ${data.target_os} · ${data.members.length} errata · ${data.runs} run${data.runs === 1 ? '' : 's'}` : null}</h2>
    <${ErrorNote} error=${error} />
    ${data
      ? html`
          ${data.size_policy?.why ? html`<p>Size ${data.size_policy.chosen}: ${data.size_policy.why}</p>` : null}
          <table>
            <caption>Members and their own verdicts${data.settled ? '' : ' (the bisection is still running)'}</caption>
            <thead><tr><th scope="col">advisory</th><th scope="col">verdict</th><th scope="col">why</th><th scope="col">runs</th></tr></thead>
            <tbody>
              ${data.members.map(
                (m) => html`<tr>
                  <td><a href=${`#/queue`}>${m.advisory_name}</a> (#${m.queue_id})</td>
                  <td>${m.verdict ? html`<${Badge} value=${m.verdict} />` : label(m.queue_status)}</td>
                  <td>${m.reason ?? ''}</td>
                  <td>${m.runs.map((r) => `#${r}`).join(' ')}</td>
                </tr>`,
              )}
            </tbody>
          </table>
          <h3>Runs</h3>
          <${RunTree} node=${data.tree} names=${Object.fromEntries(data.members.map((m) => [m.queue_id, m.advisory_name]))} current=${test.id} />`
      : null}
  </section>`;
}

/** The bisection tree: each run with its kind, members and verdict; a link to its test record. */
function RunTree({ node, names, current }) {
  return html`<ul class="run-tree">
    <li>
      <${Badge} value=${node.status} /> run #${node.id} · ${node.kind} · ${node.members.map((m) => names[m] ?? `#${m}`).join(', ')}
      ${node.test_id && node.test_id !== current ? html` · <a href=${`#/tests/${node.test_id}`}>test ${node.test_id}</a>` : node.test_id === current ? ' · this test' : null}
      ${node.failure_reason ? html`<div class="error">${node.failure_reason}</div>` : null}
      ${node.children.length ? node.children.map((c) => html`<${RunTree} node=${c} names=${names} current=${current} />`) : null}
    </li>
  </ul>`;
}

function PhaseTimeline({ phases, live }) {
  const rows = new Map(phases.map((p) => [p.phase, p]));
  const liveState = new Map((live?.phases ?? []).map((p) => [p.phase, p]));
  const shown = PHASES.filter((p) => rows.has(p) || liveState.has(p));
  if (!shown.length) return html`<p class="muted">No phase has started.</p>`;
  return html`<ol class="timeline" data-testid="phase-timeline">
    ${shown.map((name) => {
      const row = rows.get(name);
      const state = row?.status ?? liveState.get(name)?.state ?? 'pending';
      const ms = row?.duration_ms ?? (row?.started_at && !row.completed_at ? Date.now() - Date.parse(row.started_at) : null);
      return html`<li class=${`phase phase-${state}`}>
        <div class="phase-head"><strong>${label(name)}</strong> <${Badge} value=${state} /> <span class="muted small">${ms !== null ? span(ms) : ''}${row?.started_at ? ` · ${when(row.started_at)}` : ''}</span></div>
        ${row?.error ? html`<p class="error small">${row.error}</p>` : null}
        ${row ? html`<${PhaseDetails} phase=${name} details=${row.details} />` : liveState.get(name)?.summary ? html`<p class="small">${liveState.get(name).summary}</p>` : null}
      </li>`;
    })}
  </ol>`;
}

/** The facts of each phase worth reading at a glance; the rest is one click away. */
function PhaseDetails({ phase, details }) {
  if (!details || !Object.keys(details).length) return null;
  const facts = [];
  if (phase === 'lease' && details.system) facts.push(`system ${details.system.name ?? details.system}`);
  if (phase === 'snapshot') facts.push(`${details.snapshotType ?? ''} snapshot${details.snapshotId ? ` #${details.snapshotId}` : ''}`);
  if (phase === 'patch' && details.actionId) facts.push(`UYUNI action ${details.actionId}${details.resultMessage ? `: ${details.resultMessage}` : ''}`);
  if (phase === 'reboot' && details.seconds !== undefined) facts.push(`back after ${Math.round(details.seconds)} s`);
  if (phase === 'validate' && details.cpuDelta !== undefined) facts.push(`CPU ${pp(details.cpuDelta)}, memory ${pp(details.memoryDelta)}`);
  if ((phase === 'services' || phase === 'verify_rollback') && details.services) {
    const entries = Object.entries(details.services);
    facts.push(entries.map(([name, up]) => `${name} ${up === true || up?.running ? 'up' : 'DOWN'}`).join(', '));
  }
  if (phase === 'rollback' && details.rollbackType) facts.push(`${details.rollbackType} rollback`);
  return html`<div class="small">${facts.length ? html`<p>${facts.join(' · ')}</p>` : null}
    <details><summary>details</summary><pre>${JSON.stringify(details, null, 2)}</pre></details></div>`;
}

function RollbackSummary({ test, phases, rollbacks }) {
  const verify = phases.find((p) => p.phase === 'verify_rollback');
  if (!test.rollback_type && !rollbacks.length) return html`<p class="muted">No rollback${test.status === 'passed' ? ' (the patch passed)' : ''}.</p>`;
  const verified = test.rollback_verified;
  return html`<p>Type: <strong>${test.rollback_type ?? rollbacks[0]?.rollback_type ?? '—'}</strong> ·
      Verification: ${verified === true ? html`<${Badge} value="verified" />` : verified === false ? html`<${Badge} value="not_verified" />` : html`<${Badge} value="unknown" title="not checked (yet)" />`}
      ${verify?.error ? html`<span class="error"> ${verify.error}</span>` : null}</p>
    ${rollbacks.length
      ? html`<table class="compact"><caption class="sr-only">Rollbacks of this test</caption><thead><tr><th scope="col">when</th><th scope="col">type</th><th scope="col">status</th><th scope="col">by</th><th scope="col">reason</th><th scope="col">error</th></tr></thead>
          <tbody>${rollbacks.map((r) => html`<tr><td>${when(r.started_at)}</td><td>${r.rollback_type}</td><td><${Badge} value=${r.status} /></td><td>${r.requested_by ?? '—'}</td><td>${r.reason ?? ''}</td><td>${r.error ?? ''}</td></tr>`)}</tbody></table>`
      : null}`;
}

function ForcedRollback({ testId, onDone }) {
  const [open, setOpen] = useState(false);
  return html`<button type="button" class="danger" onClick=${() => setOpen(true)}>Roll back this test</button>
    ${open
      ? html`<${ConfirmDialog} title=${`Roll back test ${testId}?`} message="The patch is removed from the test system (same rule as a failed test) and the rollback is verified." confirmLabel="Roll back" danger=${true}
          onConfirm=${({ reason }) => api(`/tests/${testId}/rollback`, { method: 'POST', body: { reason } }).then(onDone)} onClose=${() => setOpen(false)} />`
      : null}`;
}
