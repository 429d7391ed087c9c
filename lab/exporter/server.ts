/**
 * node_exporter stand-ins: one HTTP listener per simulated system on `<system ip>:<port>` (Linux
 * routes all of 127.0.0.0/8 to lo, so any of those addresses can be bound without setup).
 * A rebooting system resets connections, a hung one never answers (the scrape times out): either
 * way Prometheus records `up` = 0. The port is a parameter so concurrent labs can coexist.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Fleet, LabSystem } from '../fleet/index.js';
import { CpuCounters } from './cpu-counters.js';
import { EXPOSITION_CONTENT_TYPE, renderNodeMetrics } from './render.js';
import { nodeTargetGroup, type TargetGroup } from './targets.js';

export interface ExporterOptions {
  fleet: Fleet;
  port: number;
  /** Systems (or ids) to serve; all of the fleet's by default. */
  systems?: readonly (LabSystem | number)[];
  /** Value of the `lab` label in target groups; random by default. */
  labId?: string;
  /** Drives the CPU counters (epoch ms); the wall clock by default, as scrapers expect. */
  counterClock?: () => number;
}

export interface Exporters {
  readonly port: number;
  readonly labId: string;
  /** `ip:port` per served system, fleet order. */
  readonly targets: readonly string[];
  /** The `instance` label Prometheus gives a system scraped through these targets. */
  instanceOf(sys: LabSystem | number): string;
  targetGroups(extraLabels?: Record<string, string>): TargetGroup[];
  /** Successful scrapes per system id. */
  readonly scrapes: ReadonlyMap<number, number>;
  close(): Promise<void>;
}

/** Thrown when `<ip>:<port>` is taken; pick another port and retry. */
export class ExporterPortInUseError extends Error {
  readonly code = 'EADDRINUSE';
  constructor(
    readonly address: string,
    readonly port: number,
  ) {
    super(`node-exporter lab: ${address}:${port} is already in use (EADDRINUSE); start the exporters on another port`);
    this.name = 'ExporterPortInUseError';
  }
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      reject(err.code === 'EADDRINUSE' ? new ExporterPortInUseError(host, port) : err);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ host, port, exclusive: true });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

export async function startExporters(opts: ExporterOptions): Promise<Exporters> {
  const { fleet, port } = opts;
  if (!Number.isInteger(port) || port <= 0 || port > 65_535) {
    throw new RangeError('startExporters: port must be a fixed port (1-65535): every system listens on the same port of its own address');
  }
  const systems = (opts.systems ?? fleet.systems).map((s) => (typeof s === 'number' ? fleet.requireSystem(s) : s));
  const counters = new CpuCounters(opts.counterClock ?? Date.now);
  const labId = opts.labId ?? `lab-${randomBytes(4).toString('hex')}`;
  const scrapes = new Map<number, number>();
  const held = new Set<Socket>();
  const servers: Server[] = [];

  const handler = (sys: LabSystem) => (req: IncomingMessage, res: ServerResponse) => {
    fleet.tick();
    if (!sys.up) {
      if (sys.hung) {
        // A hung kernel: the TCP stack may still accept, nothing ever answers.
        held.add(req.socket);
        req.socket.once('close', () => held.delete(req.socket));
      } else req.socket.destroy();
      return;
    }
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics') {
      scrapes.set(sys.id, (scrapes.get(sys.id) ?? 0) + 1);
      res.writeHead(200, { 'content-type': EXPOSITION_CONTENT_TYPE });
      res.end(req.method === 'HEAD' ? undefined : renderNodeMetrics(fleet, sys, counters));
      return;
    }
    if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<html><head><title>Node Exporter</title></head><body><h1>Node Exporter</h1><p><a href="/metrics">Metrics</a></p></body></html>');
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('404 page not found\n');
  };

  try {
    for (const sys of systems) {
      const server = createServer({ keepAlive: true }, handler(sys));
      // A system that is down when the connection arrives refuses it outright.
      server.on('connection', (socket: Socket) => {
        fleet.tick();
        if (!sys.up && !sys.hung) socket.destroy();
      });
      await listen(server, sys.ip, port);
      servers.push(server);
    }
  } catch (err) {
    await Promise.all(servers.map(closeServer));
    throw err;
  }

  const instanceOf = (s: LabSystem | number) => `${(typeof s === 'number' ? fleet.requireSystem(s) : s).ip}:${port}`;
  const targets = systems.map(instanceOf);
  let closing: Promise<void> | undefined;
  return {
    port,
    labId,
    targets,
    instanceOf,
    targetGroups: (extra = {}) => [nodeTargetGroup(targets, labId, extra)],
    scrapes,
    close: () =>
      (closing ??= (async () => {
        for (const socket of held) socket.destroy();
        held.clear();
        await Promise.all(servers.map(closeServer));
      })()),
  };
}

/** A random port in 20000-59999; callers retry with another on ExporterPortInUseError. */
export function randomExporterPort(): number {
  return 20_000 + Math.floor(Math.random() * 40_000);
}

/** startExporters on random ports until one is free on every system address. */
export async function startExportersOnFreePort(opts: Omit<ExporterOptions, 'port'>, attempts = 10): Promise<Exporters> {
  let last: unknown;
  for (let i = 0; i < attempts; i++) {
    try {
      return await startExporters({ ...opts, port: randomExporterPort() });
    } catch (err) {
      if (!(err instanceof ExporterPortInUseError)) throw err;
      last = err;
    }
  }
  throw last instanceof Error ? last : new Error('no free exporter port found');
}
