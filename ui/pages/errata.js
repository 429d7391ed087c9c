import { useState } from 'preact/hooks';
import { api } from '../lib/api.js';
import { html } from '../lib/html.js';
import { usePoll } from '../lib/poll.js';
import { ErrorNote, Loading, Pager, Select, Severity, TextInput } from '../components/common.js';
import { OSES, SEVERITIES } from './queue.js';

const TYPES = ['Security Advisory', 'Bug Fix Advisory', 'Product Enhancement Advisory'];
const LIMIT = 50;
// The cache changes only when a sync runs: poll slowly.
const EVERY = 30_000;

/** The errata cache (GET /errata) with its filters; an advisory's CVEs, packages and test systems on demand. */
export function Errata({ me }) {
  const [search, setSearch] = useState('');
  const [cve, setCve] = useState('');
  const [severity, setSeverity] = useState('');
  const [type, setType] = useState('');
  const [os, setOs] = useState('');
  const [relevant, setRelevant] = useState('true');
  const [offset, setOffset] = useState(0);
  const [open, setOpen] = useState(null);
  const f = (set) => (v) => (set(v), setOffset(0));
  const cveOk = cve === '' || /^cve-\d{4}-\d{4,}$/i.test(cve.trim());
  const { data, error, loading } = usePoll(
    (signal) =>
      api('/errata', {
        signal,
        params: { search: search.trim() || undefined, cve: cveOk ? cve.trim() || undefined : undefined, severity: severity || undefined, advisory_type: type || undefined, os: os || undefined, relevant: relevant || undefined, limit: LIMIT, offset },
      }),
    [search, cveOk ? cve : '', severity, type, os, relevant, offset],
    EVERY,
  );
  return html`<section aria-labelledby="errata-title">
    <h1 id="errata-title">Errata</h1>
    <form class="filters" aria-label="Errata filters" onSubmit=${(e) => e.preventDefault()}>
      <${TextInput} id="e-search" label="Name or synopsis" value=${search} onInput=${f(setSearch)} maxlength="200" />
      <${TextInput} id="e-cve" label="CVE" value=${cve} onInput=${f(setCve)} placeholder="CVE-2025-1234" aria-invalid=${cveOk ? undefined : 'true'} />
      <${Select} id="e-severity" label="Severity" value=${severity} options=${SEVERITIES} onChange=${f(setSeverity)} />
      <${Select} id="e-type" label="Type" value=${type} options=${TYPES} onChange=${f(setType)} />
      <${Select} id="e-os" label="OS" value=${os} options=${OSES} onChange=${f(setOs)} />
      <${Select} id="e-relevant" label="Relevant to a test system" value=${relevant} options=${[{ value: 'true', label: 'yes' }, { value: 'false', label: 'no' }]} onChange=${f(setRelevant)} all="either" />
    </form>
    ${cveOk ? null : html`<p class="error" role="alert">A CVE looks like CVE-2025-1234.</p>`}
    <${ErrorNote} error=${error} />
    <${Loading} when=${loading && !data} />
    ${data
      ? html`<table data-testid="errata-table"><caption class="sr-only">Errata cache</caption>
          <thead><tr><th scope="col">advisory</th><th scope="col">type</th><th scope="col">severity</th><th scope="col">synopsis</th><th scope="col">CVEs</th>
            <th scope="col">OS</th><th scope="col">test systems</th><th scope="col">reboot</th><th scope="col"><span class="sr-only">details</span></th></tr></thead>
          <tbody>${data.items.map((e) => html`
            <tr key=${e.advisory_name}><td><strong>${e.advisory_name}</strong></td><td>${e.advisory_type}</td><td><${Severity} value=${e.severity} /></td>
              <td>${e.synopsis}</td><td>${e.cves.length}</td><td>${e.target_os.join(', ')}</td><td>${e.test_systems}</td><td>${e.requires_reboot ? 'yes' : 'no'}</td>
              <td><button type="button" aria-expanded=${open === e.advisory_name} onClick=${() => setOpen(open === e.advisory_name ? null : e.advisory_name)}>
                ${open === e.advisory_name ? 'Hide' : 'Details'}<span class="sr-only"> of ${e.advisory_name}</span></button></td></tr>
            ${open === e.advisory_name ? html`<tr><td colspan="9"><${ErratumDetail} name=${e.advisory_name} me=${me} /></td></tr>` : null}`)}
          </tbody></table>
          <${Pager} total=${data.total} capped=${data.total_capped} limit=${LIMIT} offset=${offset} onChange=${setOffset} label="advisories" />`
      : null}
  </section>`;
}

function ErratumDetail({ name, me }) {
  const { data, error } = usePoll(async (signal) => {
    const [erratum, systems] = await Promise.all([api(`/errata/${encodeURIComponent(name)}`, { signal }), api('/test-systems', { signal, params: { limit: 5000 } })]);
    return { erratum, systems };
  }, [name], 0);
  const [queued, setQueued] = useState(null);
  const [queueError, setQueueError] = useState(null);
  if (error) return html`<${ErrorNote} error=${error} />`;
  if (!data) return html`<${Loading} when=${true} />`;
  const e = data.erratum;
  const byId = new Map(data.systems.map((s) => [s.system_id, s]));
  const queue = async () => {
    setQueueError(null);
    try {
      const r = await api('/queue', { method: 'POST', body: { advisories: [name] } });
      setQueued(r.items.map((i) => `#${i.id} (${i.target_os})`).join(', '));
    } catch (err) {
      setQueueError(err);
    }
  };
  return html`<div class="detail cols">
    <div>
      <h3>${e.advisory_name}</h3>
      <p>${e.description ?? e.synopsis}</p>
      <p class="small">UYUNI severity: ${e.uyuni_severity ?? 'none'} · issued ${e.issue_date ?? '—'} · updated ${e.update_date ?? '—'}</p>
      <p class="small">Severity from ${severitySource(e.intel)} · urgency ${e.intel?.urgency ?? 0}${e.intel?.kev ? html` · <strong>KEV</strong>, due ${e.intel.kev.due_date ?? '—'}${e.intel.kev.ransomware ? ', ransomware' : ''}` : ''}</p>
      <h4>CVEs</h4>
      ${e.cves.length ? html`<ul class="inline">${e.cves.map((c) => html`<li><code>${c}</code>${cveNote(e.cve_intel, c)}</li>`)}</ul>` : html`<p class="muted">none</p>`}
      ${me.may.write && e.test_system_ids.length ? html`<button type="button" class="primary" onClick=${queue}>Queue ${e.advisory_name}</button>` : null}
      ${queued ? html`<p class="ok" role="status">Queued as ${queued}.</p>` : null}
      <${ErrorNote} error=${queueError} />
    </div>
    <div>
      <h4>Affected test systems (${e.test_system_ids.length})</h4>
      ${e.test_system_ids.length ? html`<ul>${e.test_system_ids.map((id) => html`<li>${byId.get(id)?.name ?? `system ${id}`} <span class="muted">${byId.get(id)?.os ?? ''}</span></li>`)}</ul>` : html`<p class="muted">none now</p>`}
      <h4>Packages</h4>
      ${e.packages
        ? html`<table class="compact"><caption class="sr-only">Packages of ${e.advisory_name}</caption><thead><tr><th scope="col">name</th><th scope="col">version</th><th scope="col">arch</th><th scope="col">size</th></tr></thead>
            <tbody>${e.packages.map((p) => html`<tr><td>${p.name}</td><td>${p.epoch ? `${p.epoch}:` : ''}${p.version}-${p.release}</td><td>${p.arch}</td><td>${Math.round(p.size / 1024)} KB</td></tr>`)}</tbody></table>`
        : html`<p class="muted">Fetched from UYUNI when the advisory is queued.</p>`}
    </div>
  </div>`;
}

// issue 14: where the severity comes from, and what NVD, EPSS and KEV say about each CVE.
function severitySource(intel) {
  if (!intel) return 'UYUNI';
  if (intel.severity_source === 'cvss' && intel.cvss) return `CVSS ${intel.cvss.score} (v${intel.cvss.version ?? '?'}, ${intel.cvss.source ?? 'unknown scorer'}, ${intel.cvss.cve})`;
  return intel.severity_source === 'uyuni' ? "UYUNI's label (no CVSS yet)" : 'the advisory type (no CVSS yet)';
}

function cveNote(list, cve) {
  const i = (list ?? []).find((x) => x.cve === cve);
  if (!i) return null;
  const parts = [];
  if (i.cvss_score !== null) parts.push(`CVSS ${i.cvss_score}`);
  if (i.epss_percentile !== null) parts.push(`EPSS p${Math.floor(i.epss_percentile * 100)}`);
  if (i.kev) parts.push('KEV');
  return parts.length ? html` <span class="muted small">${parts.join(' · ')}</span>` : null;
}
