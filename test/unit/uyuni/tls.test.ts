// TLS knobs against a real HTTPS server with a throw-away self-signed certificate (made with the openssl
// binary, which Debian ships; its absence fails the suite rather than skipping it): verification on by
// default, a CA bundle, or verification off.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UyuniClient } from '../../../activities/uyuni/client.js';
import { UyuniTlsError } from '../../../activities/uyuni/errors.js';
import { sessionKey, startXmlRpcServer, wire, type TestServer } from './support/xmlrpc-server.js';

describe('TLS', () => {
  let dir: string;
  let server: TestServer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'uyuni-tls-'));
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=uyuni-test', '-addext', 'subjectAltName=IP:127.0.0.1'],
      { stdio: 'ignore' },
    );
    server = await startXmlRpcServer(
      (call) => ({ body: call.method === 'auth.login' ? wire.response(wire.string(sessionKey(1))) : wire.response(wire.array()) }),
      { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) },
    );
  });

  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function listGroups(options: { verifyTls?: boolean; caFile?: string }): Promise<unknown> {
    const client = new UyuniClient({ url: server.url, user: 'admin', password: 'secret', timeoutMs: 2_000, ...options });
    try {
      return await client.listAllGroups();
    } finally {
      await client.close();
    }
  }

  it('refuses an untrusted certificate with a non-retryable TLS error', async () => {
    const error = await listGroups({}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UyuniTlsError);
    expect(error).toMatchObject({ type: 'UyuniTlsError', retryable: false, code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
  });

  it('trusts the certificate given as caFile', async () => {
    await expect(listGroups({ caFile: join(dir, 'cert.pem') })).resolves.toEqual([]);
  });

  it('connects without verification when verifyTls is false', async () => {
    await expect(listGroups({ verifyTls: false })).resolves.toEqual([]);
  });
});
