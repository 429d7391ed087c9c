import { readFileSync } from 'node:fs';
import { createSecureServer, type IncomingHttpHeaders, type ServerHttp2Session } from 'node:http2';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeActivityDeps, createActivityDeps, type ActivityDeps } from '../../activities/index.js';
import { commands, connectTemporal, ensureSearchAttributes, type TemporalHandle } from '../../client.js';
import type { Config } from '../../config/config.js';
import { ConfigError, loadConfig } from '../../config/config.js';
import { startDevServer, type DevServer } from '../../lab/temporal-dev-server.js';
import { temporalConnectionOptions } from '../../temporal/connection.js';
import { createOrchestratorWorker } from '../../worker.js';
import { makeTestPki, type TestPki } from '../support/certs.js';
import { testConfig, testDb, testLogger, uniqueTaskQueue, workflowBundle } from '../support/context.js';
import { startTlsProxy, type TlsProxy } from '../support/tls-proxy.js';

// TEMPORAL_TLS_* and TEMPORAL_API_KEY for the worker (NativeConnection) and the API / CLI (Connection), through
// temporal/connection.ts: a dev server of this file's own (namespace spm-tls, not default) behind a TLS
// terminator that demands a client certificate signed by the test CA (mTLS), certificates made by openssl.

const NAMESPACE = 'spm-tls';

describe('Temporal over TLS and mTLS, in a namespace other than default', () => {
  let server: DevServer;
  let proxy: TlsProxy;
  let pki: TestPki;
  const tlsEnv = () => ({
    TEMPORAL_ADDRESS: proxy.address,
    TEMPORAL_NAMESPACE: NAMESPACE,
    TEMPORAL_TLS_CA: pki.ca,
    TEMPORAL_TLS_CERT: pki.clientCert,
    TEMPORAL_TLS_KEY: pki.clientKey,
    TEMPORAL_TLS_SERVER_NAME: pki.serverName,
  });

  beforeAll(async () => {
    pki = makeTestPki();
    server = await startDevServer({ namespace: NAMESPACE });
    proxy = await startTlsProxy(pki, server.address, { requireClientCert: true });
  });

  afterAll(async () => {
    await proxy?.close();
    await server?.stop();
  });

  it('the config turns TLS on by itself and names the variable of a bad setting', () => {
    const config = testConfig(tlsEnv());
    expect(config.temporal.tls).toEqual({ caFile: pki.ca, certFile: pki.clientCert, keyFile: pki.clientKey, serverName: pki.serverName });
    expect(loadConfig({}).temporal.tls).toBeUndefined();
    expect(loadConfig({ TEMPORAL_TLS: 'true' }).temporal.tls).toEqual({});
    const bad: [Record<string, string>, RegExp][] = [
      [{ TEMPORAL_TLS_CERT: pki.clientCert }, /^configuration error: TEMPORAL_TLS_KEY /],
      [{ TEMPORAL_TLS_KEY: pki.clientKey }, /^configuration error: TEMPORAL_TLS_CERT /],
      [{ TEMPORAL_TLS_CA: '/nonexistent/ca.pem' }, /^configuration error: TEMPORAL_TLS_CA cannot be read/],
      [{ TEMPORAL_TLS_CA: pki.clientKey }, /^configuration error: TEMPORAL_TLS_CA is not a PEM certificate/],
      [{ TEMPORAL_TLS_CERT: pki.clientCert, TEMPORAL_TLS_KEY: pki.clientCert }, /^configuration error: TEMPORAL_TLS_KEY is not a PEM private key/],
      [{ TEMPORAL_TLS: 'false', TEMPORAL_TLS_CA: pki.ca }, /^configuration error: TEMPORAL_TLS is false but/],
      [{ TEMPORAL_TLS: 'yes' }, /^configuration error: TEMPORAL_TLS is invalid/],
    ];
    for (const [env, message] of bad) {
      expect(() => loadConfig(env), JSON.stringify(env)).toThrow(ConfigError);
      expect(() => loadConfig(env), JSON.stringify(env)).toThrow(message);
    }
    // The API key is a secret: never in an error message, and it implies TLS.
    expect(loadConfig({ TEMPORAL_API_KEY: 'k-123' }).temporal).toMatchObject({ apiKey: 'k-123', tls: {} });
    try {
      loadConfig({ TEMPORAL_API_KEY: 'k-s3cr3t', TEMPORAL_TLS: 'false' });
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).not.toContain('k-s3cr3t');
    }
  });

  it('the API / CLI client (Connection) connects with mTLS and sees the namespace', async () => {
    const config = testConfig(tlsEnv());
    const handle = await connectTemporal(config.temporal);
    try {
      const ns = await handle.connection.workflowService.describeNamespace({ namespace: NAMESPACE });
      expect(ns.namespaceInfo?.name).toBe(NAMESPACE);
    } finally {
      await handle.connection.close();
    }
    expect(proxy.accepted).toContain('client');
  });

  it('refuses what mTLS must refuse: no client certificate, an untrusted server CA, the wrong server name, plaintext', async () => {
    const attempts: [string, Record<string, string>][] = [
      ['no client certificate', { ...tlsEnv(), TEMPORAL_TLS_CERT: '', TEMPORAL_TLS_KEY: '' }],
      ['server certificate from an untrusted CA', { ...tlsEnv(), TEMPORAL_TLS_CA: pki.otherCa }],
      ['server name not in the certificate', { ...tlsEnv(), TEMPORAL_TLS_SERVER_NAME: 'other.spm.test' }],
      ['no server name (the certificate names temporal.spm.test, not 127.0.0.1)', { ...tlsEnv(), TEMPORAL_TLS_SERVER_NAME: '' }],
      ['plaintext', { ...tlsEnv(), TEMPORAL_TLS: 'false', TEMPORAL_TLS_CA: '', TEMPORAL_TLS_CERT: '', TEMPORAL_TLS_KEY: '', TEMPORAL_TLS_SERVER_NAME: '' }],
    ];
    for (const [what, env] of attempts) {
      const options = temporalConnectionOptions(testConfig(env).temporal);
      const refusedBefore = proxy.refused;
      await expect(NativeConnection.connect(options).then((c) => c.close()), `worker connection with ${what}`).rejects.toThrow();
      const { Connection } = await import('@temporalio/client');
      await expect(Connection.connect({ ...options, connectTimeout: 3_000 }).then((c) => c.close()), `client connection with ${what}`).rejects.toThrow();
      if (what === 'no client certificate') expect(proxy.refused).toBeGreaterThan(refusedBefore);
    }
  });

  describe('a worker and the ops CLI over mTLS in namespace spm-tls', () => {
    let config: Readonly<Config>;
    let native: NativeConnection;
    let handle: TemporalHandle;
    let deps: ActivityDeps;
    let worker: Worker;
    let running: Promise<void>;

    beforeAll(async () => {
      const base = testConfig(tlsEnv());
      config = { ...base, temporal: { ...base.temporal, taskQueue: uniqueTaskQueue('tls') } };
      native = await NativeConnection.connect(temporalConnectionOptions(config.temporal));
      expect((await ensureSearchAttributes(native, NAMESPACE)).length).toBe(0); // registered at start by the dev server
      handle = await connectTemporal(config.temporal);
      deps = createActivityDeps({ config, db: testDb(config), log: testLogger(), temporal: handle.client });
      worker = await createOrchestratorWorker({ config, connection: native, deps, workflowBundle: workflowBundle() });
      running = worker.run();
    });

    afterAll(async () => {
      if (worker?.getState() === 'RUNNING') worker.shutdown();
      await running;
      if (deps) {
        await closeActivityDeps(deps);
        await deps.db.destroy();
      }
      await handle?.connection.close();
      await native?.close();
    });

    it('runs the selfTest workflow end to end (CLI → Temporal → worker → PostgreSQL) in the namespace', async () => {
      const result = (await commands.selftest!.run({ client: handle.client, config, args: [] })) as { databaseTime: string; workerIdentity: string };
      expect(Date.parse(result.databaseTime)).toBeGreaterThan(Date.now() - 60_000);
      expect(result.workerIdentity).toContain(String(process.pid));
      const listed = [];
      for await (const wf of handle.client.workflow.list({ query: `WorkflowType="selfTest" AND TaskQueue="${config.temporal.taskQueue}"` })) listed.push(wf);
      expect(listed.length).toBe(1);
      expect(listed[0]!.status.name).toBe('COMPLETED');
      // and it is not in `default`
      const { Client } = await import('@temporalio/client');
      const inDefault = new Client({ connection: handle.connection, namespace: 'default' });
      const other = [];
      for await (const wf of inDefault.workflow.list({ query: `TaskQueue="${config.temporal.taskQueue}"` })) other.push(wf);
      expect(other).toEqual([]);
    });
  });
});

describe('Temporal Cloud API key', () => {
  let pki: TestPki;
  let seen: IncomingHttpHeaders[];
  let close: () => Promise<void>;
  let address: string;

  beforeAll(async () => {
    pki = makeTestPki();
    seen = [];
    // A gRPC endpoint that records each request's headers and answers UNAUTHENTICATED, as Cloud does to a bad key.
    const server = createSecureServer({ cert: readFileSync(pki.serverCert), key: readFileSync(pki.serverKey), ALPNProtocols: ['h2'] }, (req, res) => {
      seen.push(req.headers);
      res.writeHead(200, { 'content-type': 'application/grpc' });
      res.addTrailers({ 'grpc-status': '16', 'grpc-message': 'test server: key recorded' });
      res.end();
    });
    const sessions = new Set<ServerHttp2Session>();
    server.on('session', (s) => sessions.add(s.on('close', () => sessions.delete(s))));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    address = `127.0.0.1:${(server.address() as { port: number }).port}`;
    close = () =>
      new Promise((resolve) => {
        for (const s of sessions) s.destroy();
        server.close(() => resolve());
      });
  });

  afterAll(async () => close?.());

  it('is sent as Authorization: Bearer by the worker and by the client, over TLS', async () => {
    const config = testConfig({ TEMPORAL_ADDRESS: address, TEMPORAL_API_KEY: 'spm-test-api-key-0001', TEMPORAL_TLS_CA: pki.ca, TEMPORAL_TLS_SERVER_NAME: pki.serverName });
    const options = temporalConnectionOptions(config.temporal);
    expect(options.tls).toBeDefined();
    await expect(NativeConnection.connect(options).then((c) => c.close())).rejects.toThrow();
    const { Connection } = await import('@temporalio/client');
    await expect(Connection.connect({ ...options, connectTimeout: 3_000 }).then((c) => c.close())).rejects.toThrow();
    const auths = seen.map((h) => h.authorization);
    expect(auths.length).toBeGreaterThanOrEqual(2);
    expect(new Set(auths)).toEqual(new Set(['Bearer spm-test-api-key-0001']));
    expect(seen.some((h) => String(h['user-agent'] ?? '').includes('grpc-node'))).toBe(true);
    expect(seen.some((h) => !String(h['user-agent'] ?? '').includes('grpc-node'))).toBe(true);
  });
});
