/**
 * One simulated system's node_exporter page in the Prometheus text format 0.0.4, with the
 * series and HELP texts node_exporter 1.5 (Debian 12) uses for them.
 */
import { cpuCount, kernelRelease, memTotalBytes, osFacts, shortHostname, type Fleet, type LabSystem } from '../fleet/index.js';
import { CPU_MODES, type CpuCounters } from './cpu-counters.js';

export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function labels(l: Record<string, string>): string {
  const parts = Object.entries(l).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

class Page {
  private readonly lines: string[] = [];

  family(name: string, type: 'counter' | 'gauge', help: string, samples: readonly [Record<string, string>, number][]): void {
    this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [l, v] of samples) this.lines.push(`${name}${labels(l)} ${formatValue(v)}`);
  }

  text(): string {
    return `${this.lines.join('\n')}\n`;
  }
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Number.POSITIVE_INFINITY) return '+Inf';
  if (v === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(v);
}

export function renderNodeMetrics(fleet: Fleet, sys: LabSystem, counters: CpuCounters): string {
  const now = fleet.now();
  const m = fleet.metrics(sys.id, now);
  const cpus = cpuCount(sys);
  const uptime = now / 1000 - m.bootTimeSec;
  const perCpu = counters.read(sys.id, cpus, m.cpuPercent, m.bootTimeSec, uptime);
  const total = memTotalBytes(sys);
  const available = Math.round(total * (1 - m.memoryPercent / 100));
  const os = osFacts(sys);
  const load = (cpus * m.cpuPercent) / 100;

  const page = new Page();
  page.family('node_boot_time_seconds', 'gauge', 'Node boot time, in unixtime.', [[{}, m.bootTimeSec]]);
  page.family(
    'node_cpu_seconds_total',
    'counter',
    'Seconds the CPUs spent in each mode.',
    perCpu.flatMap((c, i) => CPU_MODES.map((mode) => [{ cpu: String(i), mode }, Math.round(c[mode] * 100) / 100] as [Record<string, string>, number])),
  );
  page.family(
    'node_exporter_build_info',
    'gauge',
    "A metric with a constant '1' value labeled by version, revision, branch, goversion from which node_exporter was built, and the goos and goarch for the build.",
    [[{ branch: 'debian/sid', goarch: 'amd64', goos: 'linux', goversion: 'go1.19.8', revision: '1.5.0+ds-2+b1', tags: 'netgo osusergo static_build', version: '1.5.0' }, 1]],
  );
  page.family('node_load1', 'gauge', '1m load average.', [[{}, Math.round(load * 100) / 100]]);
  page.family('node_load5', 'gauge', '5m load average.', [[{}, Math.round(load * 95) / 100]]);
  page.family('node_load15', 'gauge', '15m load average.', [[{}, Math.round(load * 90) / 100]]);
  page.family('node_memory_Buffers_bytes', 'gauge', 'Memory information field Buffers_bytes.', [[{}, Math.round(total * 0.02)]]);
  page.family('node_memory_Cached_bytes', 'gauge', 'Memory information field Cached_bytes.', [[{}, Math.round(available * 0.6)]]);
  page.family('node_memory_MemAvailable_bytes', 'gauge', 'Memory information field MemAvailable_bytes.', [[{}, available]]);
  page.family('node_memory_MemFree_bytes', 'gauge', 'Memory information field MemFree_bytes.', [[{}, Math.round(available * 0.35)]]);
  page.family('node_memory_MemTotal_bytes', 'gauge', 'Memory information field MemTotal_bytes.', [[{}, total]]);
  page.family('node_os_info', 'gauge', 'A metric with a constant \'1\' value labeled by build_id, id, id_like, image_id, image_version, name, pretty_name, variant, variant_id, version, version_codename, version_id.', [
    [
      sys.os === 'ubuntu'
        ? { build_id: '', id: 'ubuntu', id_like: 'debian', name: 'Ubuntu', pretty_name: 'Ubuntu 24.04 LTS', version: '24.04 LTS (Noble Numbat)', version_codename: os.osCodename, version_id: os.osRelease }
        : { build_id: '', id: 'rhel', id_like: 'fedora', name: 'Red Hat Enterprise Linux', pretty_name: `Red Hat Enterprise Linux ${os.osRelease} (${os.osCodename})`, version: `${os.osRelease} (${os.osCodename})`, version_codename: '', version_id: os.osRelease },
      1,
    ],
  ]);
  page.family('node_time_seconds', 'gauge', 'System time in seconds since epoch (1970).', [[{}, now / 1000]]);
  page.family('node_uname_info', 'gauge', 'Labeled system information as provided by the uname system call.', [
    [{ domainname: '(none)', machine: 'x86_64', nodename: shortHostname(sys), release: kernelRelease(fleet, sys), sysname: 'Linux', version: os.kernelVersion }, 1],
  ]);
  return page.text();
}
