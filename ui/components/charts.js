import { html } from '../lib/html.js';

// Charts as plain SVG (no chart library, nothing inline-styled): colours come from classes in styles.css, and
// each chart carries a text alternative (role="img" + <title>/<desc>) and its numbers in a table beside it.

/**
 * The validate phase's evidence: baseline vs after for CPU % and memory %, with the limit the verdict used
 * (baseline + threshold, in percentage points) drawn as a dashed line across each pair.
 */
export function MetricChart({ before, after, thresholds }) {
  if (!before) return html`<p class="muted">No baseline was taken.</p>`;
  const metrics = [
    { key: 'cpu', label: 'CPU', b: before.cpuPercent, a: after?.cpuPercent, t: thresholds?.cpu },
    { key: 'memory', label: 'Memory', b: before.memoryPercent, a: after?.memoryPercent, t: thresholds?.memory },
  ];
  const W = 420, H = 220, top = 16, bottom = 40, left = 40, plotH = H - top - bottom;
  const y = (v) => top + plotH - (Math.max(0, Math.min(100, v)) / 100) * plotH;
  const group = 170, bar = 50;
  const summary = metrics
    .map((m) => `${m.label}: baseline ${fmt(m.b)} %, after ${m.a === undefined ? 'not measured' : `${fmt(m.a)} %`}${m.t === undefined ? '' : `, limit ${fmt(m.b + m.t)} % (+${fmt(m.t)} pp)`}`)
    .join('; ');
  return html`<figure class="chart">
    <svg viewBox="0 0 ${W} ${H}" width=${W} height=${H} role="img" aria-labelledby="metric-title metric-desc">
      <title id="metric-title">Metric evidence: baseline vs after, with thresholds</title>
      <desc id="metric-desc">${summary}</desc>
      ${[0, 25, 50, 75, 100].map((v) => html`<g><line class="grid" x1=${left} x2=${W - 8} y1=${y(v)} y2=${y(v)} /><text class="axis" x=${left - 6} y=${y(v) + 4} text-anchor="end">${v}</text></g>`)}
      ${metrics.map((m, i) => {
        const x0 = left + 20 + i * group;
        const limit = m.t === undefined ? null : m.b + m.t;
        const over = m.a !== undefined && limit !== null && m.a - m.b > m.t;
        return html`<g>
          <rect class="bar-before" x=${x0} y=${y(m.b)} width=${bar} height=${y(0) - y(m.b)} />
          <text class="value" x=${x0 + bar / 2} y=${y(m.b) - 4} text-anchor="middle">${fmt(m.b)}</text>
          ${m.a === undefined
            ? html`<text class="axis" x=${x0 + bar * 1.5 + 6} y=${y(0) - 6} text-anchor="middle">n/a</text>`
            : html`<rect class=${over ? 'bar-after over' : 'bar-after'} x=${x0 + bar + 6} y=${y(m.a)} width=${bar} height=${y(0) - y(m.a)} />
                   <text class="value" x=${x0 + bar * 1.5 + 6} y=${y(m.a) - 4} text-anchor="middle">${fmt(m.a)}</text>`}
          ${limit === null
            ? null
            : html`<line class="threshold" x1=${x0 - 8} x2=${x0 + 2 * bar + 14} y1=${y(limit)} y2=${y(limit)} />
                   <text class="threshold-label" x=${x0 + 2 * bar + 16} y=${y(limit) + 4}>limit</text>`}
          <text class="axis" x=${x0 + bar + 3} y=${H - 20} text-anchor="middle">${m.label} %</text>
        </g>`;
      })}
      <g class="legend" transform="translate(${left}, ${H - 8})">
        <rect class="bar-before" x="0" y="-9" width="10" height="10" /><text x="14" y="0">baseline</text>
        <rect class="bar-after" x="84" y="-9" width="10" height="10" /><text x="98" y="0">after</text>
        <line class="threshold" x1="150" x2="170" y1="-4" y2="-4" /><text x="176" y="0">baseline + threshold</text>
      </g>
    </svg>
    <table class="compact">
      <caption>Metric evidence</caption>
      <thead><tr><th scope="col">metric</th><th scope="col">baseline</th><th scope="col">after</th><th scope="col">delta</th><th scope="col">threshold</th></tr></thead>
      <tbody>${metrics.map((m) => html`<tr><th scope="row">${m.label}</th><td>${fmt(m.b)} %</td><td>${m.a === undefined ? '—' : `${fmt(m.a)} %`}</td>
        <td>${m.a === undefined ? '—' : `${m.a - m.b >= 0 ? '+' : ''}${fmt(m.a - m.b)} pp`}</td><td>${m.t === undefined ? '—' : `+${fmt(m.t)} pp`}</td></tr>`)}</tbody>
    </table>
  </figure>`;
}

const SERIES = [
  { key: 'tests_passed', label: 'passed', cls: 's-passed' },
  { key: 'tests_failed', label: 'failed', cls: 's-failed' },
  { key: 'tests_rolled_back', label: 'rolled back', cls: 's-rolled' },
];

/** Tests passed / failed / rolled back per day (stacked bars), the last 30 days. */
export function DailyChart({ days }) {
  if (!days?.length) return null;
  const W = 640, H = 200, top = 12, bottom = 34, left = 32, plotH = H - top - bottom;
  const max = Math.max(1, ...days.map((d) => SERIES.reduce((s, k) => s + d[k.key], 0)));
  const step = (W - left - 8) / days.length;
  const y = (v) => (v / max) * plotH;
  const totals = SERIES.map((s) => `${days.reduce((n, d) => n + d[s.key], 0)} ${s.label}`).join(', ');
  return html`<figure class="chart">
    <svg viewBox="0 0 ${W} ${H}" width=${W} height=${H} role="img" aria-labelledby="daily-title daily-desc">
      <title id="daily-title">Tests per day, last ${days.length} days</title>
      <desc id="daily-desc">${totals} over the last ${days.length} days</desc>
      <line class="grid" x1=${left} x2=${W - 8} y1=${top + plotH} y2=${top + plotH} />
      <text class="axis" x=${left - 6} y=${top + 8} text-anchor="end">${max}</text>
      <text class="axis" x=${left - 6} y=${top + plotH} text-anchor="end">0</text>
      ${days.map((d, i) => {
        let acc = 0;
        const x = left + i * step + 1;
        return html`<g>
          <title>${d.day}: ${SERIES.map((s) => `${d[s.key]} ${s.label}`).join(', ')}</title>
          ${SERIES.map((s) => {
            const hgt = y(d[s.key]);
            acc += hgt;
            return hgt > 0 ? html`<rect class=${s.cls} x=${x} y=${top + plotH - acc} width=${Math.max(1, step - 2)} height=${hgt} />` : null;
          })}
          ${i % 5 === 0 || i === days.length - 1 ? html`<text class="axis" x=${x + step / 2} y=${H - 18} text-anchor="middle">${d.day.slice(5)}</text>` : null}
        </g>`;
      })}
      <g class="legend" transform="translate(${left}, ${H - 4})">
        ${SERIES.map((s, i) => html`<g transform="translate(${i * 110}, 0)"><rect class=${s.cls} x="0" y="-9" width="10" height="10" /><text x="14" y="0">${s.label}</text></g>`)}
      </g>
    </svg>
  </figure>`;
}

/** Applied / failed / other of a rollout's systems as one horizontal bar. */
export function RolloutBar({ applied = 0, failed = 0, targets = 0, label: text }) {
  const W = 160, H = 12;
  const a = targets ? (applied / targets) * W : 0;
  const f = targets ? (failed / targets) * W : 0;
  return html`<svg class="rollout-bar" viewBox="0 0 ${W} ${H}" width=${W} height=${H} role="img" aria-label=${text ?? `${applied} applied, ${failed} failed of ${targets}`}>
    <rect class="track" x="0" y="0" width=${W} height=${H} rx="3" />
    <rect class="s-passed" x="0" y="0" width=${a} height=${H} />
    <rect class="s-failed" x=${a} y="0" width=${f} height=${H} />
  </svg>`;
}

const fmt = (n) => (n === undefined || n === null ? '—' : Number(n).toFixed(1));
