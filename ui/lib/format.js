// Times and numbers as an SRE reads them: "12 min ago", "1 h 5 min", "+3.2 pp".

export function ago(iso, now = Date.now()) {
  if (!iso) return '—';
  const s = Math.round((now - Date.parse(iso)) / 1000);
  if (s < 0) return `in ${span(-s * 1000)}`;
  return `${span(s * 1000)} ago`;
}

export function span(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return '—';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min${s % 60 && m < 10 ? ` ${s % 60} s` : ''}`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h${m % 60 ? ` ${m % 60} min` : ''}`;
  return `${Math.floor(h / 24)} d${h % 24 ? ` ${h % 24} h` : ''}`;
}

export const hours = (h) => (h === null || h === undefined ? '—' : span(h * 3600 * 1000));

export function when(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return d.toLocaleString(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

export function pp(n) {
  if (n === null || n === undefined) return '—';
  const r = Number(Number(n).toFixed(1));
  return `${r > 0 ? '+' : ''}${(r === 0 ? 0 : r).toFixed(1)} pp`;
}
export const pct = (n) => (n === null || n === undefined ? '—' : `${Number(n).toFixed(1)} %`);
export const num = (n) => (n === null || n === undefined ? '—' : Number(n).toLocaleString());
export const label = (s) => String(s ?? '—').replace(/_/g, ' ');
