// The wave verdict's call site (issue 15, Mann-Whitney on patched vs unpatched peers: wip/, not in this build).
// Without the judge nothing is checked, so the answer is `nodata` with that reason — never a `pass` nobody
// checked. With deploy.verdict = 0 (the default) the rollout never calls it.

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
    /** No judge in this build: `nodata`, stores nothing (see the file's head). */
    async judgeWave(input: JudgeWaveInput): Promise<WaveVerdict> {
      return { verdict: 'nodata', score: 0, reason: `not judged: the statistical judge is not in this build (wave ${input.wave}, group ${input.group})`, verdictId: null };
    },
  };
}
