// The wave verdict's call site (issue 15, Mann-Whitney on patched vs unpatched peers, built on branch h15v).
// This stub answers `pass` so a rollout with deploy.verdict = 1 runs end to end before the real judge is
// merged; the integrator replaces this file with the real `judgeWave`. With deploy.verdict = 0 (the default)
// the rollout never calls it.

export interface JudgeWaveInput {
  /** The queue item id (the API's deployment id, /api/v1/deployments/<id>). */
  deploymentId: number;
  wave: number;
  /** The production group judged: its patched systems against its unpatched ones. */
  group: string;
  patchedSystemIds: number[];
  peerSystemIds: number[];
  /** ISO 8601: the window the metrics are compared over (the wave's start to the end of its soak). */
  from: string;
  to: string;
}

export interface WaveVerdict {
  verdict: 'pass' | 'marginal' | 'fail' | 'nodata';
  score: number;
  reason: string;
  /** The stored verdict's id (null: nothing stored, as by this stub). */
  verdictId: number | null;
}

export function createVerdictHookActivities() {
  return {
    /** STUB: always `pass`, stores nothing (see the file's head). */
    async judgeWave(input: JudgeWaveInput): Promise<WaveVerdict> {
      return { verdict: 'pass', score: 1, reason: `stub verdict (no judge installed) for wave ${input.wave} of group ${input.group}`, verdictId: null };
    },
  };
}
