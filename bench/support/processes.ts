import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// Helpers the benchmarks share: child processes (so the measured process is alone in its RSS), their
// peak RSS from /proc, and JSON log lines.

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface Child {
  process: ChildProcess;
  lines: string[];
  waitFor(predicate: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  stop(): Promise<void>;
}

/** BENCH_NODE_FLAGS: extra node flags for every child (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to see where its CPU goes). */
const EXTRA_FLAGS = (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);

export function startTs(entry: string, env: NodeJS.ProcessEnv, args: string[] = []): Child {
  return startNode(['--import', 'tsx', entry, ...args], env, entry);
}

/** A built entry (`npm run build`: dist/…js) run by plain node, as the systemd units run it (no tsx in the process). */
export function startJs(entry: string, env: NodeJS.ProcessEnv, args: string[] = []): Child {
  return startNode([entry, ...args], env, entry);
}

function startNode(argv: string[], env: NodeJS.ProcessEnv, entry: string): Child {
  const child = spawn(process.execPath, [...EXTRA_FLAGS, ...argv], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const waiters: { predicate: (l: string) => boolean; resolve: (l: string) => void }[] = [];
  const onData = (d: Buffer) => {
    for (const line of d.toString().split('\n').filter(Boolean)) {
      lines.push(line);
      for (const w of [...waiters]) {
        if (!w.predicate(line)) continue;
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  return {
    process: child,
    lines,
    waitFor(predicate, timeoutMs = 60_000) {
      const found = lines.find(predicate);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${entry}: no matching log line in ${timeoutMs} ms; last: ${lines.slice(-5).join('\n')}`)), timeoutMs);
        waiters.push({ predicate, resolve: (l) => (clearTimeout(timer), resolve(l)) });
        child.once('exit', (code) => reject(new Error(`${entry} exited with ${code}: ${lines.slice(-10).join('\n')}`)));
      });
    },
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

/** Peak resident set size (VmHWM) of a live process, in MB. */
export function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round(kb / 1024);
}

export const jsonLine = (line: string): Record<string, unknown> => {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return {};
  }
};
