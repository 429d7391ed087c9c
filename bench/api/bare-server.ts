import Fastify from 'fastify';

// The yardstick for bench/api: a bare Fastify route on the same machine, no auth, no database.
const app = Fastify({ logger: false });
app.get('/bare', async () => ({ ok: true }));
const port = Number(process.env.BARE_PORT ?? 5099);
await app.listen({ host: '127.0.0.1', port });
process.stdout.write(`${JSON.stringify({ msg: 'bare listening', port })}\n`);
process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
