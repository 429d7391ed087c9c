import { spawn, type ChildProcess } from 'node:child_process';

/** The worker as a real process (`node --import tsx worker.ts`), so tests can SIGKILL it and start it again. */
export class WorkerProcess {
  private child: ChildProcess | undefined;
  readonly logs: string[] = [];

  constructor(private readonly env: Record<string, string>) {}

  start(): void {
    const child = spawn(process.execPath, ['--import', 'tsx', 'worker.ts'], { env: { ...process.env, ...this.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (d: Buffer) => this.logs.push(d.toString()));
    child.stderr?.on('data', (d: Buffer) => this.logs.push(d.toString()));
    this.child = child;
  }

  async kill(): Promise<void> {
    const child = this.child;
    if (!child) return;
    child.kill('SIGKILL');
    if (child.exitCode === null && child.signalCode === null) await new Promise((r) => child.once('exit', r));
    this.child = undefined;
  }

  async restart(): Promise<void> {
    await this.kill();
    this.start();
  }

  tail(chars = 3000): string {
    return this.logs.join('').slice(-chars);
  }
}

/** Polls `predicate` until it holds; the error carries the worker's last log lines. */
export async function waitUntil(what: string, predicate: () => Promise<boolean>, worker: WorkerProcess, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`${what} not reached; worker log:\n${worker.tail()}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}
