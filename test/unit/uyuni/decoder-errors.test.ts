// Both decoders reject broken bodies with a UyuniProtocolError (truncated ⇒ retryable) and turn
// faults into the same classified error.
import { describe, expect, it } from 'vitest';
import { decodeFast } from '../../../activities/uyuni/decode-fast.js';
import { decodeReference } from '../../../activities/uyuni/decode-reference.js';
import {
  UyuniAuthError,
  UyuniError,
  UyuniFault,
  UyuniInvalidErrataError,
  UyuniNotFoundError,
  UyuniProgrammingError,
  UyuniProtocolError,
  UyuniSessionError,
} from '../../../activities/uyuni/errors.js';
import { malformedBodies, truncatedBodies } from './support/decoder-cases.js';
import { wire } from './support/xmlrpc-server.js';

async function rejectionOf(run: () => unknown): Promise<UyuniError> {
  try {
    await run();
  } catch (error) {
    expect(error).toBeInstanceOf(UyuniError);
    return error as UyuniError;
  }
  throw new Error('expected a rejection');
}

async function bothReject(xml: string): Promise<[UyuniError, UyuniError]> {
  const options = { method: 'system.getRelevantErrata' };
  const reference = await rejectionOf(() => decodeReference(xml, options));
  const fast = await rejectionOf(() => decodeFast(xml, options));
  expect(fast.type).toBe(reference.type);
  expect(fast.retryable).toBe(reference.retryable);
  return [reference, fast];
}

describe('malformed bodies', () => {
  it.each(truncatedBodies())('truncated (%s) → retryable protocol error', async (_label, xml) => {
    for (const error of await bothReject(xml)) {
      expect(error).toBeInstanceOf(UyuniProtocolError);
      expect((error as UyuniProtocolError).truncated).toBe(true);
      expect(error.retryable).toBe(true);
      expect(error.message).toMatch(/^system\.getRelevantErrata: malformed XML-RPC response \(truncated\)/);
    }
  });

  it.each(malformedBodies)('%s → non-retryable protocol error', async (_label, xml) => {
    for (const error of await bothReject(xml)) {
      expect(error).toBeInstanceOf(UyuniProtocolError);
      expect(error.retryable).toBe(false);
      expect(error.message).toContain('malformed XML-RPC response');
    }
  });

  it('names the problem clearly', async () => {
    const [, fast] = await bothReject('<html><body>502</body></html>');
    expect(fast.message).toContain('expected <methodResponse> as the root element, got <html>');
    expect(fast.message).toContain("body starts with '<html><body>502</body></html>'");
  });
});

describe('faults', () => {
  it.each([
    [-1, 'com.redhat.rhn.common.hibernate.LookupException: Could not find session with id: 42', UyuniSessionError],
    [-1, 'com.redhat.rhn.domain.session.InvalidSessionIdException: Session id: 42 is not valid.', UyuniSessionError],
    [2950, 'redstone.xmlrpc.XmlRpcFault: Either the password or username is incorrect.', UyuniAuthError],
    [-208, 'redstone.xmlrpc.XmlRpcFault: The patch NOPE-1 cannot be found.', UyuniNotFoundError],
    [-208, 'redstone.xmlrpc.XmlRpcFault: No such system - sid = 1000010999', UyuniNotFoundError],
    [2600, 'redstone.xmlrpc.XmlRpcFault: Invalid errata', UyuniInvalidErrataError],
    [-1, 'redstone.xmlrpc.XmlRpcFault: Could not find method: nope in class: X with params: []', UyuniProgrammingError],
    [-23, 'redstone.xmlrpc.XmlRpcFault: You do not have permissions to perform this action.', UyuniFault],
  ] as const)('%i %s', async (code, text, errorClass) => {
    const [reference, fast] = await bothReject(wire.fault(code, text));
    for (const error of [reference, fast]) {
      expect(error).toBeInstanceOf(errorClass);
      expect(error).toMatchObject({ faultCode: code, faultString: text });
    }
    expect(fast.message).toBe(reference.message);
  });

  it('redacts the fault text through the given redactor', async () => {
    const xml = wire.fault(-1, 'java.lang.IllegalArgumentException: bad value hunter2');
    const redact = (text: string) => text.replaceAll('hunter2', '[REDACTED]');
    for (const decode of [decodeReference, decodeFast]) {
      const error = await rejectionOf(() => decode(xml, { redact }));
      expect(error.message).toContain('[REDACTED]');
      expect(JSON.stringify({ ...error, message: error.message })).not.toContain('hunter2');
    }
  });
});
