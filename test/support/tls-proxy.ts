import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { createServer, type TLSSocket } from 'node:tls';
import type { TestPki } from './certs.js';

// `temporal server start-dev` (CLI 1.9.1) has no TLS flags, so the TLS tests put this in front of a dev
// server: a TLS terminator with ALPN h2 (gRPC needs it) that, with `requireClientCert`, refuses any client
// without a certificate signed by the test CA (mTLS), then passes the bytes to the plaintext frontend.

export interface TlsProxy {
  address: string;
  port: number;
  /** Handshakes refused (no or a bad client certificate, a plaintext client). */
  refused: number;
  /** Connections let through, with the client certificate's CN. */
  accepted: string[];
  close(): Promise<void>;
}

export async function startTlsProxy(pki: TestPki, upstream: string, opts: { requireClientCert: boolean }): Promise<TlsProxy> {
  const [upHost, upPort] = upstream.split(':') as [string, string];
  const sockets = new Set<Socket>();
  const proxy: TlsProxy = { address: '', port: 0, refused: 0, accepted: [], close: async () => undefined };
  const server = createServer(
    {
      cert: readFileSync(pki.serverCert),
      key: readFileSync(pki.serverKey),
      ca: readFileSync(pki.ca),
      requestCert: opts.requireClientCert,
      rejectUnauthorized: opts.requireClientCert,
      ALPNProtocols: ['h2'],
    },
    (client: TLSSocket) => {
      proxy.accepted.push(String(client.getPeerCertificate()?.subject?.CN ?? ''));
      const up = connect(Number(upPort), upHost);
      sockets.add(client).add(up);
      client.pipe(up).pipe(client);
      const done = () => {
        client.destroy();
        up.destroy();
        sockets.delete(client);
        sockets.delete(up);
      };
      client.on('error', done).on('close', done);
      up.on('error', done).on('close', done);
    },
  );
  server.on('tlsClientError', () => proxy.refused++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  proxy.port = port;
  proxy.address = `127.0.0.1:${port}`;
  proxy.close = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  return proxy;
}
