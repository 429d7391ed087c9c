import { html } from '../lib/html.js';
import { label } from '../lib/format.js';

/** A status word as a coloured badge; the colour class is the status itself (styles.css). */
export const Badge = ({ value, title }) => html`<span class="badge badge-${String(value ?? 'none').replace(/[^a-z_]/gi, '')}" title=${title}>${label(value)}</span>`;

export const Severity = ({ value }) => html`<span class="sev sev-${String(value ?? '').toLowerCase()}">${value ?? '—'}</span>`;

export function ErrorNote({ error }) {
  if (!error) return null;
  return html`<p class="error" role="alert">${error.status ? `${error.status}: ` : ''}${error.message}</p>`;
}

export const Loading = ({ when: show }) => (show ? html`<p class="muted" aria-live="polite">Loading…</p>` : null);

/**
 * "showing 1–50 of 1,234" and previous / next. `capped`: the API stopped counting at `total` (a bounded count),
 * so it reads "of more than 10,000" and Next stays enabled.
 */
export function Pager({ total, limit, offset, onChange, label: what = 'rows', capped = false }) {
  if (!total) return html`<p class="muted pager">No ${what}.</p>`;
  const last = Math.min(offset + limit, total);
  return html`<nav class="pager" aria-label=${`${what} pages`}>
    <button type="button" disabled=${offset === 0} onClick=${() => onChange(Math.max(0, offset - limit))}>Previous</button>
    <span aria-live="polite" data-testid="pager-range">${offset + 1}–${last} of ${capped ? 'more than ' : ''}${total.toLocaleString()} ${what}</span>
    <button type="button" disabled=${last >= total && !capped} onClick=${() => onChange(offset + limit)}>Next</button>
  </nav>`;
}

/** A labelled <select>; value '' = no filter. */
export function Select({ id, label: text, value, options, onChange, all = 'all' }) {
  return html`<label class="field" for=${id}><span>${text}</span>
    <select id=${id} value=${value} onChange=${(e) => onChange(e.currentTarget.value)}>
      ${all !== null ? html`<option value="">${all}</option>` : null}
      ${options.map((o) => (typeof o === 'string' ? html`<option value=${o}>${label(o)}</option>` : html`<option value=${o.value}>${o.label}</option>`))}
    </select></label>`;
}

export function TextInput({ id, label: text, value, onInput, type = 'search', placeholder, ...rest }) {
  return html`<label class="field" for=${id}><span>${text}</span>
    <input id=${id} type=${type} value=${value} placeholder=${placeholder} onInput=${(e) => onInput(e.currentTarget.value)} ...${rest} /></label>`;
}

export const Stat = ({ label: text, value, hint }) => html`<div class="stat"><div class="stat-value">${value}</div><div class="stat-label">${text}</div>${hint ? html`<div class="stat-hint">${hint}</div>` : null}</div>`;

/** A small key → count list ("queued 12, testing 2, …"). */
export const Counts = ({ counts, caption }) => {
  const entries = Object.entries(counts ?? {}).filter(([, n]) => n > 0);
  return html`<dl class="counts" aria-label=${caption}>
    ${entries.length ? entries.map(([k, n]) => html`<div><dt>${label(k)}</dt><dd>${n.toLocaleString()}</dd></div>`) : html`<div><dt>none</dt><dd>0</dd></div>`}
  </dl>`;
};
