// Equality proof: the fast decoder must produce exactly what the reference (the xmlrpc package's
// deserializer, normalized) produces — on hand-written edge cases, on realistic large bodies, and
// on random values pushed through the package's serializer.
import { describe, expect, it } from 'vitest';
import { decodeFast } from '../../../activities/uyuni/decode-fast.js';
import { decodeReference } from '../../../activities/uyuni/decode-reference.js';
import type { DecodeOptions } from '../../../activities/uyuni/decode-common.js';
import type { XmlRpcValue } from '../../../activities/uyuni/values.js';
import { relevantErrataXml, systemsMinimalXml } from '../../../bench/decoder/payloads.js';
import { BOM_DOCUMENT, cases, expectedOf, randomDocuments, realisticBodies, respond, utc } from './support/decoder-cases.js';

async function bothDecode(xml: string, options: DecodeOptions = {}): Promise<XmlRpcValue> {
  const reference = await decodeReference(xml, options);
  const fast = decodeFast(xml, options);
  expect(fast).toStrictEqual(reference);
  return fast;
}

describe('fast decoder = reference decoder', () => {
  it.each(cases)('%s', async (_label, valueXml, expected) => {
    expect(await bothDecode(respond(valueXml))).toStrictEqual(expected);
  });

  it('accepts a BOM, comments, attributes and a processing instruction around the document', async () => {
    expect(await bothDecode(BOM_DOCUMENT)).toBe(1);
  });

  it('reads zone-less dates in the configured Uyuni zone (not the process zone)', async () => {
    const xml = respond('<value><array><data><value><dateTime.iso8601>20240514T10:23:45</dateTime.iso8601></value><value><dateTime.iso8601>20240114T10:23:45</dateTime.iso8601></value><value><dateTime.iso8601>2024-05-14T10:23:45Z</dateTime.iso8601></value></data></array></value>');
    expect(await bothDecode(xml, { timeZone: 'Europe/Berlin' })).toStrictEqual([
      utc('2024-05-14T08:23:45Z'),
      utc('2024-01-14T09:23:45Z'),
      utc('2024-05-14T10:23:45Z'),
    ]);
    expect(await bothDecode(xml, { timeZone: 'America/New_York' })).toStrictEqual([
      utc('2024-05-14T14:23:45Z'),
      utc('2024-01-14T15:23:45Z'),
      utc('2024-05-14T10:23:45Z'),
    ]);
  });

  it('gives a __proto__ member an own property (the one intended difference from the package)', () => {
    const xml = respond('<value><struct><member><name>__proto__</name><value><struct><member><name>x</name><value>1</value></member></struct></value></member></struct></value>');
    const fast = decodeFast(xml) as Record<string, unknown>;
    expect(Object.getPrototypeOf(fast)).toBe(Object.prototype);
    expect(Object.hasOwn(fast, '__proto__')).toBe(true);
    expect(fast.x).toBeUndefined();
  });
});

describe('fast decoder = reference decoder on realistic bodies', () => {
  it.each(realisticBodies)('%s', async (_label, build) => {
    const xml = build();
    expect(xml).toContain('<i4>');
    const decoded = await bothDecode(xml);
    expect(Array.isArray(decoded)).toBe(true);
  });

  it('the generated errata body is Redstone-shaped and about 360 KB', () => {
    const xml = relevantErrataXml(500);
    expect(xml).not.toContain('<int>');
    expect(xml).not.toContain('CDATA');
    expect(xml).toContain('&amp;');
    expect(Buffer.byteLength(xml)).toBeGreaterThan(300_000);
    expect(Buffer.byteLength(xml)).toBeLessThan(450_000);
  });

  it('dates in the generated systems body survive the round trip in a non-UTC zone', async () => {
    const xml = systemsMinimalXml(50, 11, 'Asia/Kolkata');
    expect(xml).toMatch(/<dateTime\.iso8601>\d{8}T\d\d:\d\d:\d\d<\/dateTime\.iso8601>/);
    const inZone = (await bothDecode(xml, { timeZone: 'Asia/Kolkata' })) as { last_checkin: Date }[];
    const asUtc = (await bothDecode(xml)) as { last_checkin: Date }[];
    const first = inZone[0];
    const firstUtc = asUtc[0];
    expect(first && firstUtc && firstUtc.last_checkin.getTime() - first.last_checkin.getTime()).toBe(5.5 * 3_600_000);
  });
});

// ---- property-style: random values → package serializer → both decoders -------------------------

describe('property: random values through the package serializer', () => {
  it('both decoders agree with each other and with the original value (1000 seeds × 5 variants)', async () => {
    for (let seed = 1; seed <= 1000; seed++) {
      const { value, variants } = randomDocuments(seed);
      for (const [index, variant] of variants.entries()) {
        const reference = await decodeReference(variant);
        const fast = decodeFast(variant);
        try {
          expect(fast).toStrictEqual(reference);
          // The pretty variant adds whitespace into untyped/empty values, so only the others must round-trip.
          if (index !== 3) expect(fast).toStrictEqual(expectedOf(value));
        } catch (error) {
          throw new Error(`seed ${seed}, variant ${index}: ${(error as Error).message}\n${variant}`);
        }
      }
    }
  });
});
