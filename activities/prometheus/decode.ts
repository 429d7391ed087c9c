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

/**
 * Decodes a `status: success` body; the caller has already handled `status: error`.
 *
 * Empty results: a vector or matrix with no series is `[]` on current Prometheus but `null` on 2.0.x and on
 * Prometheus-compatible query frontends (Go's encoding/json of a nil slice); both are an empty list here. A
 * scalar or string always holds a value (Go structs, never nil), so `null` there stays a protocol error. A
 * matrix series without `values` (null, or omitted when it has native-histogram points only, Prometheus ≥ 2.40)
 * has no float points. An empty result is no data for the checks that read it, never a value.
 */
export function decodeQueryResult(body: Record<string, unknown>): QueryResult {
  const data = body.data;
  if (!isRecord(data)) throw new PrometheusProtocolError('success envelope without data');
  const warnings = Array.isArray(body.warnings) ? body.warnings.filter((w): w is string => typeof w === 'string') : [];
  const { resultType, result } = data;
  switch (resultType) {
    case 'vector': {
      if (result !== null && !Array.isArray(result)) throw new PrometheusProtocolError('vector result is not a list');
      const samples: InstantSample[] = (result ?? []).map((entry: unknown, index) => {
        if (!isRecord(entry)) throw new PrometheusProtocolError(`vector[${index}] is not an object`);
        return { metric: labels(entry.metric, `vector[${index}]`), ...sample(entry.value, `vector[${index}].value`) };
      });
      return { resultType, result: samples, warnings };
    }
    case 'matrix': {
      if (result !== null && !Array.isArray(result)) throw new PrometheusProtocolError('matrix result is not a list');
      const series: RangeSeries[] = (result ?? []).map((entry: unknown, index) => {
        if (!isRecord(entry)) throw new PrometheusProtocolError(`matrix[${index}] is not an object`);
        const values = entry.values ?? [];
        if (!Array.isArray(values)) throw new PrometheusProtocolError(`matrix[${index}].values is not a list`);
        return {
          metric: labels(entry.metric, `matrix[${index}]`),
          values: values.map((v: unknown, at) => sample(v, `matrix[${index}].values[${at}]`)),
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
