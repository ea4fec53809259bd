import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DerError,
  Tag,
  encodeTlv,
  integerContent,
  padStart,
  readDer,
  stripLeadingZeros,
  unsignedInteger,
} from '../../src/util/der.js';
import { derFromPem } from '../../src/util/pem.js';

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s/g, ''), 'hex'));
const isDerError = (pattern: RegExp) => (e: unknown) =>
  e instanceof DerError && pattern.test((e as Error).message);

describe('readDer', () => {
  test('reads a nested structure with its children and exact spans', () => {
    const der = hex('3008 0201 05 a003 020107');
    const root = readDer(der, 'f: x');
    assert.equal(root.tag, Tag.SEQUENCE);
    assert.equal(root.children.length, 2);
    assert.deepEqual([...root.children[0]!.content], [5]);
    assert.deepEqual([...root.children[1]!.bytes], [...hex('a003020107')]);
    assert.deepEqual([...root.children[1]!.children[0]!.content], [7]);
  });

  const rejects: [string, string, RegExp][] = [
    ['trailing bytes', '020105 00', /1 byte\(s\) after the end/],
    ['a truncated element', '020205', /truncated/],
    ['a missing length', '02', /truncated: no length/],
    ['an indefinite length', '3080 020105 0000', /indefinite length/],
    ['a long-form length below 128', '02810105', /shortest form/],
    ['a length with a leading zero byte', '0282000105', /shortest form/],
    ['a five-byte length', '02850000000001 05', /length field of 5 bytes/],
    ['a padded positive INTEGER', '0202 0005', /INTEGER at byte 0 not in its shortest form/],
    ['a padded negative INTEGER', '0202 ff80', /not in its shortest form/],
    ['an empty INTEGER', '0200', /empty INTEGER/],
    ['a constructed OCTET STRING', '2403 040100', /constructed form of universal tag 4/],
    ['a primitive SEQUENCE', '1000', /primitive SEQUENCE/],
    ['a BOOLEAN other than 00/ff', '010101', /BOOLEAN/],
    ['a NULL with contents', '050100', /NULL/],
    ['a BIT STRING with 8 unused bits', '030208ff', /unused-bits count/],
    ['a BIT STRING with set unused bits', '030201ff', /unused bits set/],
    ['an OID with a padded arc', '0603 2a8001', /padded arc/],
    ['a truncated OID', '0602 2a86', /OBJECT IDENTIFIER at byte 0 is truncated/],
    ['a multi-byte tag', '1f2200', /multi-byte tag/],
    ['an end-of-contents marker', '0000', /end-of-contents/],
    ['an error deep inside', '3006 3004 3002 0200', /empty INTEGER at byte 6/],
  ];
  for (const [what, bytes, message] of rejects) {
    test(`rejects ${what}`, () => {
      assert.throws(() => readDer(hex(bytes), 'f: x'), isDerError(message));
    });
  }

  test('messages start with the caller and argument, and a DerError is a TypeError', () => {
    assert.throws(
      () => readDer(hex('0201'), 'decodeThing: der'),
      (e: unknown) =>
        e instanceof TypeError && (e as Error).message.startsWith('decodeThing: der is not valid DER'),
    );
  });

  test('limits nesting depth instead of overflowing the stack', () => {
    let der: Uint8Array = hex('0500');
    for (let i = 0; i < 80; i++) der = encodeTlv(Tag.SEQUENCE, der);
    assert.throws(() => readDer(der, 'f: x'), isDerError(/nested deeper/));
  });
});

describe('integers', () => {
  test('integerContent adds a sign byte only when the top bit is set and strips leading zeros', () => {
    assert.deepEqual([...new Uint8Array(integerContent(hex('80')))], [0x00, 0x80]);
    assert.deepEqual([...new Uint8Array(integerContent(hex('00007f')))], [0x7f]);
    assert.deepEqual([...new Uint8Array(integerContent(hex('000000')))], [0x00]);
    assert.deepEqual([...new Uint8Array(integerContent(new Uint8Array(0)))], [0x00]);
  });

  test('unsignedInteger drops the sign byte and refuses negatives', () => {
    assert.deepEqual([...unsignedInteger(hex('0080'), 'f', 'n')], [0x80]);
    assert.throws(() => unsignedInteger(hex('80'), 'f', 'n'), isDerError(/n must be a positive INTEGER/));
  });

  test('padStart pads to the size and refuses longer values', () => {
    assert.deepEqual([...padStart(hex('0102'), 4, 'f', 'r')], [0, 0, 1, 2]);
    assert.deepEqual([...padStart(hex('00000102'), 2, 'f', 'r')], [1, 2]);
    assert.throws(() => padStart(hex('010203'), 2, 'f', 'r'), RangeError);
    assert.deepEqual([...stripLeadingZeros(hex('0000'))], [0]);
  });

  test('encodeTlv writes short and long lengths in their shortest form', () => {
    assert.deepEqual([...encodeTlv(0x04, new Uint8Array(2))], [0x04, 0x02, 0, 0]);
    assert.deepEqual([...encodeTlv(0x04, new Uint8Array(200)).subarray(0, 3)], [0x04, 0x81, 200]);
    assert.deepEqual([...encodeTlv(0x04, new Uint8Array(300)).subarray(0, 4)], [0x04, 0x82, 0x01, 0x2c]);
    for (const size of [0, 127, 128, 255, 256, 70000]) {
      assert.equal(readDer(encodeTlv(0x04, new Uint8Array(size)), 'f: x').content.length, size);
    }
  });
});

describe('derFromPem', () => {
  const der = hex('020105');
  const pem = (label: string, body = Buffer.from(der).toString('base64')) =>
    `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;

  test('passes DER bytes through and unwraps PEM given as a string or as bytes', () => {
    assert.equal(derFromPem(der, ['X'], 'f: x'), der);
    assert.deepEqual(derFromPem(pem('PUBLIC KEY'), ['PUBLIC KEY'], 'f: x'), der);
    assert.deepEqual(derFromPem(Buffer.from(pem('PUBLIC KEY')), ['PUBLIC KEY'], 'f: x'), der);
    assert.deepEqual(
      derFromPem(`explanatory text\n${pem('X9.42 DH PARAMETERS')}trailer`, ['X9.42 DH PARAMETERS'], 'f: x'),
      der,
    );
  });

  test('picks the block with an accepted label and refuses zero or several', () => {
    assert.deepEqual(
      derFromPem(pem('PRIVATE KEY', 'AAAA') + pem('CERTIFICATE'), ['CERTIFICATE'], 'f: x'),
      der,
    );
    assert.throws(() => derFromPem(pem('PRIVATE KEY'), ['CERTIFICATE'], 'f: x'), isDerError(/found 0/));
    assert.throws(
      () => derFromPem(pem('CERTIFICATE') + pem('CERTIFICATE'), ['CERTIFICATE'], 'f: x'),
      isDerError(/found 2/),
    );
  });

  test('refuses bad base64 and mismatched END lines', () => {
    assert.throws(
      () => derFromPem(pem('CERTIFICATE', 'AgE*'), ['CERTIFICATE'], 'f: x'),
      isDerError(/base64/),
    );
    assert.throws(
      () => derFromPem(pem('CERTIFICATE', 'AgEF='), ['CERTIFICATE'], 'f: x'),
      isDerError(/base64/),
    );
    const mixed = '-----BEGIN CERTIFICATE-----\nAgEF\n-----END PUBLIC KEY-----\n';
    assert.throws(() => derFromPem(mixed, ['CERTIFICATE'], 'f: x'), isDerError(/ends with END PUBLIC KEY/));
  });

  test('refuses other input types with a TypeError', () => {
    assert.throws(() => derFromPem(42, ['CERTIFICATE'], 'f: x'), TypeError);
    assert.throws(() => derFromPem([1, 2], ['CERTIFICATE'], 'f: x'), /f: x must be DER bytes/);
  });
});
