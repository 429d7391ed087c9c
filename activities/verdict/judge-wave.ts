import { ApplicationFailure } from '@temporalio/common';
import type { LimitFunction } from 'p-limit';
import type { Config } from '../../config/config.js';
import type { Db } from '../../db/connection.js';
import { verdictPolicy } from '../../db/queries/orchestrator-config.js';
import { recordVerdict, verdictById } from '../../db/queries/verdicts.js';
import { judge, type MetricInput, type VerdictKind } from '../../domain/judge.js';
import { poolSamples, type SystemSamples } from '../../domain/wave-samples.js';
import { mapError } from '../patch-test/support.js';
import type { FleetSeries, NodeMetrics } from '../prometheus/metrics.js';
import { nodeInstance } from '../prometheus/promql.js';
import type { UyuniClient } from '../uyuni/client.js';

// The wave verdict (issue 15): after a wave's soak, its patched systems' CPU % and memory % (node_exporter via
// Prometheus) against still-unpatched peers of the same group over the same window, by Kayenta's judge
// (domain/judge.ts, /work/shared/reference/canary-judge.md). The verdict is stored (verdicts, scope wave)
// before it is returned, so the rollout acts only on a recorded verdict; a retry returns the stored one.

export interface VerdictDeps {
  config: Readonly<Config>;
  db: Db;
  uyuni: UyuniClient;
  uyuniLimit: LimitFunction;
  metrics: NodeMetrics;
}

export interface JudgeWaveInput {
  /** The rollout's queue item id (GET /api/v1/deployments/<id>). */
  deploymentId: number;
  /** 0 = the canary. */
  wave: number;
  /** The UYUNI system group of both sides. */
  group: string;
  /** UYUNI system ids: the wave's patched systems (experiment) and still-unpatched peers of the group (control). */
  patchedSystemIds: number[];
  peerSystemIds: number[];
  /** The soak window, ISO 8601; both sides are read over it. */
  from: string;
  to: string;
  /**
   * Optional, ISO 8601: the window before the wave was patched. Given, each system's points are changes from
   * its own median there (domain/wave-samples.ts), so hosts idling at different levels compare fairly.
   */
  baselineFrom?: string;
  baselineTo?: string;
  /** Query step; default (to − from) / 60, at least 1 s. */
  stepSeconds?: number;
}

export interface JudgeWaveResult {
  verdict: VerdictKind;
  /** continue (pass), pause for a person (marginal; nodata under policy marginal), halt (fail; nodata under policy fail). */
  decision: 'continue' | 'pause' | 'halt';
  score: number | null;
  reason: string;
  verdictId: number;
}

const invalid = (message: string) => ApplicationFailure.create({ type: 'InvalidVerdictInput', message, nonRetryable: true });

function parseTime(name: string, value: string | undefined): Date {
  const t = value === undefined ? Number.NaN : Date.parse(value);
  if (!Number.isFinite(t)) throw invalid(`${name} must be an ISO 8601 time, got ${String(value)}`);
  return new Date(t);
}

function checkIds(name: string, ids: unknown): number[] {
  if (!Array.isArray(ids) || !ids.every((id) => Number.isInteger(id) && id > 0)) throw invalid(`${name} must be a list of positive integer system ids`);
  return [...new Set(ids as number[])];
}

export function createVerdictActivities(deps: VerdictDeps) {
  const { db, uyuni, uyuniLimit, metrics, config } = deps;

  /** system id → node_exporter instance; a system UYUNI cannot answer for has none (its side then lacks it). */
  async function instancesOf(ids: number[]): Promise<{ instances: Map<number, string>; unresolved: number[] }> {
    const instances = new Map<number, string>();
    const unresolved: number[] = [];
    await Promise.all(ids.map((id) => uyuniLimit(async () => {
      try {
        const network = await uyuni.getNetwork(id);
        if (network.ip) instances.set(id, nodeInstance(network.ip, config.prometheus.nodeExporterPort));
        else unresolved.push(id);
      } catch (err) {
        const failure = mapError(err);
        // UYUNI down is retried (the whole verdict waits for it); a system it does not know is no data.
        if (failure instanceof ApplicationFailure && !failure.nonRetryable) throw failure;
        unresolved.push(id);
      }
    })));
    return { instances, unresolved: unresolved.sort((a, b) => a - b) };
  }

  async function read(instances: string[], from: Date, to: Date, stepSeconds: number): Promise<FleetSeries> {
    if (instances.length === 0) return new Map();
    try {
      return await metrics.fleetRange(instances, { start: from, end: to, stepSeconds }, { window: `${config.test.metricsWindowSeconds}s` });
    } catch (err) {
      throw mapError(err);
    }
  }

  return {
    /** See JudgeWaveInput / JudgeWaveResult. Bad input is a non-retryable InvalidVerdictInput naming the field. */
    async judgeWave(input: JudgeWaveInput): Promise<JudgeWaveResult> {
      if (!Number.isInteger(input.deploymentId) || input.deploymentId < 1) throw invalid('deploymentId must be a positive integer');
      if (!Number.isInteger(input.wave) || input.wave < 0) throw invalid('wave must be an integer ≥ 0');
      if (typeof input.group !== 'string' || input.group === '') throw invalid('group must be a non-empty string');
      const patched = checkIds('patchedSystemIds', input.patchedSystemIds);
      const peers = checkIds('peerSystemIds', input.peerSystemIds);
      if (patched.length === 0) throw invalid('patchedSystemIds must not be empty');
      const overlap = patched.filter((id) => peers.includes(id));
      if (overlap.length) throw invalid(`peerSystemIds must not contain patched systems (${overlap.join(', ')})`);
      const from = parseTime('from', input.from);
      const to = parseTime('to', input.to);
      if (to <= from) throw invalid('to must be after from');
      const withBaseline = input.baselineFrom !== undefined || input.baselineTo !== undefined;
      const baselineFrom = withBaseline ? parseTime('baselineFrom', input.baselineFrom) : undefined;
      const baselineTo = withBaseline ? parseTime('baselineTo', input.baselineTo) : undefined;
      if (baselineFrom && baselineTo && baselineTo <= baselineFrom) throw invalid('baselineTo must be after baselineFrom');
      const stepSeconds = input.stepSeconds ?? Math.max(1, Math.round((to.getTime() - from.getTime()) / 60_000));
      if (!(stepSeconds > 0) || (to.getTime() - from.getTime()) / 1000 / stepSeconds > 11_000) throw invalid('stepSeconds must be > 0 and leave at most 11000 points (Prometheus refuses more)');

      const idempotencyKey = `wave:${input.deploymentId}:${input.wave}:${input.group}:${from.toISOString()}:${to.toISOString()}`;
      const existing = await db.selectFrom('verdicts').select('id').where('idempotency_key', '=', idempotencyKey).executeTakeFirst();
      if (existing) return resultOf(await verdictById(db, existing.id));

      const policy = await verdictPolicy(db);
      const { instances, unresolved } = await instancesOf([...patched, ...peers]);
      const all = [...instances.values()];
      const [window, baseline] = await Promise.all([
        read(all, from, to, stepSeconds),
        baselineFrom && baselineTo ? read(all, baselineFrom, baselineTo, stepSeconds) : Promise.resolve(undefined),
      ]);
      const samplesOf = (ids: number[]): SystemSamples[] => ids.map((systemId) => {
        const instance = instances.get(systemId);
        const points = instance === undefined ? undefined : window.get(instance);
        const before = instance === undefined ? undefined : baseline?.get(instance);
        const values = (p: [number, number][] | undefined) => (p ?? []).map(([, v]) => v);
        return {
          systemId,
          cpu: values(points?.cpu),
          memory: values(points?.memory),
          ...(baseline ? { baseline: { cpu: values(before?.cpu), memory: values(before?.memory) } } : {}),
        };
      });
      const experiment = poolSamples(samplesOf(patched), withBaseline);
      const control = poolSamples(samplesOf(peers), withBaseline);
      const inputs: MetricInput[] = [
        { spec: { name: 'cpu', unit: 'pp', direction: 'increase', weight: 1, allowedIncrease: policy.cpuAllowedIncrease, levels: !withBaseline }, control: control.cpu, experiment: experiment.cpu },
        { spec: { name: 'memory', unit: 'pp', direction: 'increase', weight: 1, allowedIncrease: policy.memoryAllowedIncrease, levels: !withBaseline }, control: control.memory, experiment: experiment.memory },
      ];
      const verdict = judge(inputs, policy.judge);
      const notes: string[] = [];
      if (withBaseline) notes.push('samples are changes from each system\'s own baseline median');
      if (unresolved.length) notes.push(`UYUNI gave no address for systems ${unresolved.join(', ')}`);
      for (const [side, pooled] of [['patched', experiment], ['peer', control]] as const) {
        const missing = [...new Set([...pooled.missing.cpu, ...pooled.missing.memory])].filter((id) => !unresolved.includes(id));
        if (missing.length) notes.push(`no ${withBaseline ? 'window or baseline ' : ''}samples from ${side} systems ${missing.join(', ')}`);
      }
      if (peers.length === 0) notes.push('no unpatched peers to compare with');
      const reason = notes.length ? `${verdict.reason} (${notes.join('; ')})` : verdict.reason;
      const stored = await recordVerdict(db, {
        scope: 'wave', idempotencyKey, queueId: input.deploymentId, wave: input.wave, groupName: input.group,
        experimentSystems: patched, controlSystems: peers,
        controlWindow: { from, to }, experimentWindow: { from, to },
        settings: { ...policy.judge, cpuAllowedIncrease: policy.cpuAllowedIncrease, memoryAllowedIncrease: policy.memoryAllowedIncrease, stepSeconds, baseline: withBaseline ? { from: baselineFrom!.toISOString(), to: baselineTo!.toISOString() } : null },
        inputs,
        verdict: { ...verdict, reason },
      });
      return resultOf(await verdictById(db, stored.id));
    },
  };
}

function resultOf(stored: Awaited<ReturnType<typeof verdictById>>): JudgeWaveResult {
  if (!stored) throw new Error('the verdict just stored is gone');
  return { verdict: stored.verdict, decision: stored.decision, score: stored.score, reason: stored.reason, verdictId: stored.id };
}
