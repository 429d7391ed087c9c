import { useState } from 'preact/hooks';
import { api } from '../lib/api.js';
import { ago, hours, pp, when } from '../lib/format.js';
import { html } from '../lib/html.js';
import { usePoll } from '../lib/poll.js';
import { Badge, ErrorNote, Loading, Pager, Select, Severity } from '../components/common.js';
import { ConfirmDialog } from '../components/dialog.js';

const LIMIT = 50;
const DECISIONS = ['approve', 'reject', 'snooze', 'expire'];
const SOURCES = ['api', 'cli', 'dashboard', 'system'];

/** The inbox: what waits for a decision (one poll), or the decision history (one poll), as two tabs. */
export function Approvals({ me }) {
  const [tab, setTab] = useState('pending');
  const tabs = [
    { key: 'pending', label: 'Waiting for a decision' },
    { key: 'history', label: 'Decision history' },
  ];
  const onKey = (e) => {
    if (e.key !== 'ArrowRight' && e.key !== 'ArrowLeft') return;
    const next = tabs[(tabs.findIndex((t) => t.key === tab) + (e.key === 'ArrowRight' ? 1 : tabs.length - 1)) % tabs.length];
    setTab(next.key);
    document.getElementById(`tab-${next.key}`)?.focus();
  };
  return html`<section aria-labelledby="approvals-title">
    <h1 id="approvals-title">Approvals</h1>
    <div role="tablist" aria-label="Approvals" class="tabs" onKeyDown=${onKey}>
      ${tabs.map((t) => html`<button type="button" role="tab" id=${`tab-${t.key}`} aria-selected=${tab === t.key} aria-controls=${`panel-${t.key}`} tabindex=${tab === t.key ? 0 : -1} onClick=${() => setTab(t.key)}>${t.label}</button>`)}
    </div>
    <div role="tabpanel" id=${`panel-${tab}`} aria-labelledby=${`tab-${tab}`}>
      ${tab === 'pending' ? html`<${Pending} me=${me} />` : html`<${History} />`}
    </div>
  </section>`;
}

function Pending({ me }) {
  const [offset, setOffset] = useState(0);
  const [deciding, setDeciding] = useState(null);
  const [done, setDone] = useState(null);
  const { data, error, loading, refresh } = usePoll((signal) => api('/approvals/pending', { signal, params: { limit: LIMIT, offset } }), [offset]);
  const decide = (item, decision) => ({ reason, until }) =>
    api(`/approvals/${item.queue_id}/${decision}`, { method: 'POST', body: { reason, ...(until ? { until } : {}), source: 'dashboard' } }).then((r) => {
      setDone(`${item.advisory_name} (${item.target_os}): ${r.status}.`);
      refresh();
    });
  return html`
    ${done ? html`<p class="ok" role="status">${done}</p>` : null}
    <${ErrorNote} error=${error} />
    <${Loading} when=${loading && !data} />
    ${data
      ? html`<ul class="inbox" aria-label="Patches waiting for a decision" data-testid="inbox">
          ${data.items.map((i) => html`<li class="card inbox-item" key=${i.queue_id} data-queue-id=${i.queue_id}>
            <div class="inbox-head">
              <h2><a href=${i.test_id ? `#/tests/${i.test_id}` : '#/approvals'}>${i.advisory_name}</a> <span class="muted">${i.target_os}</span></h2>
              <${Severity} value=${i.severity} /> <${Badge} value=${i.status} />
              <span>waiting <strong>${hours(i.hours_pending)}</strong></span>
              ${i.snoozed_until ? html`<span>snoozed until ${when(i.snoozed_until)}</span>` : null}
            </div>
            <p>${i.synopsis}</p>
            <dl class="counts evidence" aria-label=${`Evidence for ${i.advisory_name}`}>
              <div><dt>score</dt><dd>${i.success_score ?? '—'}</dd></div>
              <div><dt>CPU Δ</dt><dd>${pp(i.evidence.cpu_delta)}</dd></div>
              <div><dt>memory Δ</dt><dd>${pp(i.evidence.memory_delta)}</dd></div>
              <div><dt>reboot</dt><dd>${i.evidence.reboot_duration_seconds !== null && i.evidence.reboot_duration_seconds !== undefined ? `${Math.round(i.evidence.reboot_duration_seconds)} s` : 'none'}</dd></div>
              <div><dt>services</dt><dd>${services(i.evidence.services)}</dd></div>
              <div><dt>tested on</dt><dd>${i.evidence.test_system ?? '—'}</dd></div>
              <div><dt>reminders</dt><dd>${i.reminders}${i.last_reminder_at ? ` (last ${ago(i.last_reminder_at)})` : ''}</dd></div>
              <div><dt>CVEs</dt><dd>${i.cves.length ? i.cves.join(', ') : 'none'}</dd></div>
            </dl>
            ${me.may.approve && i.status === 'pending_approval'
              ? html`<div class="row" role="group" aria-label=${`Decide on ${i.advisory_name} (${i.target_os})`}>
                  <button type="button" class="primary" onClick=${() => setDeciding({ item: i, decision: 'approve' })}>Approve<span class="sr-only"> ${i.advisory_name} ${i.target_os}</span></button>
                  <button type="button" class="danger" onClick=${() => setDeciding({ item: i, decision: 'reject' })}>Reject<span class="sr-only"> ${i.advisory_name} ${i.target_os}</span></button>
                  <button type="button" onClick=${() => setDeciding({ item: i, decision: 'snooze' })}>Snooze<span class="sr-only"> ${i.advisory_name} ${i.target_os}</span></button>
                </div>`
              : null}
          </li>`)}
        </ul>
        <${Pager} total=${data.total} limit=${LIMIT} offset=${offset} onChange=${setOffset} label="items waiting" />`
      : null}
    ${deciding
      ? html`<${ConfirmDialog}
          title=${`${{ approve: 'Approve', reject: 'Reject', snooze: 'Snooze' }[deciding.decision]} ${deciding.item.advisory_name} for ${deciding.item.target_os}?`}
          message=${{ approve: 'It can then be rolled out to production.', reject: 'It will not be deployed.', snooze: 'It waits until the time below, then asks again.' }[deciding.decision]}
          confirmLabel=${{ approve: 'Approve', reject: 'Reject', snooze: 'Snooze' }[deciding.decision]}
          danger=${deciding.decision === 'reject'} askUntil=${deciding.decision === 'snooze'}
          onConfirm=${decide(deciding.item, deciding.decision)} onClose=${() => setDeciding(null)} />`
      : null}`;
}

const services = (s) => {
  if (!s || typeof s !== 'object') return '—';
  const entries = Object.entries(s);
  const down = entries.filter(([, v]) => !(v === true || v?.running)).map(([k]) => k);
  return down.length ? `DOWN: ${down.join(', ')}` : `${entries.length} up`;
};

function History() {
  const [decision, setDecision] = useState('');
  const [source, setSource] = useState('');
  const [offset, setOffset] = useState(0);
  const f = (set) => (v) => (set(v), setOffset(0));
  const { data, error, loading } = usePoll(
    (signal) => api('/approvals/history', { signal, params: { decision: decision || undefined, source: source || undefined, limit: LIMIT, offset } }),
    [decision, source, offset],
    10_000,
  );
  return html`
    <form class="filters" aria-label="History filters" onSubmit=${(e) => e.preventDefault()}>
      <${Select} id="h-decision" label="Decision" value=${decision} options=${DECISIONS} onChange=${f(setDecision)} />
      <${Select} id="h-source" label="Source" value=${source} options=${SOURCES} onChange=${f(setSource)} />
    </form>
    <${ErrorNote} error=${error} />
    <${Loading} when=${loading && !data} />
    ${data
      ? html`<table data-testid="history-table"><caption class="sr-only">Decisions, newest first</caption>
          <thead><tr><th scope="col">when</th><th scope="col">advisory</th><th scope="col">decision</th><th scope="col">who</th><th scope="col">source</th><th scope="col">why</th><th scope="col">until</th></tr></thead>
          <tbody>${data.items.map((a) => html`<tr key=${a.id}><td>${when(a.decided_at)}</td><td>${a.advisory_name} <span class="muted">${a.target_os}</span></td>
            <td><${Badge} value=${a.decision} /></td><td>${a.decided_by}</td><td>${a.source}</td><td>${a.reason ?? ''}</td><td>${a.snooze_until ? when(a.snooze_until) : ''}</td></tr>`)}</tbody></table>
          <${Pager} total=${data.total} limit=${LIMIT} offset=${offset} onChange=${setOffset} label="decisions" />`
      : null}`;
}
