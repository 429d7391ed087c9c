// Payloads shared by the decoder tests: the hand-written edge cases, the realistic bodies and the
// random-value generator, so the whole-body and the streaming equality proofs run on the same set.
import { encodeMethodResponse } from '../../../../activities/uyuni/encode.js';
import type { XmlRpcParam, XmlRpcValue } from '../../../../activities/uyuni/values.js';
import {
  cdataAsEntities,
  intsAsI4,
  listPackagesXml,
  multiSystemErrataXml,
  relevantErrataXml,
  seededRandom,
  systemsMinimalXml,
} from '../../../../bench/decoder/payloads.js';

export const respond = (value: string): string =>
  `<?xml version="1.0"?><methodResponse><params><param>${value}</param></params></methodResponse>`;

export const utc = (iso: string): Date => new Date(iso);

// [label, value XML, expected decoded value]
export const cases: [string, string, XmlRpcValue][] = [
  ['predefined entities', '<value><string>&lt; &amp; &gt; &quot; &apos;</string></value>', `< & > " '`],
  ['numeric entities', '<value><string>&#65;&#x42;&#X43;&#x1F600;&#065;</string></value>', 'ABC😀A'],
  ['HTML entity resolved as sax does', '<value><string>a&nbsp;b&copy;</string></value>', 'a\u00a0b©'],
  ['unknown and non-canonical references stay literal', '<value><string>&bogus; &#0; &#12ab;</string></value>', '&bogus; &#0; &#12ab;'],
  ['bare ampersand kept', '<value><string>a &amp b & c</string></value>', 'a &amp b & c'],
  ['upper-case entity name falls back to lower case', '<value><string>&LT;&Amp;</string></value>', '<&'],
  ['unicode', '<value><string>über 修正 😀 ﬁ</string></value>', 'über 修正 😀 ﬁ'],
  ['CR LF preserved', '<value><string>a\r\nb\tc</string></value>', 'a\r\nb\tc'],
  ['empty value', '<value></value>', ''],
  ['self-closing value', '<value/>', ''],
  ['self-closing string', '<value><string/></value>', ''],
  ['empty string element', '<value><string></string></value>', ''],
  ['untyped value', '<value>plain text</value>', 'plain text'],
  ['whitespace-only untyped value', '<value>  \n </value>', '  \n '],
  ['int', '<value><int>42</int></value>', 42],
  ['i4 negative', '<value><i4>-7</i4></value>', -7],
  ['int with spaces (parseInt)', '<value><int> 5 </int></value>', 5],
  ['i8 kept as string', '<value><i8>9007199254740993</i8></value>', '9007199254740993'],
  ['boolean true', '<value><boolean>1</boolean></value>', true],
  ['boolean false', '<value><boolean>0</boolean></value>', false],
  ['double', '<value><double>3.25</double></value>', 3.25],
  ['double exponent', '<value><double>-1e-7</double></value>', -1e-7],
  ['compact dateTime (Uyuni)', '<value><dateTime.iso8601>20240514T10:23:45</dateTime.iso8601></value>', utc('2024-05-14T10:23:45Z')],
  ['hyphenated dateTime with Z', '<value><dateTime.iso8601>2024-05-14T10:23:45Z</dateTime.iso8601></value>', utc('2024-05-14T10:23:45Z')],
  ['dateTime with offset', '<value><dateTime.iso8601>2024-05-14T10:23:45+02:00</dateTime.iso8601></value>', utc('2024-05-14T08:23:45Z')],
  ['dateTime with fraction', '<value><dateTime.iso8601>20240514T10:23:45.5</dateTime.iso8601></value>', utc('2024-05-14T10:23:45.500Z')],
  ['dateTime day overflow rolls like Date', '<value><dateTime.iso8601>20240231T00:00:00</dateTime.iso8601></value>', utc('2024-03-02T00:00:00Z')],
  ['base64 with whitespace', '<value><base64>aGVs\n  bG8g\r\nd29y bGQ=</base64></value>', Buffer.from('hello world')],
  ['empty base64', '<value><base64></base64></value>', Buffer.alloc(0)],
  ['nil', '<value><nil/></value>', null],
  ['empty array', '<value><array><data></data></array></value>', []],
  ['empty array, self-closing data', '<value><array><data/></array></value>', []],
  ['empty struct', '<value><struct></struct></value>', {}],
  ['self-closing struct', '<value><struct/></value>', {}],
  [
    'nested arrays and structs',
    '<value><array><data><value><struct><member><name>a</name><value><array><data><value><i4>1</i4></value><value><struct><member><name>b</name><value><array><data/></array></value></member></struct></value></data></array></value></member><member><name>c</name><value><struct/></value></member></struct></value><value>x</value></data></array></value>',
    [{ a: [1, { b: [] }], c: {} }, 'x'],
  ],
  [
    'whitespace between every tag',
    '\n<value>\n  <struct>\n    <member>\n      <name>id</name>\n      <value>\n        <i4>5</i4>\n      </value>\n    </member>\n    <member>\n      <name>tags</name>\n      <value>\n        <array>\n          <data>\n            <value><string>a</string></value>\n            <value/>\n          </data>\n        </array>\n      </value>\n    </member>\n  </struct>\n</value>\n',
    { id: 5, tags: ['a', ''] },
  ],
  ['member name whitespace preserved', '<value><struct><member><name> a b </name><value>1</value></member></struct></value>', { ' a b ': '1' }],
  ['duplicate member: last wins', '<value><struct><member><name>k</name><value>1</value></member><member><name>k</name><value>2</value></member></struct></value>', { k: '2' }],
  ['CDATA', '<value><string><![CDATA[<x> & y]]></string></value>', '<x> & y'],
  ['text, CDATA and comments mixed', '<value><string>a&amp;<!-- note -->b<![CDATA[<c>]]>d</string></value>', 'a&b<c>d'],
  ['CDATA in untyped value', '<value><![CDATA[]]]]><![CDATA[>]]></value>', ']]>'],
  ['upper-case tags', '<VALUE><STRUCT><MEMBER><NAME>k</NAME><VALUE><INT>3</INT></VALUE></MEMBER></STRUCT></VALUE>', { k: 3 }],
  ['mixed-case dateTime tag', '<value><datetime.ISO8601>20240101T00:00:00</datetime.ISO8601></value>', utc('2024-01-01T00:00:00Z')],
  ['values directly in array (no data)', '<value><array><value><i4>1</i4></value><value>two</value></array></value>', [1, 'two']],
  ['whitespace inside closing tags', '<value><string>x</string ></value >', 'x'],
];

export const BOM_DOCUMENT = `\uFEFF<?xml version="1.0" encoding="UTF-8"?>\n<!-- lead -->\n<methodResponse xmlns:ex="http://ws.apache.org/xmlrpc/namespaces/extensions" a='x>y'>\n<params><param><value><i4>1</i4></value></param></params>\n</methodResponse>\n<!-- tail -->\n`;

export const realisticBodies: [string, () => string][] = [
  ['getRelevantErrata, 500 errata', () => relevantErrataXml(500)],
  ['getRelevantErrata(int[]), ~1 MB', () => multiSystemErrataXml(1_000_000)],
  ['errata.listPackages, 300 packages', () => listPackagesXml(300)],
  ['listSystemsMinimal with compact dates', () => systemsMinimalXml(400)],
  ['listSystemsMinimal written in Europe/Berlin', () => systemsMinimalXml(400, 9, 'Europe/Berlin')],
];

const STRING_PIECES = ['a', 'Z', '0', ' ', '  ', '&', '<', '>', '"', "'", ']]>', '\n', '\t', '\r', 'é', '修', '😀', '&amp;', '\u00a0', 'x y', '<![CDATA['];

function randomString(random: () => number): string {
  const length = Math.floor(random() * 6);
  let out = '';
  for (let i = 0; i < length; i++) out += STRING_PIECES[Math.floor(random() * STRING_PIECES.length)] ?? '';
  return out;
}

export function randomValue(random: () => number, depth: number): XmlRpcParam {
  const roll = Math.floor(random() * (depth > 3 ? 6 : 8));
  switch (roll) {
    case 0:
      return randomString(random);
    case 1:
      return Math.floor((random() - 0.5) * 2 ** 31) || 1;
    case 2:
      return random() < 0.5;
    case 3: {
      const d = (random() - 0.5) * 10 ** Math.floor(random() * 12 - 6);
      return d === 0 || Number.isInteger(d) ? 0.5 : d;
    }
    case 4:
      return new Date(Math.floor(random() * 2_000_000_000) * 1000);
    case 5:
      return Buffer.from(randomString(random));
    case 6:
      return Array.from({ length: Math.floor(random() * 4) }, () => randomValue(random, depth + 1));
    default: {
      const struct: Record<string, XmlRpcParam> = {};
      const members = Math.floor(random() * 4);
      for (let i = 0; i < members; i++) struct[`${randomString(random)}${i}`] = randomValue(random, depth + 1);
      return struct;
    }
  }
}

/** What the value should decode to: dates lose their milliseconds on the wire. */
export function expectedOf(value: XmlRpcParam): XmlRpcValue {
  if (value instanceof Date) return new Date(Math.floor(value.getTime() / 1000) * 1000);
  if (Buffer.isBuffer(value)) return value;
  if (Array.isArray(value)) return value.map((item: XmlRpcParam) => expectedOf(item));
  if (typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, expectedOf(v as XmlRpcParam)]));
  }
  return value as XmlRpcValue;
}

/** Rewrites that keep the value but change the XML: Redstone style, pretty-printing, untyped strings. */
export function variants(xml: string, random: () => number): string[] {
  const redstone = cdataAsEntities(intsAsI4(xml));
  const untyped = redstone.replace(/<value><string>([^<]*)<\/string><\/value>/g, (match, text: string) =>
    random() < 0.5 ? `<value>${text}</value>` : match,
  );
  const pretty = redstone.replace(/></g, () => (random() < 0.5 ? '>\n  <' : '><'));
  const upper = redstone.replace(/<(\/?)(value|struct|member|name|array|data)>/g, (_m, slash: string, tag: string) => `<${slash}${tag.toUpperCase()}>`);
  return [xml, redstone, untyped, pretty, upper];
}

/** One random value per seed, encoded by the package's serializer, in all its variants. */
export function randomDocuments(seed: number): { value: XmlRpcParam; variants: string[] } {
  const random = seededRandom(seed);
  const value = randomValue(random, 0);
  return { value, variants: variants(encodeMethodResponse(value, 'UTC'), random) };
}

/** Bodies cut short: both decoders must report a retryable, truncated protocol error. */
export function truncatedBodies(): [string, string][] {
  const complete = relevantErrataXml(20);
  return [
    ['cut in the middle', complete.slice(0, Math.floor(complete.length / 2))],
    ['cut inside a tag', complete.slice(0, complete.indexOf('<member>', 500) + 4)],
    ['cut before the closing root tag', complete.slice(0, complete.lastIndexOf('</methodResponse>'))],
    ['empty body', ''],
  ];
}

/** Complete but broken bodies: a non-retryable protocol error from both decoders. */
export const malformedBodies: [string, string][] = [
  ['HTML error page', '<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>'],
  ['a methodCall', '<?xml version="1.0"?><methodCall><methodName>x</methodName><params/></methodCall>'],
  ['unknown tag', respond('<value><foo>1</foo></value>')],
  ['bad int', respond('<value><int>abc</int></value>')],
  ['bad boolean', respond('<value><boolean>yes</boolean></value>')],
  ['bad double', respond('<value><double>x1</double></value>')],
  ['i8 with a space', respond('<value><i8> 12</i8></value>')],
  ['garbage dateTime', respond('<value><dateTime.iso8601>yesterday</dateTime.iso8601></value>')],
  ['month 13', respond('<value><dateTime.iso8601>20241301T00:00:00</dateTime.iso8601></value>')],
  ['no value', '<methodResponse><params></params></methodResponse>'],
  ['two params', '<methodResponse><params><param><value>a</value></param><param><value>b</value></param></params></methodResponse>'],
  ['code point beyond Unicode', respond('<value><string>&#x110000;</string></value>')],
  ['fault without integer code', '<methodResponse><fault><value><struct><member><name>faultCode</name><value>x</value></member></struct></value></fault></methodResponse>'],
  ['fault that is not a struct', '<methodResponse><fault><value><string>boom</string></value></fault></methodResponse>'],
];
