import { Agent, request } from 'undici';
const base = process.argv[2] ?? 'http://127.0.0.1:38111';
const N = Number(process.argv[3] ?? 100);
const only = process.argv[4];
const dispatcher = new Agent({ connections: 2 });
const get = async (p) => { const r = await request(base + p, { dispatcher, headers: { authorization: 'Bearer spm-lab-viewer-token' } }); const t = await r.body.text(); if (r.statusCode !== 200) throw new Error(p + ' ' + r.statusCode + t); return t.length; };
const paths = ['/api/v1/overview', '/api/v1/approvals/pending?limit=50&offset=0', '/api/v1/queue?limit=50&offset=0', '/api/v1/tests?limit=50&offset=0', '/api/v1/tests/9957', '/api/v1/deployments?limit=50&offset=0', '/api/v1/deployments/89280', '/api/v1/errata?relevant=true&limit=50&offset=0', '/api/v1/test-systems?limit=100&offset=0', '/api/v1/approvals/history?limit=50&offset=0', '/api/v1/auth/me'];
for (const p of paths.filter((x) => !only || x.includes(only))) {
  let size = 0;
  for (let i = 0; i < 5; i++) size = await get(p);
  const ts = [];
  for (let i = 0; i < N; i++) { const t = performance.now(); await get(p); ts.push(performance.now() - t); }
  ts.sort((a, b) => a - b);
  const pc = (q) => ts[Math.min(ts.length - 1, Math.ceil(q * ts.length) - 1)].toFixed(1);
  console.log(p.padEnd(50), 'p50', pc(0.5).padStart(6), 'p90', pc(0.9).padStart(6), 'p99', pc(0.99).padStart(6), 'bytes', size);
}
await dispatcher.close();
