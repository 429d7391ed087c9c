// A tiny real Prometheus HTTP API look-alike on 127.0.0.1:0: records each request's form fields
// and answers with hand-written envelopes in the reference's shapes (§2.1).
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedQuery {
  method: string;
  path: string;
  contentType: string | undefined;
  form: Record<string, string>;
}

export type PromReply = { status?: number; json: unknown } | { status: number; text: string } | 'hang';

export interface FakePrometheus {
  url: string;
  requests: RecordedQuery[];
  /** Form `query` of every /api/v1 request, in order. */
  queries(): string[];
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

export async function startFakePrometheus(handler: (request: RecordedQuery) => PromReply): Promise<FakePrometheus> {
  const requests: RecordedQuery[] = [];
  const server = createServer((request, response) => {
    void (async () => {
      const body = await readBody(request);
      const url = new URL(request.url ?? '/', 'http://x');
      const form = Object.fromEntries(new URLSearchParams(request.method === 'POST' ? body : url.search));
      const recorded: RecordedQuery = { method: request.method ?? '', path: url.pathname, contentType: request.headers['content-type'], form };
      requests.push(recorded);
      const answer = handler(recorded);
      if (answer === 'hang') return;
      if ('json' in answer) {
        response.writeHead(answer.status ?? 200, { 'content-type': 'application/json' });
        response.end(JSON.stringify(answer.json));
        return;
      }
      response.writeHead(answer.status, { 'content-type': 'text/plain; charset=utf-8' });
      response.end(answer.text);
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    queries: () => requests.filter((r) => r.path.startsWith('/api/v1/')).map((r) => r.form.query ?? ''),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// ---- envelopes -----------------------------------------------------------------------------------

export const NOW = 1795745905.748;

export const vector = (...samples: [Record<string, string>, string][]) => ({
  json: { status: 'success', data: { resultType: 'vector', result: samples.map(([metric, value]) => ({ metric, value: [NOW, value] })) } },
});

export const matrix = (...series: [Record<string, string>, string[]][]) => ({
  json: {
    status: 'success',
    data: {
      resultType: 'matrix',
      result: series.map(([metric, values]) => ({ metric, values: values.map((v, i) => [1795745901 + i * 2, v]) })),
    },
  },
});

export const promError = (status: number, errorType: string, error: string) => ({ status, json: { status: 'error', errorType, error } });
