import { Fleet } from './lab/fleet/index.js';
import { startUyuniLab } from './lab/uyuni/server.js';
import { UyuniClient } from './activities/uyuni/index.js';
import { LAB_CREDENTIALS_ENV } from './bench/support/lab-env.js';
const N = 10000;
const fleet = new Fleet({ testSystemsPerOs: 1, prodSystemsPerOs: 0, prodSystemsByOs: { rhel: N, ubuntu: 0 }, prodGroupsPerOs: 5, fleetWideErrata: 1, errataPerOs: 400, relevantPerSystem: 30, actionPickupMs: 100, actionCompleteMs: 900, rebootMs: 500 });
const uyuni = await startUyuniLab({ fleet });
const e = fleet.findErrata({ os: 'rhel', personality: 'none', rebootSuggested: false, kernel: false }, 400).find((x) => fleet.affectedSystems(x.id).filter((s) => s.stage === 'prod').length === N)!;
const c = new UyuniClient({ url: uyuni.url, user: LAB_CREDENTIALS_ENV.UYUNI_USER!, password: LAB_CREDENTIALS_ENV.UYUNI_PASSWORD!, verifyTls: false });
const t = async (name: string, f: () => Promise<unknown>) => { const t0 = performance.now(); const r = await f(); console.log(name, (performance.now() - t0).toFixed(0), 'ms', Array.isArray(r) ? r.length : ''); return r; };
for (let i = 0; i < 2; i++) {
  await t('listAffectedSystems', () => c.listAffectedSystems(e.advisoryName));
  const groups = (await t('listAllGroups', () => c.listAllGroups())) as { name: string }[];
  for (const g of groups.filter((g) => !g.name.includes('test'))) await t(`listSystems ${g.name}`, () => c.listSystems(g.name));
}
await uyuni.close();
