import { spawn, type ChildProcess } from 'node:child_process';

// A node process of the production build (`node dist/...`), with its output kept for assertions and errors.
// RELEASE_NODE runs the release on another Node than the test runner's (.ci/node22: the same test on Node 22).
export const RELEASE_NODE = process.env.RELEASE_NODE || process.execPath;

export class NodeProcess {
  readonly child: ChildProcess;
  private output = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(args: string[], opts: { cwd: string; env: Record<string, string> }) {
    // A clean environment: nothing of the test runner's (no tsx loader, no NODE_OPTIONS) leaks into the release.
    this.child = spawn(RELEASE_NODE, args, { cwd: opts.cwd, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout?.on('data', (d: Buffer) => (this.output += d.toString()));
    this.child.stderr?.on('data', (d: Buffer) => (this.output += d.toString()));
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  get log(): string {
    return this.output;
  }

  tail(chars = 4000): string {
    return this.output.slice(-chars);
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 30_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Runs `node args` to its end. */
export async function runNode(args: string[], opts: { cwd: string; env: Record<string, string>; timeoutMs?: number }): Promise<{ code: number | null; output: string }> {
  const p = new NodeProcess(args, opts);
  const timer = setTimeout(() => p.child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
  const { code } = await p.exited;
  clearTimeout(timer);
  return { code, output: p.log };
}

export async function waitFor(what: string, predicate: () => Promise<boolean>, context: () => string, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`${what} not reached in ${timeoutMs} ms; log:\n${context()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
