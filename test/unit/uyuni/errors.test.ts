// Fault classification (reference §2.3), the retryable/type contract, the Temporal mapping and
// redaction.
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import {
  classifyFault,
  UyuniAuthError,
  UyuniFault,
  UyuniHttpError,
  UyuniInvalidErrataError,
  UyuniNotFoundError,
  UyuniNotInMaintenanceError,
  UyuniRetractedErrataError,
  UyuniProgrammingError,
  UyuniProtocolError,
  UyuniSessionError,
  UyuniTimeoutError,
  UyuniTlsError,
  UyuniTransportError,
} from '../../../activities/uyuni/errors.js';
import { toApplicationFailure } from '../../../activities/uyuni/failure.js';
import { Redactor } from '../../../activities/uyuni/redact.js';

const PREFIX = 'redstone.xmlrpc.XmlRpcFault: ';

describe('classifyFault', () => {
  it.each([
    [-1, 'com.redhat.rhn.common.hibernate.LookupException: Could not find session with id: 42', UyuniSessionError, 'UyuniSessionError', true],
    [-1, 'com.redhat.rhn.domain.session.InvalidSessionIdException: Session id: 42 is not valid.', UyuniSessionError, 'UyuniSessionError', true],
    [2950, `${PREFIX}Either the password or username is incorrect.`, UyuniAuthError, 'UyuniAuthError', false],
    [-208, `${PREFIX}The patch RHSA-2024:1234 cannot be found.`, UyuniNotFoundError, 'UyuniNotFoundError', false],
    [-208, `${PREFIX}No such system - sid = 1000010999`, UyuniNotFoundError, 'UyuniNotFoundError', false],
    [-1, `${PREFIX}unhandled internal exception: Could not find server 1000010999 for user admin`, UyuniNotFoundError, 'UyuniNotFoundError', false],
    [2600, `${PREFIX}Invalid errata id(s)`, UyuniInvalidErrataError, 'UyuniInvalidErrataError', false],
    [-1, `${PREFIX}Could not find method: system.nope in class: com.redhat.rhn.frontend.xmlrpc.system.SystemHandler with params: [java.lang.String]`, UyuniProgrammingError, 'UyuniProgrammingError', false],
    [2802, `${PREFIX}Taskomatic is down`, UyuniFault, 'UyuniFault', true],
    [-23, `${PREFIX}You do not have permissions to perform this action.`, UyuniFault, 'UyuniFault', false],
    [-208, `${PREFIX}something else`, UyuniFault, 'UyuniFault', false],
  ] as const)('%i %s', (code, text, errorClass, type, retryable) => {
    const error = classifyFault(code, text, { method: 'm.x' });
    expect(error).toBeInstanceOf(errorClass);
    expect(error.type).toBe(type);
    expect(error.retryable).toBe(retryable);
    expect(error.message).toBe(`m.x: fault ${code}: ${text}`);
  });

  it('extracts what was not found', () => {
    expect(classifyFault(-208, `${PREFIX}The patch RHSA-2024:1234 cannot be found.`)).toMatchObject({ kind: 'advisory', subject: 'RHSA-2024:1234' });
    expect(classifyFault(-208, `${PREFIX}No such system - sid = 1000010999`)).toMatchObject({ kind: 'system', subject: '1000010999' });
    expect(classifyFault(-208, `${PREFIX}No such system`)).toMatchObject({ kind: 'system', subject: undefined });
    expect(classifyFault(2700, `${PREFIX}No such action`)).toMatchObject({ kind: 'action' });
  });

  it('classifies on the raw text but keeps only the redacted text', () => {
    const key = `42x${'ab'.repeat(32)}`;
    const error = classifyFault(-1, `InvalidSessionIdException: Session ${key} is not valid.`, {
      redact: (text) => text.replaceAll(key, '[REDACTED]'),
    });
    expect(error).toBeInstanceOf(UyuniSessionError);
    expect(error.message).not.toContain(key);
    expect((error as UyuniSessionError).faultString).toBe('InvalidSessionIdException: Session [REDACTED] is not valid.');
  });
});

describe('retryable contract', () => {
  it.each([
    [new UyuniTransportError('x'), 'UyuniTransportError', true],
    [new UyuniTlsError('x'), 'UyuniTlsError', false],
    [new UyuniTimeoutError(1000), 'UyuniTimeoutError', true],
    [new UyuniHttpError(500, ''), 'UyuniHttpError', true],
    [new UyuniHttpError(503, ''), 'UyuniHttpError', true],
    [new UyuniHttpError(429, ''), 'UyuniHttpError', true],
    [new UyuniHttpError(404, ''), 'UyuniHttpError', false],
    [new UyuniProtocolError('x', { truncated: true }), 'UyuniProtocolError', true],
    [new UyuniProtocolError('x'), 'UyuniProtocolError', false],
    [new UyuniProgrammingError('x'), 'UyuniProgrammingError', false],
  ] as const)('%s', (error, type, retryable) => {
    expect(error.type).toBe(type);
    expect(error.retryable).toBe(retryable);
    expect(error.name).toBe(type);
  });

  it('maps to a Temporal ApplicationFailure', () => {
    const auth = toApplicationFailure(classifyFault(2950, 'no', { method: 'auth.login' }));
    expect(auth).toBeInstanceOf(ApplicationFailure);
    expect(auth).toMatchObject({ type: 'UyuniAuthError', nonRetryable: true, details: [{ method: 'auth.login', faultCode: 2950, faultString: 'no' }] });
    const timeout = toApplicationFailure(new UyuniTimeoutError(5000, 'system.getNetwork'));
    expect(timeout).toMatchObject({ type: 'UyuniTimeoutError', nonRetryable: false, details: [{ timeoutMs: 5000 }] });
    const notFound = toApplicationFailure(classifyFault(-208, `${PREFIX}The patch X-1 cannot be found.`));
    expect(notFound).toMatchObject({ nonRetryable: true, details: [{ kind: 'advisory', subject: 'X-1' }] });
    const other = new Error('not ours');
    expect(toApplicationFailure(other)).toBe(other);
  });
});

describe('Redactor', () => {
  it('masks the password, session keys and their hex part', () => {
    const redactor = new Redactor();
    const key = `7x${'0123456789abcdef'.repeat(4)}`;
    redactor.addSecret('s3cret!');
    redactor.addSessionKey(key);
    const hex = key.slice(2);
    expect(redactor.redact(`login s3cret! key ${key} hex ${hex}`)).toBe('login [REDACTED] key [REDACTED] hex [REDACTED]');
    // Any key-shaped token, even one this redactor never saw.
    expect(redactor.redact(`old 99x${'f'.repeat(64)} end`)).toBe('old [REDACTED] end');
  });

  it('does not expose secrets to util.inspect', async () => {
    const { inspect } = await import('node:util');
    const redactor = new Redactor();
    redactor.addSecret('s3cret!');
    expect(inspect(redactor, { showHidden: true, depth: 5 })).not.toContain('s3cret!');
  });
});

describe('issue 15: retracted errata and maintenance windows', () => {
  it('2602 is a retraction; 1334 and 11334 (and the exception named under -1) are "not in a maintenance window"; none retryable', () => {
    const retracted = classifyFault(2602, 'redstone.xmlrpc.XmlRpcFault: Patches with ids 5123 are retracted', { method: 'system.scheduleApplyErrata' });
    expect(retracted).toBeInstanceOf(UyuniRetractedErrataError);
    expect(retracted).toMatchObject({ type: 'UyuniRetractedErrataError', retryable: false, faultCode: 2602 });
    for (const code of [1334, 11334]) {
      const e = classifyFault(code, "redstone.xmlrpc.XmlRpcFault: Schedules 'nightly' are not matching date Mon Dec 07 14:00:00 UTC 2026 ");
      expect(e).toBeInstanceOf(UyuniNotInMaintenanceError);
      expect(e.retryable).toBe(false);
    }
    expect(classifyFault(-1, 'redstone.xmlrpc.XmlRpcFault: unhandled internal exception: com.suse.manager.maintenance.NotInMaintenanceModeException: Systems assigned to these schedules (nightly) do not have a maintenance window at …'))
      .toBeInstanceOf(UyuniNotInMaintenanceError);
    expect(classifyFault(-1, 'redstone.xmlrpc.XmlRpcFault: unhandled internal exception: com.redhat.rhn.manager.errata.RetractedErrataException: 5123')).toBeInstanceOf(UyuniRetractedErrataError);
    expect(classifyFault(2600, 'redstone.xmlrpc.XmlRpcFault: Invalid errata')).not.toBeInstanceOf(UyuniRetractedErrataError);
  });
});
