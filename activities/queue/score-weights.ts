import type { Config } from '../../config/config.js';
import type { Db } from '../../db/connection.js';
import { configSection } from '../../db/queries/orchestrator-config.js';
import type { ScoreWeights } from '../../domain/score.js';

const camel = (key: string) => key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/**
 * The Success Score weights: orchestrator_config's `score.*` rows (editable at run time through
 * PUT /api/v1/config) win; the environment (SCORE_*) fills any key the table lacks or holds a non-number in.
 */
export async function loadScoreWeights(db: Db, fallback: Config['score']): Promise<ScoreWeights> {
  const fromDb = await configSection(db, 'score.');
  const weights: ScoreWeights = { ...fallback };
  for (const [key, value] of Object.entries(fromDb)) {
    const name = camel(key) as keyof ScoreWeights;
    if (name in weights && typeof value === 'number' && Number.isFinite(value) && value >= 0) weights[name] = value;
  }
  return weights;
}
