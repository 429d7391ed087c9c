/**
 * cmd.run / cmd.run_all for the few commands a rollback needs: reading and setting the boot default
 * and the running kernel. The lab has no shell; it parses exactly these forms and answers anything
 * else as /bin/sh would a missing command (exit 127):
 *
 * - RHEL 9 (grubby, BLS): `grubby --default-kernel` → `/boot/vmlinuz-<kernelrelease>`;
 *   `grubby --default-index`; `grubby --set-default=/boot/vmlinuz-<kernelrelease>` (or with a space)
 *   → "The default is <BLS entry> with index N and kernel <path>", or exit 1 "The param <path> is incorrect".
 * - Ubuntu 24.04 (GRUB with GRUB_DEFAULT=saved): `grub-set-default '<menu entry>'` with the entry
 *   `Advanced options for Ubuntu>Ubuntu, with Linux <kernelrelease>` (exit 1 for a kernel that is not
 *   installed); `grub-editenv /boot/grub/grubenv list` → `saved_entry=<entry>`, or nothing while the
 *   newest kernel is the default.
 * - both: `uname -r` → the RUNNING kernel.
 *
 * cmd.run_all returns `{pid, retcode, stdout, stderr}`; cmd.run the combined output (redirect_stderr).
 * Either sets the job's retcode to the command's exit code (reference/salt-api.md §1.8).
 */
import { blsEntryPath, grubMenuEntry, kernelReleaseOf, vmlinuzPath, type LabSystem } from '../fleet/index.js';
import { argOf } from './args.js';
import { InvalidArgumentsError, WithRetcode, type ExecContext, type ExecFunction } from './exec-types.js';

interface CommandResult {
  retcode: number;
  stdout: string;
  stderr: string;
}

let nextPid = 41_000;

/** POSIX-shell word splitting for the forms above: single and double quotes, backslash escapes. */
export function shellWords(line: string): string[] | undefined {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else cur += c;
    } else if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === '\\' && i + 1 < line.length && '"\\$`'.includes(line[i + 1] as string)) cur += line[++i];
      else cur += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < line.length) {
      cur += line[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (quote) return undefined; // unterminated quote: sh's syntax error
  if (inWord) words.push(cur);
  return words;
}

function notFound(sys: LabSystem, command: string): CommandResult {
  // /bin/sh is dash on Ubuntu, bash on RHEL.
  const stderr = sys.os === 'ubuntu' ? `/bin/sh: 1: ${command}: not found` : `/bin/sh: line 1: ${command}: command not found`;
  return { retcode: 127, stdout: '', stderr };
}

const ok = (stdout: string): CommandResult => ({ retcode: 0, stdout, stderr: '' });

function grubby(ctx: ExecContext, args: readonly string[]): CommandResult | undefined {
  const { fleet, system } = ctx;
  const k = fleet.kernel(system.id);
  if (args.length === 1 && args[0] === '--default-kernel') return k.bootDefault ? ok(vmlinuzPath(k.bootDefault)) : { retcode: 1, stdout: '', stderr: '' };
  if (args.length === 1 && args[0] === '--default-index') return ok(String(k.bootDefault ? k.installed.indexOf(k.bootDefault) : -1));
  let path: string | undefined;
  if (args.length === 1 && args[0]?.startsWith('--set-default=')) path = args[0].slice('--set-default='.length);
  else if (args.length === 2 && args[0] === '--set-default') path = args[1];
  if (path === undefined) return undefined;
  const index = k.installed.findIndex((b) => vmlinuzPath(b) === path);
  const image = k.installed[index];
  if (!image) return { retcode: 1, stdout: '', stderr: `The param ${path} is incorrect` };
  fleet.setBootDefault(system.id, image.build);
  return ok(`The default is ${blsEntryPath(system, image)} with index ${index} and kernel ${vmlinuzPath(image)}`);
}

function grubSetDefault(ctx: ExecContext, args: readonly string[]): CommandResult | undefined {
  if (args.length !== 1) return undefined;
  const { fleet, system } = ctx;
  const entry = args[0] as string;
  const image = fleet.kernel(system.id).installed.find((b) => grubMenuEntry(b) === entry);
  if (!image) return { retcode: 1, stdout: '', stderr: `grub-set-default: error: no menu entry '${entry}' in /boot/grub/grub.cfg.` };
  fleet.setBootDefault(system.id, image.build);
  return ok('');
}

function grubEditenvList(ctx: ExecContext, args: readonly string[]): CommandResult | undefined {
  if (args.length !== 2 || args[0] !== '/boot/grub/grubenv' || args[1] !== 'list') return undefined;
  const saved = ctx.fleet.kernel(ctx.system.id).saved;
  return ok(saved ? `saved_entry=${grubMenuEntry(saved)}` : '');
}

function runCommand(ctx: ExecContext): CommandResult {
  const raw = argOf(ctx.args, 0, 'cmd');
  let words: string[] | undefined;
  if (typeof raw === 'string') words = shellWords(raw);
  else if (Array.isArray(raw) && raw.every((w) => typeof w === 'string')) words = [...raw];
  else throw new InvalidArgumentsError(`${ctx.fun}() missing 1 required positional argument: 'cmd'`);
  const sys = ctx.system;
  if (words === undefined) {
    return { retcode: 2, stdout: '', stderr: sys.os === 'ubuntu' ? '/bin/sh: 1: Syntax error: Unterminated quoted string' : "/bin/sh: -c: line 1: unexpected EOF while looking for matching `''" };
  }
  const [command, ...args] = words;
  if (command === undefined) return ok('');
  let result: CommandResult | undefined;
  if (command === 'uname' && args.length === 1 && args[0] === '-r') result = ok(kernelReleaseOf(ctx.fleet.kernel(sys.id).running));
  else if (sys.os === 'rhel' && command === 'grubby') result = grubby(ctx, args);
  else if (sys.os === 'ubuntu' && command === 'grub-set-default') result = grubSetDefault(ctx, args);
  else if (sys.os === 'ubuntu' && command === 'grub-editenv') result = grubEditenvList(ctx, args);
  return result ?? notFound(sys, command);
}

export const cmdFunctions: readonly ExecFunction[] = [
  {
    name: 'cmd.run_all',
    run: (ctx) => {
      const r = runCommand(ctx);
      return new WithRetcode({ pid: nextPid++, retcode: r.retcode, stdout: r.stdout, stderr: r.stderr }, r.retcode);
    },
  },
  {
    name: 'cmd.run',
    run: (ctx) => {
      const r = runCommand(ctx);
      return new WithRetcode([r.stdout, r.stderr].filter((x) => x !== '').join('\n'), r.retcode);
    },
  },
];
