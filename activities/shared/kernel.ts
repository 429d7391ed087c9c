import type { KernelState } from '../../domain/package-inventory.js';
import type { SaltClient } from '../salt/client.js';
import type { CallOptions } from '../salt/types.js';

// The kernel a host runs and the one it boots next, read and set through Salt's cmd.run_all (Salt has no
// module for the boot default). RHEL 9: grubby (BLS entries); Ubuntu 24.04: GRUB's saved entry
// (GRUB_DEFAULT=saved), whose menu path names the kernel release.

const RELEASE = /^[A-Za-z0-9._+~-]+$/;
const UBUNTU_ENTRY = (release: string) => `Advanced options for Ubuntu>Ubuntu, with Linux ${release}`;

export class KernelCommandError extends Error {
  override name = 'KernelCommandError';
}

async function run(salt: SaltClient, minion: string, command: string, options: CallOptions): Promise<string> {
  const r = await salt.runCommand(minion, command, { ...options, timeoutSeconds: 60 });
  if (r.retcode !== 0) throw new KernelCommandError(`\`${command}\` on ${minion} exited ${r.retcode}: ${(r.stderr || r.stdout).trim().slice(0, 300)}`);
  return r.stdout.trim();
}

/** The command that prints the boot loader's default (RHEL 9: grubby; Ubuntu: GRUB's environment block). */
export function bootDefaultCommand(os: string): string {
  return os === 'rhel' ? 'grubby --default-kernel' : 'grub-editenv /boot/grub/grubenv list';
}

/** The kernel release the boot loader starts next, from bootDefaultCommand's output (null: none set). */
export function parseBootDefault(os: string, output: string): string | null {
  if (os === 'rhel') return output.trim().replace(/^\/boot\/vmlinuz-/, '') || null;
  const saved = /^saved_entry=(.*)$/m.exec(output)?.[1]?.trim();
  return saved ? (/with Linux (\S+)$/.exec(saved)?.[1] ?? null) : null;
}

/** `uname -r` and the boot loader's default (null: none set, the newest kernel boots). */
export async function readKernelState(salt: SaltClient, minion: string, os: string, options: CallOptions = {}): Promise<KernelState> {
  const running = await run(salt, minion, 'uname -r', options);
  const bootDefault = parseBootDefault(os, await run(salt, minion, bootDefaultCommand(os), options));
  return { running, bootDefault };
}

/** Makes `release` the kernel the host boots next. */
export async function setBootDefault(salt: SaltClient, minion: string, os: string, release: string, options: CallOptions = {}): Promise<void> {
  if (!RELEASE.test(release)) throw new KernelCommandError(`not a kernel release: ${JSON.stringify(release)}`);
  const command = os === 'rhel' ? `grubby --set-default=/boot/vmlinuz-${release}` : `grub-set-default '${UBUNTU_ENTRY(release)}'`;
  await run(salt, minion, command, options);
}
