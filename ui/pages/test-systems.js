import { useState } from 'preact/hooks';
import { api } from '../lib/api.js';
import { ago, when } from '../lib/format.js';
import { html } from '../lib/html.js';
import { usePoll } from '../lib/poll.js';
import { Badge, ErrorNote, Loading, Pager, Select } from '../components/common.js';
import { ConfirmDialog } from '../components/dialog.js';
import { OSES } from './queue.js';

const LIMIT = 100;

/** GET /test-systems: lease, last test, quarantine; an operator releases a quarantined system. */
export function TestSystems({ me }) {
  const [os, setOs] = useState('');
  const [quarantined, setQuarantined] = useState('');
  const [offset, setOffset] = useState(0);
  const [releasing, setReleasing] = useState(null);
  const f = (set) => (v) => (set(v), setOffset(0));
  const { data, error, loading, refresh } = usePoll(
    (signal) => api('/test-systems', { signal, withTotal: true, params: { os: os || undefined, quarantined: quarantined || undefined, limit: LIMIT, offset } }),
    [os, quarantined, offset],
  );
  return html`<section aria-labelledby="ts-title">
    <h1 id="ts-title">Test systems</h1>
    <form class="filters" aria-label="Test system filters" onSubmit=${(e) => e.preventDefault()}>
      <${Select} id="ts-os" label="OS" value=${os} options=${OSES} onChange=${f(setOs)} />
      <${Select} id="ts-q" label="Quarantined" value=${quarantined} options=${[{ value: 'true', label: 'yes' }, { value: 'false', label: 'no' }]} onChange=${f(setQuarantined)} all="either" />
    </form>
    <${ErrorNote} error=${error} />
    <${Loading} when=${loading && !data} />
    ${data
      ? html`<table data-testid="test-systems-table"><caption class="sr-only">Test systems</caption>
          <thead><tr><th scope="col">system</th><th scope="col">OS</th><th scope="col">group</th><th scope="col">lease</th><th scope="col">last test</th>
            <th scope="col">quarantine</th><th scope="col"><span class="sr-only">actions</span></th></tr></thead>
          <tbody>${data.data.map((s) => html`<tr key=${s.system_id}>
            <td><strong>${s.name}</strong> <span class="muted small">#${s.system_id}</span></td><td>${s.os}</td><td>${s.group_name}</td>
            <td>${s.leased_by ? html`${leaseLink(s.leased_by)} <span class="muted small">since ${ago(s.leased_at)}</span>` : html`<span class="muted">free</span>`}</td>
            <td>${s.last_test ? html`<a href=${`#/tests/${s.last_test.id}`}>test ${s.last_test.id}</a> <${Badge} value=${s.last_test.status} /> ${s.last_test.advisory_name} <span class="muted small">${ago(s.last_test.completed_at ?? s.last_test.started_at)}</span>` : html`<span class="muted">none</span>`}</td>
            <td>${s.quarantined ? html`<${Badge} value="quarantined" /> ${s.quarantine_reason} <span class="muted small">${when(s.quarantined_at)}</span>` : html`<span class="muted">no</span>`}</td>
            <td>${me.may.write && s.quarantined ? html`<button type="button" onClick=${() => setReleasing(s)}>Release<span class="sr-only"> ${s.name}</span></button>` : null}</td>
          </tr>`)}</tbody></table>
          <${Pager} total=${data.total} limit=${LIMIT} offset=${offset} onChange=${setOffset} label="test systems" />`
      : null}
    ${releasing
      ? html`<${ConfirmDialog} title=${`Release ${releasing.name}?`} message=${`It goes back into rotation and the next ${releasing.os} test may lease it. Check that it is healthy first: ${releasing.quarantine_reason}`}
          confirmLabel="Release" askReason=${false} onConfirm=${() => api(`/test-systems/${releasing.system_id}/release`, { method: 'POST' }).then(refresh)} onClose=${() => setReleasing(null)} />`
      : null}
  </section>`;
}

// A lease names the patchTest workflow holding the system (patch-test-<queue id>).
const leaseLink = (workflowId) => html`<code>${workflowId}</code>`;
