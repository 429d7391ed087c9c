import type { EventEnvelope, EventType } from './notification-events.js';

// An event as an email: a subject, a plain-text body and an HTML body with the same facts (for an approval:
// the evidence an approver needs and the link to the approval inbox). Pure: the delivery activity renders.

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

type Data = Record<string, unknown>;

const str = (v: unknown): string => (v === null || v === undefined ? '—' : typeof v === 'string' ? v : JSON.stringify(v));
const num = (v: unknown, unit = ''): string => (typeof v === 'number' ? `${Math.round(v * 100) / 100}${unit}` : '—');
const pts = (v: unknown): string => (typeof v === 'number' ? `${v >= 0 ? '+' : ''}${Math.round(v * 100) / 100} points` : '—');

function item(d: Data): string {
  const adv = typeof d.advisory === 'string' ? d.advisory : 'a patch';
  return typeof d.os === 'string' ? `${adv} (${d.os})` : adv;
}

/** The one-line summary of an event: the email subject, and orchestrator_notifications.subject. */
export function eventSubject(type: EventType, d: Data): string {
  switch (type) {
    case 'sync.completed': return `UYUNI sync done: ${str(d.errata)} errata, ${str(d.inserted)} new, ${str(d.updated)} changed`;
    case 'sync.failed': return `UYUNI sync failed: ${str(d.error)}`;
    case 'test.passed': return `${item(d)} passed its test`;
    case 'test.failed': return `${item(d)} failed its test${d.failure_phase ? ` (${str(d.failure_phase)})` : ''}`;
    case 'test.rolled_back': return `${item(d)} failed its test and was rolled back`;
    case 'test.inconclusive': return `${item(d)}: test inconclusive, queued again`;
    case 'bundle.culprit_found': return `Bundle ${str(d.bundle_id)}: ${str(d.culprit_advisory)} broke the test`;
    case 'approval.requested': return `Approval needed: ${item(d)}`;
    case 'approval.reminder': return `Reminder ${str(d.reminder)}: ${item(d)} waits for a decision`;
    case 'approval.decided': return `${item(d)} ${d.decision === 'approve' ? 'approved' : d.decision === 'reject' ? 'rejected' : 'snoozed'} by ${str(d.by)}`;
    case 'approval.expired': return `Approval expired: ${item(d)}`;
    case 'deployment.started': return `Rollout started: ${item(d)}`;
    case 'deployment.wave_completed': return `Rollout of ${item(d)}: wave ${str(d.wave)} done (${str(d.applied)} applied, ${str(d.failed)} failed)`;
    case 'deployment.halted': return `Rollout HALTED: ${item(d)} (${d.cause === 'budget' ? 'failure budget exceeded' : d.cause === 'retraction' ? 'the advisory was retracted' : `halted by ${str(d.by)}`})`;
    case 'deployment.verdict_paused': return `${Number(d.reminder) > 0 ? `Reminder ${str(d.reminder)}: ` : ''}Rollout PAUSED: ${item(d)} wave ${str(d.wave)} verdict ${str(d.verdict)}, a decision is needed`;
    case 'deployment.completed': return `Rollout completed: ${item(d)} on ${str(d.applied)} systems`;
    case 'deployment.rolled_back': return `Production rollback of ${item(d)} ${d.verified ? 'done, verified' : 'FAILED on some systems'}`;
    case 'advisory.retracted': return `Advisory RETRACTED: ${str(d.advisory)} (${Array.isArray(d.cancelled) ? d.cancelled.length : 0} cancelled, ${Array.isArray(d.halted) ? d.halted.length : 0} rollouts halted)`;
    case 'test_system.quarantined': return `Test system ${str(d.name)} quarantined`;
    case 'notification.test': return 'SPM Orchestrator test notification';
  }
}

/** The facts of an event, label → value, in reading order. */
function facts(type: EventType, d: Data): Array<[string, string]> {
  const rows: Array<[string, string]> = [];
  if (d.advisory) rows.push(['Advisory', str(d.advisory)]);
  if (d.os) rows.push(['OS', str(d.os)]);
  if (d.queue_id !== null && d.queue_id !== undefined) rows.push(['Queue item', str(d.queue_id)]);
  if (type === 'approval.requested') {
    const e = (d.evidence ?? {}) as Data;
    rows.push(
      ['Synopsis', str(d.synopsis)],
      ['Severity', str(d.severity)],
      ['CVEs', Array.isArray(d.cves) && d.cves.length ? d.cves.join(', ') : 'none'],
      ['Success Score', num(d.success_score)],
      ['Test', `#${str(e.test_id)} on ${str(e.test_system)}`],
      ['CPU change', pts(e.cpu_delta)],
      ['Memory change', pts(e.memory_delta)],
      ['Critical services', servicesLine(e.services)],
      ['Reboot', typeof e.reboot_duration_seconds === 'number' ? `${num(e.reboot_duration_seconds)} s` : 'none needed'],
      ['Restore point', str(e.snapshot_type)],
    );
    return rows;
  }
  const skip = new Set(['advisory', 'os', 'queue_id', 'links', 'evidence', 'policy']);
  for (const [k, v] of Object.entries(d)) {
    if (skip.has(k) || v === null || v === undefined) continue;
    rows.push([k.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase()), k.endsWith('_delta') ? pts(v) : Array.isArray(v) ? v.join(', ') : str(v)]);
  }
  return rows;
}

function servicesLine(services: unknown): string {
  if (!services || typeof services !== 'object') return '—';
  const entries = Array.isArray(services)
    ? services.map((s: unknown) => (s && typeof s === 'object' ? `${str((s as Data).name)}: ${str((s as Data).running ?? (s as Data).state)}` : str(s)))
    : Object.entries(services as Data).map(([k, v]) => `${k}: ${typeof v === 'boolean' ? (v ? 'running' : 'NOT running') : str(v)}`);
  return entries.join(', ') || '—';
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export function renderMail(event: EventEnvelope, eventId: string): RenderedMail {
  const d = event.data as unknown as Data;
  const subj = eventSubject(event.type, d);
  const rows = facts(event.type, d);
  const links = event.data.links;
  const linkRows: Array<[string, string]> = [[event.type.startsWith('approval.') ? 'Approval inbox' : 'Dashboard', links.dashboard]];
  if (links.temporal) linkRows.push(['Temporal workflow', links.temporal]);
  const width = Math.max(...rows.map(([k]) => k.length), ...linkRows.map(([k]) => k.length));
  const text = [
    subj,
    '',
    ...rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`),
    '',
    ...linkRows.map(([k, v]) => `${k.padEnd(width)}  ${v}`),
    '',
    `event ${event.type} · ${eventId} · ${event.timestamp}`,
  ].join('\n');
  const html = [
    '<!doctype html><html><body style="font-family:sans-serif">',
    `<h2>${escapeHtml(subj)}</h2>`,
    '<table cellpadding="4">',
    ...rows.map(([k, v]) => `<tr><th align="left">${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`),
    '</table>',
    '<p>',
    ...linkRows.map(([k, v]) => `<a href="${escapeHtml(v)}">${escapeHtml(k)}</a><br>`),
    '</p>',
    `<p style="color:#666;font-size:smaller">event ${escapeHtml(event.type)} · ${escapeHtml(eventId)} · ${escapeHtml(event.timestamp)}</p>`,
    '</body></html>',
  ].join('\n');
  return { subject: subj, text, html };
}

/** The dashboard page an event points at (hash routes of ui/app.js). */
export function dashboardPath(type: EventType, d: { queue_id: number | null; test_id?: unknown; system_id?: unknown }): string {
  if (type.startsWith('approval.')) return '/ui/#/approvals';
  if (type.startsWith('sync.')) return '/ui/#/overview';
  if (type === 'test_system.quarantined') return '/ui/#/test-systems';
  if (type.startsWith('deployment.') && d.queue_id !== null) return `/ui/#/deployments/${d.queue_id}`;
  if ((type.startsWith('test.') || type === 'bundle.culprit_found') && typeof d.test_id === 'number') return `/ui/#/tests/${d.test_id}`;
  if (d.queue_id !== null) return '/ui/#/queue';
  return '/ui/';
}
