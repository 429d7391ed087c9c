import { rmSync } from 'node:fs';
import path from 'node:path';
import { inject } from 'vitest';
import { startExportersOnFreePort, writeTargets, type Exporters } from '../../lab/exporter/index.js';
import { Fleet, type FleetOptions } from '../../lab/fleet/index.js';
import { DEFAULT_SALT_CREDENTIALS, startSaltLab, type SaltLab } from '../../lab/salt/index.js';
import { startUyuniLab, type UyuniLab } from '../../lab/uyuni/server.js';
import { fleetCves, startIntelLab, type IntelLab, type IntelLabOptions } from '../../lab/intel/server.js';

export interface FullLab {
  fleet: Fleet;
  uyuni: UyuniLab;
  salt: SaltLab;
  exporters: Exporters;
  /** issue 14: the lab's NVD / EPSS / KEV for the fleet's CVEs */
  intel: IntelLab;
  /** Config overrides pointing the orchestrator at this lab and the run's real Prometheus. */
  env: Record<string, string>;
  close(): Promise<void>;
}

/**
 * The whole simulated fleet for one test file: UYUNI XML-RPC, salt-api and a node-exporter per system, all
 * on one Fleet, with the exporters registered as targets of the run's real Prometheus.
 */
/**
 * `exporters: 'test'` serves node_exporter for the test systems only: a fleet of 10,000 production systems
 * whose metrics no test reads would only cost 10,000 listeners and a Prometheus scraping them.
 */
export async function startFullLab(fleetOptions: FleetOptions = {}, intelOptions: IntelLabOptions = {}, labOptions: { exporters?: 'all' | 'test' } = {}): Promise<FullLab> {
  const fleet = new Fleet({ actionPickupMs: 100, actionCompleteMs: 300, rebootMs: 1_500, ...fleetOptions });
  const uyuni = await startUyuniLab({ fleet });
  const salt = await startSaltLab({ fleet, jobDurations: { pkgInstallMs: 200, snapperMs: 100 } });
  const exporters = await startExportersOnFreePort({
    fleet,
    ...(labOptions.exporters === 'test' ? { systems: [...fleet.systemsOf('ubuntu', 'test'), ...fleet.systemsOf('rhel', 'test')] } : {}),
  });
  const intel = await startIntelLab(fleetCves(fleet), intelOptions);
  const targetsFile = path.join(inject('prometheusTargetsDir'), `${exporters.labId}.json`);
  await writeTargets(targetsFile, exporters.targetGroups());
  return {
    fleet,
    uyuni,
    salt,
    exporters,
    intel,
    env: {
      NVD_URL: intel.nvdUrl,
      EPSS_URL: intel.epssUrl,
      KEV_URL: intel.kevUrl,
      UYUNI_URL: uyuni.url,
      SALT_URL: salt.url,
      SALT_USER: DEFAULT_SALT_CREDENTIALS.user,
      SALT_PASSWORD: DEFAULT_SALT_CREDENTIALS.password,
      SALT_EAUTH: DEFAULT_SALT_CREDENTIALS.eauth,
      PROMETHEUS_URL: inject('prometheusUrl'),
      NODE_EXPORTER_PORT: String(exporters.port),
    },
    async close() {
      rmSync(targetsFile, { force: true });
      await exporters.close();
      await salt.close();
      await uyuni.close();
      await intel.close();
    },
  };
}
