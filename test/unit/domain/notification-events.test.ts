import { describe, expect, it } from 'vitest';
import { loadConfig, ConfigError } from '../../../config/config.js';
import {
  checkEventFilter, DEFAULT_RETRY_SCHEDULE_SECONDS, EVENT_TYPES, filterMatches, nextAttemptDelaySeconds, parseRetryAfter, webhookVerdict,
} from '../../../domain/notification-events.js';
import { dashboardPath, eventSubject, renderMail } from '../../../domain/notification-render.js';

// The pure rules of notification delivery, against written-out values.

describe('the retry schedule (Standard Webhooks)', () => {
  it('is 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h after the first attempt: ten attempts over about three days', () => {
    expect(DEFAULT_RETRY_SCHEDULE_SECONDS).toEqual([5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400]);
    const total = DEFAULT_RETRY_SCHEDULE_SECONDS.reduce((a, b) => a + b, 0);
    expect(total).toBe(272_105); // 75.6 h
    expect(loadConfig({}).notify.retryScheduleSeconds).toEqual([5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400]);
  });

  it('spreads each delay by ±10 %, gives up after the last step, and never retries sooner than Retry-After', () => {
    const s = [5, 300];
    expect(nextAttemptDelaySeconds(s, 1, null, 0)).toBeCloseTo(4.5);
    expect(nextAttemptDelaySeconds(s, 1, null, 0.5)).toBeCloseTo(5);
    expect(nextAttemptDelaySeconds(s, 1, null, 0.999999)).toBeCloseTo(5.5);
    expect(nextAttemptDelaySeconds(s, 2, null, 0.5)).toBeCloseTo(300);
    expect(nextAttemptDelaySeconds(s, 3, null, 0.5)).toBeNull();
    expect(nextAttemptDelaySeconds(s, 0, null, 0.5)).toBeNull();
    expect(nextAttemptDelaySeconds(s, 1, 120, 0.5)).toBe(120);
    expect(nextAttemptDelaySeconds(s, 2, 120, 0.5)).toBeCloseTo(300); // the schedule's later step wins
    expect(nextAttemptDelaySeconds(s, 1, 10 * 86_400, 0.5)).toBe(86_400); // capped at a day
    expect(nextAttemptDelaySeconds(s, 3, 60, 0.5)).toBeNull(); // used up: Retry-After does not extend it
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2026-12-04T20:00:00Z');
    expect(parseRetryAfter('120', now)).toBe(120);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('Fri, 04 Dec 2026 20:01:30 GMT', now)).toBe(90);
    expect(parseRetryAfter('Fri, 04 Dec 2026 19:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter('-5', now)).toBeNull();
    expect(parseRetryAfter(null, now)).toBeNull();
  });

  it('judges an HTTP answer: 2xx delivered, 410 disables, everything else retries (3xx included: never followed)', () => {
    expect([200, 201, 204, 299].map(webhookVerdict)).toEqual(['delivered', 'delivered', 'delivered', 'delivered']);
    expect(webhookVerdict(410)).toBe('disable');
    expect([301, 302, 307, 400, 401, 404, 409, 429, 500, 502, 503, 504].map(webhookVerdict)).toEqual(Array(12).fill('retry'));
  });

  it('a bad NOTIFY_RETRY_SCHEDULE or SMTP_URL stops the start naming the variable (and never prints the secret)', () => {
    expect(loadConfig({ NOTIFY_RETRY_SCHEDULE: '1s,2m,3h,250ms' }).notify.retryScheduleSeconds).toEqual([1, 120, 10_800, 0.25]);
    expect(() => loadConfig({ NOTIFY_RETRY_SCHEDULE: '5s,soon' })).toThrow(/^configuration error: NOTIFY_RETRY_SCHEDULE has "soon"/);
    expect(() => loadConfig({ NOTIFY_RETRY_SCHEDULE: '8d' })).toThrow(ConfigError);
    expect(() => loadConfig({ NOTIFY_RETRY_SCHEDULE: ',' })).toThrow(/NOTIFY_RETRY_SCHEDULE must list 1 to 20 delays/);
    const err = (() => {
      try {
        loadConfig({ SMTP_URL: 'http://user:hunter2@mail.example.org' });
      } catch (e) {
        return e as Error;
      }
      return null;
    })();
    expect(err?.message).toBe('configuration error: SMTP_URL must use smtp: or smtps:');
    expect(loadConfig({ SMTP_URL: 'smtps://u:p@mail.example.org:465' }).notify.smtp.url).toBe('smtps://u:p@mail.example.org:465');
    expect(loadConfig({ NOTIFY_EMAIL_RECIPIENTS: 'approval.*=a@x.org,b@x.org; *=sre@x.org' }).notify.emailRecipients).toEqual([
      { filter: ['approval.*'], recipients: ['a@x.org', 'b@x.org'] },
      { filter: ['*'], recipients: ['sre@x.org'] },
    ]);
    expect(() => loadConfig({ NOTIFY_EMAIL_RECIPIENTS: 'approvals=a@x.org' })).toThrow(/^configuration error: NOTIFY_EMAIL_RECIPIENTS has "approvals=a@x.org": has "approvals": use/);
    expect(() => loadConfig({ NOTIFY_EMAIL_RECIPIENTS: 'approval.*=nobody' })).toThrow('configuration error: NOTIFY_EMAIL_RECIPIENTS has "nobody", which is not an email address');
    expect(() => loadConfig({ NOTIFY_EMAIL_RECIPIENTS: 'a@x.org' })).toThrow(/needs <event filter>=<address>/);
  });
});

describe('event filters', () => {
  it('match "*", a family and one type', () => {
    expect(filterMatches(['*'], 'sync.failed')).toBe(true);
    expect(filterMatches(['deployment.*'], 'deployment.halted')).toBe(true);
    expect(filterMatches(['deployment.*'], 'approval.requested')).toBe(false);
    expect(filterMatches(['approval.requested', 'test.failed'], 'test.failed')).toBe(true);
    expect(filterMatches(['approval.requested'], 'approval.reminder')).toBe(false);
    expect(filterMatches(['test_system.*'], 'test.failed')).toBe(false);
  });

  it('refuse unknown types and families with a reason', () => {
    expect(checkEventFilter(['*'])).toBeNull();
    expect(checkEventFilter(['approval.*', 'sync.completed'])).toBeNull();
    expect(checkEventFilter([])).toBe('must name at least one event type (or "*")');
    expect(checkEventFilter(['deploy.*'])).toBe('has "deploy.*": no event type of that family');
    expect(checkEventFilter(['sync.done'])).toBe('has "sync.done", which is not an event type');
    expect(checkEventFilter(['Sync.completed'])).toBe('has "Sync.completed": use "*", "<family>.*" or an event type');
  });

  it('the event types of the issues (the retraction and the paused wave verdict of issue 15 among them) and the test event', () => {
    expect(EVENT_TYPES).toEqual([
      'sync.completed', 'sync.failed', 'test.passed', 'test.failed', 'test.rolled_back', 'test.inconclusive', 'bundle.culprit_found',
      'approval.requested', 'approval.reminder', 'approval.decided', 'approval.expired', 'deployment.started', 'deployment.wave_completed',
      'deployment.halted', 'deployment.verdict_paused', 'deployment.completed', 'deployment.rolled_back', 'advisory.retracted', 'test_system.quarantined', 'notification.test',
    ]);
  });
});

describe('rendering', () => {
  it('subjects and dashboard pages', () => {
    expect(eventSubject('deployment.halted', { advisory: 'USN-1-1', os: 'ubuntu', cause: 'manual', by: 'alice' })).toBe('Rollout HALTED: USN-1-1 (ubuntu) (halted by alice)');
    expect(eventSubject('sync.completed', { errata: 634, inserted: 3, updated: 1 })).toBe('UYUNI sync done: 634 errata, 3 new, 1 changed');
    expect(eventSubject('deployment.halted', { advisory: 'USN-1-1', os: 'ubuntu', cause: 'retraction', by: 'uyuni' })).toBe('Rollout HALTED: USN-1-1 (ubuntu) (the advisory was retracted)');
    expect(eventSubject('advisory.retracted', { advisory: 'USN-1-1', cancelled: [1, 2], halted: [3] })).toBe('Advisory RETRACTED: USN-1-1 (2 cancelled, 1 rollouts halted)');
    expect(dashboardPath('approval.reminder', { queue_id: 4 })).toBe('/ui/#/approvals');
    expect(dashboardPath('deployment.completed', { queue_id: 4 })).toBe('/ui/#/deployments/4');
    expect(dashboardPath('test.failed', { queue_id: 4, test_id: 9 })).toBe('/ui/#/tests/9');
    expect(dashboardPath('test_system.quarantined', { queue_id: null })).toBe('/ui/#/test-systems');
  });

  it('escapes what it puts into HTML', () => {
    const m = renderMail(
      {
        type: 'sync.failed', timestamp: '2026-12-04T20:00:00.000Z',
        data: { queue_id: null, advisory: null, os: null, sync_run_id: 1, trigger: 'api', error: '<script>alert(1)</script> & "x"', links: { dashboard: 'https://d/ui/#/overview', temporal: null } },
      },
      'msg_1',
    );
    expect(m.html).not.toContain('<script>');
    expect(m.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;x&quot;');
    expect(m.text).toContain('<script>alert(1)</script>');
    expect(m.text).toContain('Dashboard');
    expect(m.text).toContain('event sync.failed · msg_1 · 2026-12-04T20:00:00.000Z');
  });
});
