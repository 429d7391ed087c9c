import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// The Python Standard Webhooks verifier (test/support/webhook_verifier.py) as a child process.

export interface PythonReceived {
  webhook_id: string;
  webhook_timestamp: string;
  webhook_signature: string;
  body: string;
  verified: boolean;
  error: string | null;
}

export interface PythonVerifier {
  url: string;
  received(): Promise<PythonReceived[]>;
  close(): Promise<void>;
}

export async function startPythonVerifier(secrets: string[]): Promise<PythonVerifier> {
  const script = fileURLToPath(new URL('./webhook_verifier.py', import.meta.url));
  const child: ChildProcess = spawn(process.env.PYTHON ?? 'python3', [script, JSON.stringify(secrets)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`webhook_verifier.py did not start: ${stderr}`)), 15_000);
    child.stdout?.once('data', (d: Buffer) => {
      clearTimeout(timer);
      resolve(Number(d.toString().trim()));
    });
    child.once('exit', (code) => reject(new Error(`webhook_verifier.py exited (${code}): ${stderr}`)));
  });
  const url = `http://127.0.0.1:${port}`;
  return {
    url: `${url}/hook`,
    async received() {
      return (await (await fetch(`${url}/received`)).json()) as PythonReceived[];
    },
    async close() {
      child.kill('SIGTERM');
      if (child.exitCode === null) await new Promise((r) => child.once('exit', r));
    },
  };
}
