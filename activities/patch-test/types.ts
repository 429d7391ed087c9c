import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { Config } from '../../config/config.js';
import type { Db } from '../../db/connection.js';
import type { NodeMetrics } from '../prometheus/metrics.js';
import type { SaltClient } from '../salt/client.js';
import type { UyuniClient } from '../uyuni/client.js';

// The shapes the test engine's activities and the patchTest workflow agree on (workflows import them as types).

export interface TestDeps {
  config: Readonly<Config>;
  db: Db;
  log: Logger;
  uyuni: UyuniClient;
  salt: SaltClient;
  metrics: NodeMetrics;
  /** For leases: a lease whose holder workflow is no longer running is taken back. */
  temporal: Client;
}

export interface TestInfo {
  testId: number;
  advisoryName: string;
  targetOs: string;
  uyuniErrataId: number;
  /** A bundle run: every member's errata id (applied in one UYUNI action) and advisory name, in work order. */
  uyuniErrataIds?: number[];
  advisoryNames?: string[];
  requiresReboot: boolean;
  packageNames: string[];
  candidateSystems: number[];
}

export interface LeasedSystem {
  systemId: number;
  name: string;
  minion: string;
  ip: string;
}

export interface PhaseVerdict {
  ok: boolean;
  reason?: string;
  /** Not ok because nothing could be judged (too few samples: the judge's nodata), not because a check failed. */
  unjudged?: boolean;
}

export interface MetricsReading {
  cpuPercent: number;
  memoryPercent: number;
  samples: number;
  takenAt: string;
  /** Start of the window (ISO 8601) and its samples, [epoch seconds, percent]: what the judge compares. */
  from?: string;
  series?: { cpu: [number, number][]; memory: [number, number][] };
}
