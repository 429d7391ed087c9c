import { useState } from 'preact/hooks';
import { api } from '../lib/api.js';
import { ago, label } from '../lib/format.js';
import { html } from '../lib/html.js';
import { usePoll } from '../lib/poll.js';
import { Badge, ErrorNote, Loading, Pager, Select, Severity, TextInput } from '../components/common.js';
import { ConfirmDialog } from '../components/dialog.js';

export const QUEUE_STATUSES = ['queued', 'testing', 'passed', 'failed', 'rolled_back', 'inconclusive', 'untestable', 'pending_approval', 'snoozed', 'approved', 'rejected', 'expired', 'promoting', 'prod_applied', 'completed', 'halted', 'prod_rolled_back', 'prod_rollback_failed', 'cancelled'];
export const OSES = ['ubuntu', 'rhel', 'debian'];
export const SEVERITIES = ['Critical', 'High', 'Medium', 'Low'];
const LIMIT = 50;

/** The work order (GET /queue, polled); adding advisories, editing priority and notes, cancelling. */
export function Queue({ me }) {
  const [status, setStatus] = useState('');
  const [os, setOs] = useState('');
  const [severity, setSeverity] = useState('');
  const [offset, setOffset] = useState(0);
  const [open, setOpen] = useState(null);
  const filter = (set) => (v) => (set(v), setOffset(0));
  const { data, error, loading, refresh } = usePoll(
    (signal) => api('/queue', { signal, params: { status: status || undefined, target_os: os || undefined, severity: severity || undefined, limit: LIMIT, offset } }),
    [status, os, severity, offset],
  );
  return html`<section aria-labelledby="queue-title">
    <h1 id="queue-title">Queue</h1>
    ${me.may.write ? html`<${AddAdvisories} onQueued=${refresh} />` : null}
    <form class="filters" aria-label="Queue filters" onSubmit=${(e) => e.preventDefault()}>
      <${Select} id="q-status" label="Status" value=${status} options=${QUEUE_STATUSES} onChange=${filter(setStatus)} all="all but cancelled" />
      <${Select} id="q-os" label="OS" value=${os} options=${OSES} onChange=${filter(setOs)} />
      <${Select} id="q-severity" label="Severity" value=${severity} options=${SEVERITIES} onChange=${filter(setSeverity)} />
    </form>
    <${ErrorNote} error=${error} />
    <${Loading} when=${loading && !data} />
    ${data
      ? html`<table data-testid="queue-table">
          <caption class="sr-only">The queue in work order</caption>
          <thead><tr><th scope="col">#</th><th scope="col">priority</th><th scope="col">advisory</th><th scope="col">OS</th><th scope="col">severity</th>
            <th scope="col">score</th><th scope="col">status</th><th scope="col">test system</th><th scope="col"><span class="sr-only">details</span></th></tr></thead>
          <tbody>${data.items.map((item) => html`
            <tr key=${item.id}>
              <td>${item.id}</td><td>${item.priority_override ?? '—'}</td>
              <td><strong>${item.advisory_name}</strong><div class="muted small">${item.synopsis}</div></td>
              <td>${item.target_os}</td><td><${Severity} value=${item.severity} />${item.intel?.kev ? html` <strong class="small">KEV</strong>` : null}</td>
              <td><span class="score">${item.success_score ?? '—'}</span></td>
              <td><${Badge} value=${item.status} /> <span class="muted small">${ago(item.status_changed_at)}</span></td>
              <td>${item.test_system_id ?? '—'}</td>
              <td><button type="button" aria-expanded=${open === item.id} aria-controls=${`q-detail-${item.id}`} onClick=${() => setOpen(open === item.id ? null : item.id)}>
                ${open === item.id ? 'Hide' : 'Details'}<span class="sr-only"> of ${item.advisory_name}</span></button></td>
            </tr>
            ${open === item.id ? html`<tr id=${`q-detail-${item.id}`}><td colspan="9"><${QueueDetail} id=${item.id} me=${me} onChanged=${refresh} /></td></tr>` : null}`)}
          </tbody></table>
          <${Pager} total=${data.total} limit=${LIMIT} offset=${offset} onChange=${setOffset} label="queue items" />`
      : null}
  </section>`;
}

/** One item: the Success Score breakdown, tests and approvals so far, and (operator) edit / cancel. */
function QueueDetail({ id, me, onChanged }) {
  const { data, error, refresh } = usePoll((signal) => api(`/queue/${id}`, { signal }), [id], 0);
  const [priority, setPriority] = useState(null);
  const [notes, setNotes] = useState(null);
  const [saveError, setSaveError] = useState(null);
  const [saved, setSaved] = useState(false);
  const [confirmCancel, setConfirmCancel] = useState(false);
  if (error) return html`<${ErrorNote} error=${error} />`;
  if (!data) return html`<${Loading} when=${true} />`;
  const item = data.item;
  const save = async (e) => {
    e.preventDefault();
    setSaveError(null);
    setSaved(false);
    const p = priority ?? (item.priority_override === null ? '' : String(item.priority_override));
    const body = { priority_override: p === '' ? null : Number(p), notes: (notes ?? item.notes ?? '') === '' ? null : (notes ?? item.notes) };
    try {
      await api(`/queue/${id}`, { method: 'PATCH', body });
      setSaved(true);
      refresh();
      onChanged();
    } catch (err) {
      setSaveError(err);
    }
  };
  return html`<div class="detail">
    <div class="cols">
      <div>
        <h3>Success Score ${item.success_score ?? '—'}</h3>
        ${data.risk_profile
          ? html`<table class="compact"><caption class="sr-only">Score breakdown</caption>
              <thead><tr><th scope="col">term</th><th scope="col">points</th><th scope="col">why</th></tr></thead>
              <tbody>${data.risk_profile.breakdown.lines.map((l) => html`<tr><td>${label(l.term)}</td><td>${l.points > 0 ? '+' : ''}${l.points}</td><td>${l.reason}</td></tr>`)}</tbody></table>`
          : html`<p class="muted">No risk profile.</p>`}
        <h3>Urgency ${item.intel?.urgency ?? 0}</h3>
        <p class="small">Severity ${item.severity} from ${item.intel?.severity_source === 'cvss' && item.intel.cvss ? `CVSS ${item.intel.cvss.score} (v${item.intel.cvss.version ?? '?'}, ${item.intel.cvss.source ?? 'unknown scorer'})` : item.intel?.severity_source === 'uyuni' ? "UYUNI's label" : 'the advisory type'}</p>
        ${item.intel?.urgency_breakdown?.length
          ? html`<table class="compact"><caption class="sr-only">Urgency breakdown</caption>
              <thead><tr><th scope="col">term</th><th scope="col">points</th><th scope="col">why</th></tr></thead>
              <tbody>${item.intel.urgency_breakdown.map((l) => html`<tr><td>${l.term}</td><td>${l.points}</td><td>${l.reason}</td></tr>`)}</tbody></table>`
          : html`<p class="muted">Not enriched yet (NVD, EPSS, KEV).</p>`}
        <p class="small">CVEs: ${item.cves.length ? item.cves.join(', ') : 'none'}</p>
      </div>
      <div>
        <h3>Tests</h3>
        ${data.tests.length ? html`<ul>${data.tests.map((t) => html`<li><a href=${`#/tests/${t.id}`}>test ${t.id}</a> <${Badge} value=${t.status} /> ${ago(t.started_at)}</li>`)}</ul>` : html`<p class="muted">Not tested yet.</p>`}
        <h3>Decisions</h3>
        ${data.approvals.length ? html`<ul>${data.approvals.map((a) => html`<li><${Badge} value=${a.decision} /> by ${a.decided_by} (${a.source}) ${ago(a.decided_at)}${a.reason ? `: ${a.reason}` : ''}</li>`)}</ul>` : html`<p class="muted">None.</p>`}
      </div>
      ${me.may.write
        ? html`<form class="edit" onSubmit=${save} aria-label=${`Edit queue item ${id}`}>
            <h3>Edit</h3>
            <${TextInput} id=${`prio-${id}`} label="Priority (1 = first; empty = none)" type="number" min="1" max="1000"
              value=${priority ?? (item.priority_override ?? '')} onInput=${setPriority} />
            <label class="field" for=${`notes-${id}`}><span>Notes</span>
              <textarea id=${`notes-${id}`} rows="2" maxlength="2000" value=${notes ?? item.notes ?? ''} onInput=${(e) => setNotes(e.currentTarget.value)}></textarea></label>
            <${ErrorNote} error=${saveError} />
            ${saved ? html`<p class="ok" role="status">Saved.</p>` : null}
            <div class="row">
              <button type="submit" class="primary">Save</button>
              ${item.status === 'queued' ? html`<button type="button" class="danger" onClick=${() => setConfirmCancel(true)}>Cancel item</button>` : null}
              ${item.status === 'queued' ? html`<${StartTest} id=${id} onStarted=${onChanged} />` : null}
            </div>
          </form>`
        : null}
    </div>
    ${confirmCancel
      ? html`<${ConfirmDialog} title=${`Cancel queue item ${id}?`} message=${`${item.advisory_name} for ${item.target_os} leaves the queue (kept as cancelled).`}
          confirmLabel="Cancel item" danger=${true} askReason=${false}
          onConfirm=${() => api(`/queue/${id}`, { method: 'DELETE' }).then(() => (refresh(), onChanged()))} onClose=${() => setConfirmCancel(false)} />`
      : null}
  </div>`;
}

function StartTest({ id, onStarted }) {
  const [error, setError] = useState(null);
  const start = async () => {
    setError(null);
    try {
      await api('/tests/start', { method: 'POST', body: { queue_id: id } });
      onStarted();
    } catch (err) {
      setError(err);
    }
  };
  return html`<button type="button" onClick=${start}>Start test</button><${ErrorNote} error=${error} />`;
}

/** Search the errata cache (name, synopsis, or a CVE id) and queue what is picked. */
function AddAdvisories({ onQueued }) {
  const [term, setTerm] = useState('');
  const [results, setResults] = useState(null);
  const [picked, setPicked] = useState([]);
  const [error, setError] = useState(null);
  const [message, setMessage] = useState(null);
  const search = async (e) => {
    e.preventDefault();
    setError(null);
    setMessage(null);
    const t = term.trim();
    if (!t) return;
    const params = /^cve-\d{4}-\d{4,}$/i.test(t) ? { cve: t } : { search: t };
    try {
      setResults((await api('/errata', { params: { ...params, relevant: true, limit: 20 } })).items);
    } catch (err) {
      setError(err);
    }
  };
  const queue = async () => {
    setError(null);
    try {
      const r = await api('/queue', { method: 'POST', body: { advisories: picked } });
      setMessage(`Queued ${r.items.map((i) => `${i.advisory_name} (${i.target_os}) as #${i.id}`).join(', ')}.`);
      setPicked([]);
      onQueued();
    } catch (err) {
      setError(err);
    }
  };
  const toggle = (name) => setPicked((p) => (p.includes(name) ? p.filter((x) => x !== name) : [...p, name]));
  return html`<details class="card add">
    <summary>Add advisories from the errata cache</summary>
    <form class="row" onSubmit=${search} role="search" aria-label="Search the errata cache">
      <${TextInput} id="add-term" label="Advisory, synopsis or CVE" value=${term} onInput=${setTerm} placeholder="RHSA-2025:0948, openssl, CVE-2025-1234" maxlength="200" />
      <button type="submit">Search</button>
    </form>
    ${results
      ? results.length
        ? html`<fieldset><legend>Pick advisories to queue</legend>
            ${results.map((e) => html`<div class="pick"><input type="checkbox" id=${`pick-${e.advisory_name}`} checked=${picked.includes(e.advisory_name)} onChange=${() => toggle(e.advisory_name)} />
              <label for=${`pick-${e.advisory_name}`}><strong>${e.advisory_name}</strong> <${Severity} value=${e.severity} /> ${e.synopsis} <span class="muted">(${e.target_os.join(', ')})</span></label></div>`)}
          </fieldset>
          <button type="button" class="primary" disabled=${!picked.length} onClick=${queue}>Queue ${picked.length || ''} selected</button>`
        : html`<p class="muted">Nothing relevant matches.</p>`
      : null}
    <${ErrorNote} error=${error} />
    ${message ? html`<p class="ok" role="status">${message}</p>` : null}
  </details>`;
}
