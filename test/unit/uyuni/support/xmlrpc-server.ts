// A tiny real XML-RPC-over-HTTP server on 127.0.0.1:0 for the client tests: each test scripts the
// replies by hand (no mocking of the client, no dependency on the lab's simulator).
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

export interface RecordedCall {
  method: string;
  /** First <string> parameter: the session key for authenticated methods. */
  firstString: string | undefined;
  body: string;
}

export type Reply =
  | {
      status?: number;
      body: string;
      delayMs?: number;
      /** Write the body in pieces of this many bytes (splitting UTF-8 sequences), chunkDelayMs apart. */
      chunkBytes?: number;
      chunkDelayMs?: number;
    }
  | 'hang';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface TestServer {
  url: string;
  calls: RecordedCall[];
  count(method: string): number;
  close(): Promise<void>;
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

export async function startXmlRpcServer(
  handler: (call: RecordedCall) => Reply | Promise<Reply>,
  tls?: { key: Buffer; cert: Buffer },
): Promise<TestServer> {
  const calls: RecordedCall[] = [];
  const listener = (request: IncomingMessage, response: ServerResponse) => {
    void (async () => {
      const body = await readBody(request);
      const call: RecordedCall = {
        method: /<methodName>([^<]*)<\/methodName>/.exec(body)?.[1] ?? '',
        firstString: /<param><value><string>([^<]*)<\/string><\/value><\/param>/.exec(body)?.[1],
        body,
      };
      calls.push(call);
      const reply = await handler(call);
      if (reply === 'hang') return;
      if (reply.delayMs !== undefined) await sleep(reply.delayMs);
      response.writeHead(reply.status ?? 200, { 'content-type': 'text/xml' });
      if (reply.chunkBytes === undefined) {
        response.end(reply.body);
        return;
      }
      // Chunked transfer encoding, one write per piece; stops if the client goes away.
      const bytes = Buffer.from(reply.body);
      for (let at = 0; at < bytes.length && !response.destroyed; at += reply.chunkBytes) {
        response.write(bytes.subarray(at, at + reply.chunkBytes));
        await sleep(reply.chunkDelayMs ?? 0);
      }
      response.end();
    })();
  };
  const server = tls === undefined ? createServer(listener) : createHttpsServer(tls, listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}/rpc/api`,
    calls,
    count: (method) => calls.filter((c) => c.method === method).length,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// Hand-written Redstone-style bodies.

const escape = (text: string): string => text.replaceAll('&', '&amp;').replaceAll('<', '&lt;');

export const wire = {
  string: (text: string) => `<value><string>${escape(text)}</string></value>`,
  i4: (n: number) => `<value><i4>${n}</i4></value>`,
  boolean: (b: boolean) => `<value><boolean>${b ? 1 : 0}</boolean></value>`,
  dateTime: (compact: string) => `<value><dateTime.iso8601>${compact}</dateTime.iso8601></value>`,
  array: (...values: string[]) => `<value><array><data>${values.join('')}</data></array></value>`,
  struct: (members: Record<string, string>) =>
    `<value><struct>${Object.entries(members)
      .map(([name, value]) => `<member><name>${name}</name>${value}</member>`)
      .join('')}</struct></value>`,
  response: (value: string) => `<?xml version="1.0" encoding="UTF-8"?>\n<methodResponse><params><param>${value}</param></params></methodResponse>`,
  fault: (code: number, text: string) =>
    `<?xml version="1.0" encoding="UTF-8"?>\n<methodResponse><fault><value><struct>` +
    `<member><name>faultCode</name><value><int>${code}</int></value></member>` +
    `<member><name>faultString</name><value><string>${escape(text)}</string></value></member>` +
    `</struct></value></fault></methodResponse>`,
};

export const faults = {
  unknownSession: (id: string) =>
    wire.fault(-1, `com.redhat.rhn.common.hibernate.LookupException: Could not find session with id: ${id}`),
  wrongLogin: () => wire.fault(2950, 'redstone.xmlrpc.XmlRpcFault: Either the password or username is incorrect.'),
  unknownAdvisory: (name: string) => wire.fault(-208, `redstone.xmlrpc.XmlRpcFault: The patch ${name} cannot be found.`),
};

/** A key in Uyuni's format: `<id>x<64 hex>`. */
export function sessionKey(id: number): string {
  return `${id}x${createHash('sha256').update(`session-${id}`).digest('hex')}`;
}
