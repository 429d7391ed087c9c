import type { Config } from '../../config/config.js';
import type { Db } from '../../db/connection.js';
import { configSection } from '../../db/queries/orchestrator-config.js';
import type { ScoreWeights } from '../../domain/score.js';
import { isSettingKey, settingInUse } from '../../domain/settings.js';

const snake = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/**
 * The Success Score weights: orchestrator_config's `score.*` rows (editable at run time through
 * PUT /api/v1/config) win when within their range (domain/settings.ts); the environment (SCORE_*) fills
 * any key the table lacks or holds out of range.
 */
export async function loadScoreWeights(db: Db, fallback: Config['score']): Promise<ScoreWeights> {
  const fromDb = await configSection(db, 'score.');
  const weights: ScoreWeights = { ...fallback };
  for (const name of Object.keys(weights) as (keyof ScoreWeights)[]) {
    const key = `score.${snake(name)}`;
    if (isSettingKey(key)) weights[name] = settingInUse(key, fromDb[snake(name)], fallback[name]).value;
  }
  return weights;
}
