import { createRequire } from 'node:module';
import type xmlrpcModule from 'xmlrpc';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeResponse, encodeFragment, encodeResponse, encodeResponseViaSerializer } from '../../../lab/uyuni/codec.js';
import { startUyuniLab, type UyuniLab } from '../../../lab/uyuni/server.js';
import { errataOverview } from '../../../lab/uyuni/structs.js';
import { postXml, Rpc, SESSION_KEY_RE } from './helpers.js';

const xmlrpc = createRequire(import.meta.url)('xmlrpc') as typeof xmlrpcModule;

let lab: UyuniLab;
let rpc: Rpc;
let sk: string;
let ubuntuTest: number;
let rhelTest: number;

beforeAll(async () => {
  lab = await startUyuniLab();
  rpc = new Rpc(lab.url);
  sk = await rpc.login();
  ubuntuTest = lab.fleet.group('test-ubuntu-2404')!.systemIds[0]!;
  rhelTest = lab.fleet.group('test-rhel9')!.systemIds[0]!;
});
afterAll(async () => {
  await lab.close();
});

const call = (method: string, params: unknown[]) => `<?xml version="1.0"?><methodCall><methodName>${method}</methodName><params>${params.map((p) => `<param><value>${String(p)}</value></param>`).join('')}</params></methodCall>`;

describe('transport', () => {
  it('listens on loopback and redirects GET /rpc/api to the API docs', async () => {
    expect(lab.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/rpc\/api$/);
    const res = await request(lab.url, { method: 'GET' });
    await res.body.dump();
    expect(res.statusCode).toBe(302);
    expect(res.headers.location).toBe('/rhn/apidoc/index.jsp');
  });

  it('answers faults with HTTP 200 and a <fault> body', async () => {
    const res = await rpc.raw('auth.login', ['admin', 'wrong']);
    expect(res.status).toBe(200);
    expect(res.contentType).toMatch(/^text\/xml/);
    expect(res.body).toContain('<methodResponse><fault>');
    expect(res.body).toContain('<name>faultCode</name><value><i4>2950</i4></value>');
  });

  it('parses the body whatever the content type says', async () => {
    const body = '<?xml version="1.0"?><methodCall><methodName>auth.login</methodName><params><param><value>admin</value></param><param><value>x</value></param></params></methodCall>';
    const res = await request(lab.url, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(res.statusCode).toBe(200);
    expect(await res.body.text()).toContain('<i4>2950</i4>');
  });

  it('works with the xmlrpc package client as-is', async () => {
    const port = lab.port;
    const client = xmlrpc.createClient({ host: '127.0.0.1', port, path: '/rpc/api' });
    const key = await new Promise<string>((resolve, reject) =>
      client.methodCall('auth.login', ['admin', 'lab-admin-password'], (err, v) => (err ? reject(err as Error) : resolve(v as string))),
    );
    expect(key).toMatch(SESSION_KEY_RE);
    const groups = await new Promise<Array<{ name: string }>>((resolve, reject) =>
      client.methodCall('systemgroup.listAllGroups', [key], (err, v) => (err ? reject(err as Error) : resolve(v as Array<{ name: string }>))),
    );
    expect(groups.map((g) => g.name)).toEqual(['test-ubuntu-2404', 'test-rhel9', 'prod-ubuntu-2404', 'prod-rhel9']);
  });
});

describe('what goes on the wire', () => {
  it('emits integers as <i4>, booleans as 1/0, never <int> or <nil/>', async () => {
    const res = await rpc.raw('system.getRelevantErrata', [sk, rhelTest]);
    expect(res.body).toContain('<name>id</name><value><i4>');
    expect(res.body).not.toContain('<int>');
    expect(res.body).not.toContain('<nil');
    expect(res.body).toMatch(/<name>reboot<\/name><value><boolean>[01]<\/boolean><\/value>/);
    expect(res.body).not.toContain('CDATA');
  });

  it('emits compact zone-less UTC dates', async () => {
    const res = await rpc.raw('systemgroup.listSystemsMinimal', [sk, 'test-rhel9']);
    const dates = [...res.body.matchAll(/<dateTime\.iso8601>([^<]*)<\/dateTime\.iso8601>/g)].map((m) => m[1]);
    expect(dates.length).toBeGreaterThan(0);
    for (const d of dates) expect(d).toMatch(/^\d{8}T\d{2}:\d{2}:\d{2}$/);
    const sys = lab.fleet.system(rhelTest)!;
    const boot = new Date(sys.bootTimeSec * 1000).toISOString();
    const expected = `${boot.slice(0, 4)}${boot.slice(5, 7)}${boot.slice(8, 10)}T${boot.slice(11, 19)}`;
    expect(res.body).toContain(`<name>last_boot</name><value><dateTime.iso8601>${expected}</dateTime.iso8601>`);
  });

  it('shapes the errata-overview struct with string dates and the advisory fields', async () => {
    const list = await rpc.call<Array<Record<string, unknown>>>('system.getRelevantErrata', [sk, ubuntuTest]);
    expect(list).toHaveLength(317);
    const first = list[0]!;
    expect(Object.keys(first).sort()).toEqual(
      ['advisory_name', 'advisory_status', 'advisory_synopsis', 'advisory_type', 'date', 'id', 'issue_date', 'reboot', 'reload', 'update_date'].sort(),
    );
    expect(first.issue_date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(typeof first.id).toBe('number');
    expect(first.advisory_type).toBe('Security Advisory');
    expect(first.advisory_status).toBe('stable');
  });

  it('sends system_id as a string in the multi-system getRelevantErrata form', async () => {
    const res = await rpc.raw('system.getRelevantErrata', [sk, [ubuntuTest, rhelTest]]);
    expect(res.body).toContain(`<name>system_id</name><value><string>${ubuntuTest}</string></value>`);
    const decoded = await rpc.call<Array<{ system_id: string; errata: unknown[] }>>('system.getRelevantErrata', [sk, [ubuntuTest, rhelTest]]);
    expect(decoded.map((d) => d.system_id)).toEqual([String(ubuntuTest), String(rhelTest)]);
    expect(decoded.reduce((n, d) => n + d.errata.length, 0)).toBe(634);
  });

  it('omits null members: no severity on Ubuntu errata, severity and type on RHSA', async () => {
    const usn = lab.fleet.catalog.byOs.ubuntu[0]!;
    const rhsa = lab.fleet.catalog.byOs.rhel.find((e) => e.advisoryName.startsWith('RHSA'))!;
    const raw = await rpc.raw('errata.getDetails', [sk, usn.advisoryName]);
    expect(raw.body).not.toContain('<name>severity</name>');
    const details = await rpc.call<Record<string, unknown>>('errata.getDetails', [sk, rhsa.advisoryName]);
    expect(details.severity).toBe(rhsa.severity);
    expect(details.type).toBe('Security Advisory');
    expect(details).not.toHaveProperty('advisory_type');
    expect(details.issue_date).toMatch(/^\d{1,2}\/\d{1,2}\/\d{2}$/);
    expect(details.last_modified_date).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d+$/);
    expect(typeof details.reboot_suggested).toBe('boolean');
  });

  it('sends package size as a string', async () => {
    const rhsa = lab.fleet.catalog.byOs.rhel.find((e) => e.kernel)!;
    const pkgs = await rpc.call<Array<Record<string, unknown>>>('errata.listPackages', [sk, rhsa.advisoryName]);
    expect(pkgs.map((p) => p.name)).toContain('kernel-core');
    for (const p of pkgs) {
      expect(typeof p.size).toBe('string');
      expect(typeof p.payload_size).toBe('string');
      expect(typeof p.id).toBe('number');
      expect(p.arch_label).toMatch(/^(x86_64|noarch)$/);
      expect(p.providing_channels).toEqual(['rhel9-baseos-x86_64']);
    }
  });

  it('splices cached errata fragments into exactly the bytes the serializer would write', () => {
    const errata = lab.fleet.relevantErrata(rhelTest).slice(0, 50);
    const fast = encodeResponse(errata.map((e) => encodeFragment(errataOverview(e))));
    expect(fast).toBe(encodeResponseViaSerializer(errata.map(errataOverview)));
  });

  it('escapes < and & in strings rather than using CDATA', async () => {
    const fault = await rpc.raw('systemgroup.listSystems', [sk, 'a<b&c']);
    expect(fault.body).toContain('a&lt;b&amp;c');
    expect(fault.body).not.toContain('CDATA');
  });
});

describe('time zones', () => {
  it('depends neither on TZ nor on the global xmlrpc.dateFormatter', async () => {
    const savedTz = process.env.TZ;
    process.env.TZ = 'Pacific/Auckland';
    xmlrpc.dateFormatter.setOpts({ hyphens: true, colons: false, local: true, offset: true, ms: true });
    try {
      const e = lab.fleet.findErratum({ os: 'ubuntu', personality: 'none', relevantTo: ubuntuTest, unscheduled: true })!;
      const when = new Date(Date.UTC(2025, 0, 2, 3, 4, 5));
      const raw = await rpc.raw('system.scheduleApplyErrata', [sk, [ubuntuTest], [e.id], when]);
      const [aid] = (await decodeResponse(raw.body)) as number[];
      expect(lab.fleet.action(aid!)!.earliestMs).toBe(when.getTime());
      const ev = await rpc.raw('system.getEventDetails', [sk, ubuntuTest, aid]);
      expect(ev.body).toContain('<name>earliest_action</name><value><dateTime.iso8601>20250102T03:04:05</dateTime.iso8601>');
      const decoded = (await decodeResponse(ev.body)) as { earliest_action: Date };
      expect(decoded.earliest_action.getTime()).toBe(when.getTime());
    } finally {
      xmlrpc.dateFormatter.setOpts({ colons: true, hyphens: false, local: true, ms: false, offset: false });
      if (savedTz === undefined) delete process.env.TZ;
      else process.env.TZ = savedTz;
    }
  });
});

describe('what the lab accepts', () => {
  it('accepts <int>, <i4>, <i8> and untyped string values', async () => {
    const body = call('system.getNetwork', [`<string>${sk}</string>`, `<i8>${rhelTest}</i8>`]);
    const res = await postXml(lab.url, body);
    expect(res.body).toContain('<name>ip</name><value><string>127.0.0.');
    const untyped = await postXml(lab.url, call('system.getNetwork', [sk, `<i4>${rhelTest}</i4>`]));
    expect(untyped.body).toContain('<name>hostname</name><value><string>test-rhel9-01.lab.example</string>');
  });

  it('rejects <nil/> with fault -1', async () => {
    const res = await postXml(lab.url, call('system.getRelevantErrata', [`<string>${sk}</string>`, '<nil/>']));
    expect(res.status).toBe(200);
    expect(res.body).toContain('<i4>-1</i4>');
    expect(res.body).toContain('nil');
  });

  it('rejects hyphenated dates with fault -1 and accepts compact ones with or without Z', async () => {
    const e = lab.fleet.findErratum({ os: 'rhel', personality: 'none', relevantTo: rhelTest })!;
    const hyphen = await postXml(lab.url, call('system.scheduleReboot', [`<string>${sk}</string>`, `<int>${rhelTest}</int>`, '<dateTime.iso8601>2024-05-14T10:00:00</dateTime.iso8601>']));
    expect(hyphen.body).toContain('<i4>-1</i4>');
    expect(hyphen.body).toContain('Unparseable date');
    const compact = await postXml(lab.url, call('system.scheduleApplyErrata', [`<string>${sk}</string>`, `<int>${rhelTest}</int>`, `<array><data><value><int>${e.id}</int></value></data></array>`, '<dateTime.iso8601>20240514T10:00:00Z</dateTime.iso8601>', '<boolean>1</boolean>']));
    expect(compact.body).toMatch(/<array><data><value><i4>\d+<\/i4><\/value><\/data><\/array>/);
    const actionId = Number(/<i4>(\d+)<\/i4>/.exec(compact.body)![1]);
    expect(lab.fleet.action(actionId)!.earliestMs).toBe(Date.UTC(2024, 4, 14, 10, 0, 0));
  });
});
