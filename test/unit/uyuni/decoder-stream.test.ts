// Equality proof for the streaming decoder: fed the body in chunks cut anywhere — byte by byte,
// inside tag names, entities, multi-byte UTF-8 sequences, CDATA, comments — it must produce exactly
// what the reference produces on the whole body, fail with exactly the error a whole-body decode
// gives, and hold no more than the unfinished token in its buffer.
import { describe, expect, it } from 'vitest';
import { decodeFast, decodeStream, StreamingDecoder } from '../../../activities/uyuni/decode-fast.js';
import { decodeReference } from '../../../activities/uyuni/decode-reference.js';
import { UyuniProtocolError } from '../../../activities/uyuni/errors.js';
import type { DecodeOptions } from '../../../activities/uyuni/decode-common.js';
import type { XmlRpcValue } from '../../../activities/uyuni/values.js';
import { multiSystemErrataXml, seededRandom, uyuniResponse } from '../../../bench/decoder/payloads.js';
import {
  BOM_DOCUMENT,
  cases,
  malformedBodies,
  randomDocuments,
  realisticBodies,
  respond,
  truncatedBodies,
} from './support/decoder-cases.js';

type Chunk = Uint8Array | string;

/** Cuts `bytes` into pieces of 1..maxSize bytes, small sizes favoured (seeded). */
function chunkBytes(bytes: Uint8Array, random: () => number, maxSize: number): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; ) {
    const size = 1 + Math.floor(random() ** 3 * maxSize);
    chunks.push(bytes.subarray(at, at + size));
    at += size;
  }
  return chunks;
}

const byteByByte = (bytes: Uint8Array): Uint8Array[] => Array.from(bytes, (_byte, i) => bytes.subarray(i, i + 1));

function streamDecode(chunks: readonly Chunk[], options: DecodeOptions = {}): XmlRpcValue {
  const decoder = new StreamingDecoder(options);
  for (const chunk of chunks) decoder.push(chunk);
  return decoder.end();
}

/** A comparable outcome: the value, or the error's class, message and flags. */
function settle(run: () => XmlRpcValue): { value: XmlRpcValue } | { error: [string, string, boolean, boolean] } {
  try {
    return { value: run() };
  } catch (error) {
    if (!(error instanceof Error)) throw error;
    const { truncated, retryable } = error as Partial<UyuniProtocolError>;
    return { error: [error.constructor.name, error.message, truncated === true, retryable === true] };
  }
}

describe('streaming decoder = reference decoder', () => {
  it.each(cases)('%s (byte by byte and in random chunks)', async (label, valueXml, expected) => {
    const xml = respond(valueXml);
    const bytes = Buffer.from(xml);
    expect(await decodeReference(xml)).toStrictEqual(expected);
    expect(streamDecode(byteByByte(bytes))).toStrictEqual(expected);
    const random = seededRandom(label.length);
    for (let run = 0; run < 20; run++) expect(streamDecode(chunkBytes(bytes, random, 16))).toStrictEqual(expected);
  });

  it('a BOM, comments, attributes and a PI around the document, byte by byte', () => {
    expect(streamDecode(byteByByte(Buffer.from(BOM_DOCUMENT)))).toBe(1);
    expect(streamDecode([...BOM_DOCUMENT])).toBe(1);
  });

  it.each(realisticBodies)('%s (random chunks of 1..4096 bytes, and 16 KB)', async (label, build) => {
    const xml = build();
    const bytes = Buffer.from(xml);
    const reference = await decodeReference(xml);
    const random = seededRandom(bytes.length);
    for (let run = 0; run < 3; run++) expect(streamDecode(chunkBytes(bytes, random, 4096)), `${label}, run ${run}`).toStrictEqual(reference);
    const sixteenK = Array.from({ length: Math.ceil(bytes.length / 16_384) }, (_x, i) => bytes.subarray(i * 16_384, (i + 1) * 16_384));
    expect(streamDecode(sixteenK)).toStrictEqual(reference);
  });

  it('random values through the package serializer, streamed in random chunks (1000 seeds × 5 variants)', async () => {
    for (let seed = 1; seed <= 1000; seed++) {
      const { variants } = randomDocuments(seed);
      const random = seededRandom(seed * 7919);
      for (const [index, variant] of variants.entries()) {
        const reference = await decodeReference(variant);
        const chunks = chunkBytes(Buffer.from(variant), random, 1 + Math.floor(random() * 48));
        try {
          expect(streamDecode(chunks)).toStrictEqual(reference);
        } catch (error) {
          throw new Error(`seed ${seed}, variant ${index}: ${(error as Error).message}\n${variant}`);
        }
      }
    }
  });
});

// Every construct the tokenizer handles, with 2-, 3- and 4-byte characters and every kind of entity.
const DENSE = `\uFEFF<?xml version="1.0"?><!-- é --><methodResponse a='x>y' b="&amp;"><params><param><value><struct>
<member><name>s&#x1F600;é</name><value><string>a&amp;b&lt;c&#65;&#x1F600;&#X43;&nbsp;&bogus; & &amp x 修😀</string ></value></member>
<member><NAME>c</NAME><VALUE><![CDATA[<x>]]>&gt;<!-- c -->修<?pi ?>z</VALUE></member>
<member><name>n</name><value><array><data><value><i4>-7</i4></value><value/><value><nil/></value><value><boolean>1</boolean></value>
<value><double>1.5e3</double></value><value><dateTime.iso8601>20240514T10:23:45</dateTime.iso8601></value><value><base64>aGVs
bG8=</base64></value><value><i8>9007199254740993</i8></value></data></array></value></member>
</struct></value></param></params></methodResponse>
`;

describe('chunk boundaries anywhere', () => {
  const bytes = Buffer.from(DENSE);

  it('every split into two byte chunks (inside tags, entities and UTF-8 sequences)', async () => {
    const reference = await decodeReference(DENSE);
    for (let i = 0; i <= bytes.length; i++) {
      expect(streamDecode([bytes.subarray(0, i), bytes.subarray(i)]), `split at byte ${i}`).toStrictEqual(reference);
    }
  });

  it('every split into three byte chunks', async () => {
    const reference = await decodeReference(DENSE);
    const small = Buffer.from(respond('<value><string>&amp;修&#x1F600;😀</string></value>'));
    const smallReference = await decodeReference(small.toString());
    for (let i = 0; i <= small.length; i++) {
      for (let j = i; j <= small.length; j++) {
        expect(streamDecode([small.subarray(0, i), small.subarray(i, j), small.subarray(j)])).toStrictEqual(smallReference);
      }
    }
    // On the dense document, every split at a few sizes apart.
    for (let i = 0; i <= bytes.length; i++) {
      for (const gap of [1, 2, 3, 5, 9]) {
        const j = Math.min(bytes.length, i + gap);
        expect(streamDecode([bytes.subarray(0, i), bytes.subarray(i, j), bytes.subarray(j)])).toStrictEqual(reference);
      }
    }
  });

  it('every split of the text into two string chunks (surrogate pairs included)', async () => {
    const reference = await decodeReference(DENSE);
    for (let i = 0; i <= DENSE.length; i++) {
      expect(streamDecode([DENSE.slice(0, i), DENSE.slice(i)]), `split at char ${i}`).toStrictEqual(reference);
    }
    expect(streamDecode([...DENSE])).toStrictEqual(reference);
  });

  it('invalid UTF-8 split across chunks decodes like Buffer#toString of the whole body', () => {
    const body = Buffer.concat([
      Buffer.from('<methodResponse><params><param><value><string>a'),
      Buffer.from([0xff, 0xc3, 0xe4, 0xbf, 0x41, 0xf0, 0x9f, 0x98, 0xed, 0xa0, 0x80, 0xc3, 0xa9]),
      Buffer.from('</string></value></param></params></methodResponse>'),
    ]);
    const whole = decodeFast(body.toString('utf8'));
    expect(whole).toMatch(/^a\uFFFD+A\uFFFD+é$/);
    for (let i = 0; i <= body.length; i++) expect(streamDecode([body.subarray(0, i), body.subarray(i)])).toStrictEqual(whole);
    expect(streamDecode(byteByByte(body))).toStrictEqual(whole);
  });

  it('mixes byte and string chunks', () => {
    const xml = respond('<value><string>修😀 &amp; x</string></value>');
    expect(streamDecode([xml.slice(0, 20), Buffer.from(xml.slice(20))])).toBe('修😀 & x');
    // Bytes ending inside a UTF-8 sequence, then text: the partial sequence becomes U+FFFD, as Buffer#toString does.
    const bytes = Buffer.from(xml);
    const head = bytes.subarray(0, bytes.indexOf('修') + 1);
    const tail = xml.slice(xml.indexOf('修') + 1);
    expect(streamDecode([head, tail])).toBe('\uFFFD😀 & x');
    expect(streamDecode([head, tail])).toStrictEqual(decodeFast(head.toString() + tail));
  });
});

describe('failures', () => {
  const wholeOutcome = (xml: string) => settle(() => decodeFast(xml, { method: 'm' }));

  it.each([...malformedBodies, ...truncatedBodies()])('%s: same error in any chunking', (_label, xml) => {
    const whole = wholeOutcome(xml);
    expect(whole).toHaveProperty('error');
    const bytes = Buffer.from(xml);
    const random = seededRandom(bytes.length + 1);
    expect(settle(() => streamDecode(byteByByte(bytes), { method: 'm' }))).toStrictEqual(whole);
    for (let run = 0; run < 10; run++) {
      expect(settle(() => streamDecode(chunkBytes(bytes, random, 64), { method: 'm' }))).toStrictEqual(whole);
    }
  });

  it.each([
    ['stray <', '<methodResponse><params><param><value>< x</value></param></params></methodResponse>', "unexpected '<' at offset 38"],
    ['closing tag after the root', '<methodResponse><params><param><value>1</value></param></params></methodResponse></x>', 'closing tag without an open element at offset 81'],
    ['mismatched closing tag', respond('<value><string>x</int></value>'), 'mismatched closing tag </int>, expected </string>'],
    ['DOCTYPE', '<!DOCTYPE x><methodResponse/>', 'DOCTYPE and other declarations'],
    ['unterminated comment', '<methodResponse><!-- x', 'unexpected end of document inside a comment'],
    ['unterminated CDATA', '<methodResponse><params><param><value><![CDATA[x', 'unexpected end of document inside CDATA'],
    ['unterminated PI', '<methodResponse><?x', 'unexpected end of document inside a processing instruction'],
    ['unterminated closing tag', '<methodResponse><params></para', 'unexpected end of document inside a closing tag'],
    ['cut after <', '<methodResponse><', 'unexpected end of document inside a tag'],
    ['cut after <!-', '<methodResponse><!-', 'DOCTYPE and other declarations'],
    ['cut inside an attribute', `<methodResponse a='x`, 'unexpected end of document inside a tag'],
  ])('%s: positions and reasons as in a whole-body decode', (_label, xml, reason) => {
    const whole = wholeOutcome(xml);
    expect(whole).toMatchObject({ error: [UyuniProtocolError.name, expect.stringContaining(reason), expect.any(Boolean), expect.any(Boolean)] });
    const bytes = Buffer.from(xml);
    expect(settle(() => streamDecode(byteByByte(bytes), { method: 'm' }))).toStrictEqual(whole);
    for (let i = 0; i <= bytes.length; i++) {
      expect(settle(() => streamDecode([bytes.subarray(0, i), bytes.subarray(i)], { method: 'm' }))).toStrictEqual(whole);
    }
  });

  it('a body cut at any point is a retryable truncated protocol error, as for the whole-body decoders', async () => {
    const value = Array.from({ length: 12 }, (_x, i) => ({
      id: 5000 + i,
      synopsis: `Sécurité 修正 😀 & <openssl-${i}>`,
      issued: new Date(Date.UTC(2024, 4, i + 1)),
      flags: [true, false],
    }));
    const xml = uyuniResponse(value);
    const bytes = Buffer.from(xml);
    // From the root's name on (before it, the policy calls a body a foreign document, not a truncated one).
    const firstCut = bytes.indexOf('<methodResponse') + '<methodResponse'.length;
    const lastCut = bytes.lastIndexOf('</methodResponse>') + '</methodResponse>'.length - 1;
    const random = seededRandom(42);
    for (let run = 0; run < 300; run++) {
      const cut = firstCut + Math.floor(random() * (lastCut - firstCut + 1));
      const prefix = bytes.subarray(0, cut);
      const streamed = settle(() => streamDecode(chunkBytes(prefix, random, 4096), { method: 'm' }));
      const text = prefix.toString('utf8');
      expect(streamed, `cut at byte ${cut}`).toStrictEqual(wholeOutcome(text));
      expect(streamed).toMatchObject({ error: [UyuniProtocolError.name, expect.stringMatching(/^m: malformed XML-RPC response \(truncated\)/), true, true] });
      await expect(decodeReference(text)).rejects.toMatchObject({ truncated: true });
    }
  });

  it('reports a fault only at end(), with the whole-body error', () => {
    const xml = '<methodResponse><fault><value><struct><member><name>faultCode</name><value><int>-208</int></value></member><member><name>faultString</name><value><string>No such system</string></value></member></struct></value></fault></methodResponse>';
    const decoder = new StreamingDecoder({ method: 'system.getNetwork' });
    for (const chunk of byteByByte(Buffer.from(xml))) decoder.push(chunk);
    expect(settle(() => decoder.end())).toStrictEqual(settle(() => decodeFast(xml, { method: 'system.getNetwork' })));
  });

  it('an out-of-range reference in text nobody reads is ignored in every chunking, as in a whole-body decode', () => {
    const xml = respond('<value><struct>&#x110000;<member><name>k</name><value>1</value></member>&#x110000;</struct></value>');
    expect(decodeFast(xml)).toStrictEqual({ k: '1' });
    const bytes = Buffer.from(xml);
    for (let i = 0; i <= bytes.length; i++) expect(streamDecode([bytes.subarray(0, i), bytes.subarray(i)])).toStrictEqual({ k: '1' });
  });
});

describe('memory and API', () => {
  function maxBuffered(chunks: readonly Chunk[]): { value: XmlRpcValue; maxChars: number } {
    const decoder = new StreamingDecoder();
    let maxChars = 0;
    for (const chunk of chunks) {
      decoder.push(chunk);
      maxChars = Math.max(maxChars, decoder.bufferedChars);
    }
    return { value: decoder.end(), maxChars };
  }

  const inChunks = (bytes: Buffer, size: number) =>
    Array.from({ length: Math.ceil(bytes.length / size) }, (_x, i) => bytes.subarray(i * size, (i + 1) * size));

  it('keeps only the unfinished token of a large body between chunks', () => {
    const xml = multiSystemErrataXml(1_000_000);
    const { value, maxChars } = maxBuffered(inChunks(Buffer.from(xml), 16_384));
    expect(value).toStrictEqual(decodeFast(xml));
    expect(maxChars).toBeLessThan(200);
  });

  it('decodes a 2 MB string value as it arrives instead of holding its text', () => {
    const text = 'abc &amp; 修 😀 &#x1F600; &lt;x&gt;\n'.repeat(60_000);
    const xml = respond(`<value><string>${text}</string></value>`);
    const { value, maxChars } = maxBuffered(inChunks(Buffer.from(xml), 16_384));
    expect(value).toBe('abc & 修 😀 😀 <x>\n'.repeat(60_000));
    expect(maxChars).toBeLessThan(64);
    // A run where no entity boundary can be found (`&` then 2 MB of name characters) is kept whole.
    const dense = respond(`<value><base64>&${'QUJD'.repeat(500_000)}</base64></value>`);
    const base64 = maxBuffered(inChunks(Buffer.from(dense), 16_384));
    expect(Buffer.isBuffer(base64.value) && base64.value.equals(decodeFast(dense) as Buffer)).toBe(true);
    expect(base64.maxChars).toBeGreaterThan(1_000_000);
  });

  it('decodeStream reads an async iterable of chunks', async () => {
    async function* body(): AsyncGenerator<Uint8Array> {
      for (const chunk of byteByByte(Buffer.from(respond('<value><string>修 &amp;</string></value>')))) {
        await Promise.resolve();
        yield chunk;
      }
    }
    await expect(decodeStream(body())).resolves.toBe('修 &');
    await expect(decodeStream((async function* () {})(), { method: 'm' })).rejects.toMatchObject({ truncated: true, message: expect.stringContaining('empty body') });
  });

  it('refuses push after end and a second end', () => {
    const decoder = new StreamingDecoder();
    decoder.push(respond('<value>1</value>'));
    expect(decoder.end()).toBe('1');
    expect(() => decoder.push('x')).toThrow(/after end/);
    expect(() => decoder.end()).toThrow(/twice/);
  });
});
