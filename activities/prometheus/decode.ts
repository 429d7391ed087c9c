// Checks the `{"status":"success","data":{"resultType","result"}}` envelope and converts sample
// values, which Prometheus always sends as strings ("47.69", "NaN", "+Inf"), into numbers.
import { PrometheusProtocolError } from './errors.js';
import type { InstantSample, Labels, QueryResult, RangeSeries, Sample } from './types.js';

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Go's strconv formatting of special floats; Number() would turn "+Inf" into NaN. */
export function parseSampleValue(text: string): number {
  switch (text) {
    case 'NaN':
      return Number.NaN;
    case '+Inf':
    case 'Inf':
      return Number.POSITIVE_INFINITY;
    case '-Inf':
      return Number.NEGATIVE_INFINITY;
    default: {
      const value = Number(text);
      if (text.trim() === '' || Number.isNaN(value)) throw new PrometheusProtocolError(`sample value "${text.slice(0, 40)}" is not a number`);
      return value;
    }
  }
}

function pair(value: unknown, where: string): [number, string] {
  if (!Array.isArray(value) || value.length !== 2 || typeof value[0] !== 'number' || typeof value[1] !== 'string') {
    throw new PrometheusProtocolError(`${where}: expected [timestamp, "value"]`);
  }
  return [value[0], value[1]];
}

function sample(value: unknown, where: string): Sample {
  const [timestamp, text] = pair(value, where);
  return { timestamp, value: parseSampleValue(text) };
}

function labels(value: unknown, where: string): Labels {
  if (!isRecord(value) || !Object.values(value).every((v) => typeof v === 'string')) {
    throw new PrometheusProtocolError(`${where}: metric labels are not strings`);
  }
  return value as Labels;
}

/** Decodes a `status: success` body; the caller has already handled `status: error`. */
export function decodeQueryResult(body: Record<string, unknown>): QueryResult {
  const data = body.data;
  if (!isRecord(data)) throw new PrometheusProtocolError('success envelope without data');
  const warnings = Array.isArray(body.warnings) ? body.warnings.filter((w): w is string => typeof w === 'string') : [];
  const { resultType, result } = data;
  switch (resultType) {
    case 'vector': {
      if (!Array.isArray(result)) throw new PrometheusProtocolError('vector result is not a list');
      const samples: InstantSample[] = result.map((entry: unknown, index) => {
        if (!isRecord(entry)) throw new PrometheusProtocolError(`vector[${index}] is not an object`);
        return { metric: labels(entry.metric, `vector[${index}]`), ...sample(entry.value, `vector[${index}].value`) };
      });
      return { resultType, result: samples, warnings };
    }
    case 'matrix': {
      if (!Array.isArray(result)) throw new PrometheusProtocolError('matrix result is not a list');
      const series: RangeSeries[] = result.map((entry: unknown, index) => {
        if (!isRecord(entry) || !Array.isArray(entry.values)) throw new PrometheusProtocolError(`matrix[${index}] has no values`);
        return {
          metric: labels(entry.metric, `matrix[${index}]`),
          values: entry.values.map((v: unknown, at) => sample(v, `matrix[${index}].values[${at}]`)),
        };
      });
      return { resultType, result: series, warnings };
    }
    case 'scalar':
      return { resultType, result: sample(result, 'scalar'), warnings };
    case 'string': {
      const [timestamp, value] = pair(result, 'string');
      return { resultType, result: { timestamp, value }, warnings };
    }
    default:
      throw new PrometheusProtocolError(`unknown resultType ${JSON.stringify(resultType)}`);
  }
}
