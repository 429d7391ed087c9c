// Decoder throughput: the xmlrpc package's deserializer (reference) vs the fast decoder, on a
// 500-errata getRelevantErrata body (~360 KB), a ~5 MB multi-system body and two smaller ones. The
// fast decoder is measured twice: on the body as one string (decodeFast) and streaming — the UTF-8
// bytes pushed in 16 KB chunks, as the client does with the HTTP body (UTF-8 decoding included).
// Prints the median of several timed runs after a warm-up, one plain-text line per payload.
//
//   npx tsx bench/decoder/decode.ts [runs]
//   npx tsx bench/decoder/decode.ts --small   (3 runs, a tenth of the work per sample: checks it still runs; .ci/run)
import { isDeepStrictEqual } from 'node:util';
import { decodeFast, StreamingDecoder } from '../../activities/uyuni/decode-fast.js';
import { decodeReferenceSync } from '../../activities/uyuni/decode-reference.js';
import { positional, SMALL } from '../support/lab-env.js';
import { listPackagesXml, multiSystemErrataXml, relevantErrataXml, systemsMinimalXml } from './payloads.js';

const CHUNK_BYTES = 16 * 1024;
const runs = SMALL ? 3 : Math.max(3, Number(positional()[0] ?? 15));
const BYTES_PER_SAMPLE = SMALL ? 200_000 : 2_000_000;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

function streamDecode(chunks: readonly Buffer[]): unknown {
  const decoder = new StreamingDecoder();
  for (const chunk of chunks) decoder.push(chunk);
  return decoder.end();
}

function measure(decode: () => unknown, bytes: number): { ms: number; mbps: number } {
  // Enough repetitions per sample that timer resolution doesn't matter on small bodies.
  const repeat = Math.max(1, Math.round(BYTES_PER_SAMPLE / bytes));
  for (let i = 0; i < 3; i++) decode();
  const samples: number[] = [];
  for (let run = 0; run < runs; run++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < repeat; i++) decode();
    samples.push(Number(process.hrtime.bigint() - start) / 1e6 / repeat);
  }
  const ms = median(samples);
  return { ms, mbps: bytes / 1e6 / (ms / 1000) };
}

const payloads: [string, string][] = [
  ['getRelevantErrata 500 errata', relevantErrataXml(500)],
  SMALL ? ['getRelevantErrata int[] ~500 KB', multiSystemErrataXml(500_000)] : ['getRelevantErrata int[] ~5 MB', multiSystemErrataXml(5_000_000)],
  ['errata.listPackages 200 pkgs', listPackagesXml(200)],
  ['listSystemsMinimal 300 systems', systemsMinimalXml(300)],
];

console.log(`node ${process.version}, median of ${runs} runs`);
for (const [label, xml] of payloads) {
  const body = Buffer.from(xml);
  const chunks = Array.from({ length: Math.ceil(body.length / CHUNK_BYTES) }, (_x, i) =>
    body.subarray(i * CHUNK_BYTES, (i + 1) * CHUNK_BYTES),
  );
  const kb = (body.length / 1024).toFixed(0);
  const reference = measure(() => decodeReferenceSync(xml), body.length);
  const fast = measure(() => decodeFast(xml), body.length);
  const stream = measure(() => streamDecode(chunks), body.length);
  const expected = decodeReferenceSync(xml);
  const same = isDeepStrictEqual(expected, decodeFast(xml)) && isDeepStrictEqual(expected, streamDecode(chunks));
  console.log(
    `${label} (${kb} KB): reference ${reference.mbps.toFixed(1)} MB/s (${reference.ms.toFixed(2)} ms), ` +
      `fast ${fast.mbps.toFixed(1)} MB/s (${fast.ms.toFixed(2)} ms, ${(fast.mbps / reference.mbps).toFixed(1)}x), ` +
      `stream/16KB ${stream.mbps.toFixed(1)} MB/s (${stream.ms.toFixed(2)} ms, ${(stream.mbps / reference.mbps).toFixed(1)}x), ` +
      `equal=${same}`,
  );
}
