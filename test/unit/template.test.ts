// Templates: every attribute kind encoded into one CK_ATTRIBUTE[] buffer and decoded back, the
// pointers inside that buffer, and the errors for values of the wrong shape.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import koffi from 'koffi';
import { ULONG_MAX, ULONG_SIZE, readPointer, readULong } from '../../src/sys/abi.js';
import { Attribute, KeyType, Mechanism, ObjectClass } from '../../src/sys/constants.js';
import { kindOf } from '../../src/core/attribute-kinds.js';
import {
  CK_ATTRIBUTE,
  checkULong,
  decodeValue,
  encodeTemplate,
  makesTokenObject,
  type AttributeValue,
  type Template,
} from '../../src/core/template.js';

const { type: TYPE, pValue: PVALUE, ulValueLen: LEN } = CK_ATTRIBUTE.fields;

/** One CK_ATTRIBUTE as found in an encoded buffer: its type, where its value is, and the value's bytes. */
interface RawAttribute {
  readonly type: number;
  /** Offset of the value inside the buffer, or -1 for a NULL pValue. */
  readonly offset: number;
  readonly bytes: Buffer;
}

/**
 * Reads `count` CK_ATTRIBUTEs at `at` inside `buf`, checking that every non-NULL pValue points
 * inside the same buffer (the encoder's promise: one allocation, kept alive for the call).
 */
function readArray(buf: Buffer, at: number, count: number): RawAttribute[] {
  const base = koffi.address(buf);
  const out: RawAttribute[] = [];
  for (let i = 0; i < count; i++) {
    const slot = at + i * CK_ATTRIBUTE.size;
    const type = Number(readULong(buf, slot + TYPE.offset));
    const ptr = readPointer(buf, slot + PVALUE.offset);
    const len = Number(readULong(buf, slot + LEN.offset));
    if (ptr === 0n) {
      assert.equal(len, 0, `attribute 0x${type.toString(16)}: NULL pValue with a length`);
      out.push({ type, offset: -1, bytes: Buffer.alloc(0) });
      continue;
    }
    const offset = Number(ptr - base);
    assert.ok(
      offset >= 0 && offset + len <= buf.length,
      `attribute 0x${type.toString(16)} points outside the buffer`,
    );
    out.push({ type, offset, bytes: buf.subarray(offset, offset + len) });
  }
  return out;
}

/** Decodes an encoded template back to a template, nested arrays included. */
function decodeArray(buf: Buffer, at: number, count: number): Record<number, AttributeValue> {
  const result: Record<number, AttributeValue> = {};
  for (const { type, offset, bytes } of readArray(buf, at, count)) {
    if (kindOf(type) === 'template') {
      assert.equal(bytes.length % CK_ATTRIBUTE.size, 0, 'nested length is a whole number of CK_ATTRIBUTEs');
      if (offset >= 0) assert.equal(offset % CK_ATTRIBUTE.align, 0, 'nested array is aligned');
      result[type] = decodeArray(buf, offset, bytes.length / CK_ATTRIBUTE.size);
    } else {
      result[type] = decodeValue(type, bytes);
    }
  }
  return result;
}

function roundTrip(template: Template): Record<number, AttributeValue> {
  const { buf, count } = encodeTemplate(template);
  return decodeArray(buf, 0, count);
}

/** The template without its undefined entries, with Buffers for Uint8Arrays (what decoding gives). */
function expected(template: Template): Record<number, AttributeValue> {
  const out: Record<number, AttributeValue> = {};
  for (const [key, value] of Object.entries(template)) {
    if (value === undefined) continue;
    if (value instanceof Uint8Array) out[Number(key)] = Buffer.from(value);
    else if (kindOf(Number(key)) === 'template') out[Number(key)] = expected(value as Template);
    else out[Number(key)] = value;
  }
  return out;
}

describe('encode -> decode round trips', () => {
  const cases: [string, Template][] = [
    ['booleans', { [Attribute.TOKEN]: true, [Attribute.PRIVATE]: false, [Attribute.SENSITIVE]: true }],
    [
      'CK_ULONG values and enums',
      {
        [Attribute.CLASS]: ObjectClass.SECRET_KEY,
        [Attribute.KEY_TYPE]: KeyType.AES,
        [Attribute.VALUE_LEN]: 32,
        [Attribute.MODULUS_BITS]: 0,
        [Attribute.KEY_GEN_MECHANISM]: 0x80000001,
      },
    ],
    [
      'UTF-8 strings',
      {
        [Attribute.LABEL]: 'clé ✓ 鍵 🔑',
        [Attribute.APPLICATION]: '',
        [Attribute.URL]: 'https://example.test/a?b=c',
      },
    ],
    [
      'dates, null included',
      { [Attribute.START_DATE]: new Date(Date.UTC(2024, 1, 29)), [Attribute.END_DATE]: null },
    ],
    [
      'bytes, empty included, and vendor attributes',
      {
        [Attribute.ID]: Uint8Array.of(0, 1, 2, 0xff),
        [Attribute.VALUE]: new Uint8Array(0),
        [Attribute.EC_PARAMS]: Buffer.from('06082a8648ce3d030107', 'hex'),
        [0x80001234]: Uint8Array.of(9, 8, 7),
      },
    ],
    [
      'mechanism arrays, empty included',
      {
        [Attribute.ALLOWED_MECHANISMS]: [Mechanism.ECDSA, Mechanism.SHA256_RSA_PKCS, 0x80000010],
        [Attribute.WRAP_TEMPLATE]: { [Attribute.ALLOWED_MECHANISMS]: [] },
      },
    ],
    [
      'nested WRAP / UNWRAP / DERIVE templates',
      {
        [Attribute.CLASS]: ObjectClass.SECRET_KEY,
        [Attribute.WRAP_TEMPLATE]: {
          [Attribute.CLASS]: ObjectClass.SECRET_KEY,
          [Attribute.KEY_TYPE]: KeyType.AES,
          [Attribute.EXTRACTABLE]: true,
          [Attribute.LABEL]: 'wrapped',
          [Attribute.ID]: Uint8Array.of(7, 7),
        },
        [Attribute.UNWRAP_TEMPLATE]: { [Attribute.SENSITIVE]: true },
        [Attribute.DERIVE_TEMPLATE]: {},
      },
    ],
  ];
  for (const [name, template] of cases) {
    test(name, () => assert.deepEqual(roundTrip(template), expected(template)));
  }

  test('undefined entries are skipped, so optional fields can be spread in', () => {
    const { count } = encodeTemplate({ [Attribute.LABEL]: undefined, [Attribute.TOKEN]: true });
    assert.equal(count, 1);
    assert.equal(encodeTemplate({}).count, 0);
  });

  test(
    'a 64-bit CK_ULONG (a handle or vendor value) survives as a bigint',
    { skip: ULONG_SIZE !== 8 },
    () => {
      const big = 0xfedcba9876543210n;
      const out = roundTrip({ [Attribute.VALUE_LEN]: big, [Attribute.CLASS]: ULONG_MAX });
      assert.equal(out[Attribute.VALUE_LEN], big);
      assert.equal(out[Attribute.CLASS], ULONG_MAX);
      // A bigint that fits a number comes back as a number.
      assert.equal(roundTrip({ [Attribute.VALUE_LEN]: 16n })[Attribute.VALUE_LEN], 16);
      assert.equal(
        roundTrip({ [Attribute.VALUE_LEN]: Number.MAX_SAFE_INTEGER })[Attribute.VALUE_LEN],
        Number.MAX_SAFE_INTEGER,
      );
    },
  );

  test('a date keeps its UTC day and drops the time', () => {
    const out = roundTrip({ [Attribute.START_DATE]: new Date(Date.UTC(1999, 11, 31, 23, 59, 59)) });
    assert.deepEqual(out[Attribute.START_DATE], new Date(Date.UTC(1999, 11, 31)));
  });
});

describe('the encoded buffer', () => {
  test('the CK_ATTRIBUTE array is at offset 0 and each pValue points at its own bytes', () => {
    // Integer keys of a JavaScript object enumerate in ascending order, whatever the literal's order.
    const { buf, count } = encodeTemplate({
      [Attribute.CLASS]: ObjectClass.DATA,
      [Attribute.TOKEN]: true,
      [Attribute.LABEL]: 'abc',
      [Attribute.VALUE]: Uint8Array.of(0xde, 0xad),
      [Attribute.START_DATE]: new Date(Date.UTC(2030, 0, 2)),
    });
    assert.equal(count, 5);
    const raw = readArray(buf, 0, count);
    assert.deepEqual(
      raw.map((a) => a.type),
      [Attribute.CLASS, Attribute.TOKEN, Attribute.LABEL, Attribute.VALUE, Attribute.START_DATE],
    );
    const [cls, token, label, value, date] = raw as [
      RawAttribute,
      RawAttribute,
      RawAttribute,
      RawAttribute,
      RawAttribute,
    ];
    assert.equal(cls.bytes.length, ULONG_SIZE);
    assert.equal(readULong(cls.bytes, 0), BigInt(ObjectClass.DATA));
    assert.deepEqual([...token.bytes], [1]);
    assert.equal(label.bytes.toString('utf8'), 'abc');
    assert.equal(date.bytes.toString('latin1'), '20300102');
    assert.deepEqual([...value.bytes], [0xde, 0xad]);
    // Values follow the array and do not overlap it or each other.
    const ends = raw.map((a) => [a.offset, a.offset + a.bytes.length] as const).sort((x, y) => x[0] - y[0]);
    assert.ok((ends[0] as readonly [number, number])[0] >= count * CK_ATTRIBUTE.size);
    for (let i = 1; i < ends.length; i++)
      assert.ok((ends[i] as readonly number[])[0]! >= (ends[i - 1] as readonly number[])[1]!);
  });

  test('CK_ULONG values and mechanism arrays are aligned for the platform (modules dereference them)', () => {
    const { buf, count } = encodeTemplate({
      [Attribute.TOKEN]: true,
      [Attribute.LABEL]: 'x',
      [Attribute.VALUE_LEN]: 5,
      [Attribute.ALLOWED_MECHANISMS]: [Mechanism.ECDSA],
    });
    const raw = readArray(buf, 0, count);
    const base = Number(koffi.address(buf));
    for (const a of raw.filter(
      (r) => r.type === Attribute.VALUE_LEN || r.type === Attribute.ALLOWED_MECHANISMS,
    )) {
      assert.equal((base + a.offset) % ULONG_SIZE, 0, `0x${a.type.toString(16)} at offset ${a.offset}`);
    }
  });

  test('empty values are NULL with length 0', () => {
    const { buf, count } = encodeTemplate({
      [Attribute.LABEL]: '',
      [Attribute.ID]: new Uint8Array(0),
      [Attribute.END_DATE]: null,
    });
    for (const a of readArray(buf, 0, count)) assert.equal(a.offset, -1);
  });

  test('a nested template points at its own CK_ATTRIBUTE array in the same buffer', () => {
    const { buf } = encodeTemplate({
      [Attribute.WRAP_TEMPLATE]: { [Attribute.KEY_TYPE]: KeyType.AES, [Attribute.LABEL]: 'in' },
    });
    const [outer] = readArray(buf, 0, 1) as [RawAttribute];
    assert.equal(outer.bytes.length, 2 * CK_ATTRIBUTE.size);
    const inner = readArray(buf, outer.offset, 2);
    assert.deepEqual(
      inner.map((a) => a.type),
      [Attribute.LABEL, Attribute.KEY_TYPE],
    );
    assert.equal((inner[0] as RawAttribute).bytes.toString(), 'in');
  });
});

describe('decodeValue edge cases', () => {
  test('a blank or zero date reads as null; a malformed one as raw bytes', () => {
    assert.equal(decodeValue(Attribute.START_DATE, Buffer.alloc(0)), null);
    assert.equal(decodeValue(Attribute.START_DATE, Buffer.from('00000000')), null);
    assert.equal(decodeValue(Attribute.START_DATE, Buffer.from('        ')), null);
    assert.deepEqual(decodeValue(Attribute.END_DATE, Buffer.from('2024XX01')), Buffer.from('2024XX01'));
  });

  test('a CK_ULONG attribute of the wrong width reads as raw bytes, not a wrong number', () => {
    assert.deepEqual(decodeValue(Attribute.CLASS, Buffer.from([1, 2, 3])), Buffer.from([1, 2, 3]));
  });

  test('any non-zero CK_BBOOL is true', () => {
    assert.equal(decodeValue(Attribute.TOKEN, Buffer.from([2])), true);
    assert.equal(decodeValue(Attribute.TOKEN, Buffer.from([0])), false);
  });

  test('decoded bytes are a copy, not a view of the call buffer', () => {
    const source = Buffer.from([1, 2, 3]);
    const value = decodeValue(Attribute.ID, source) as Buffer;
    source[0] = 99;
    assert.equal(value[0], 1);
  });
});

describe('errors name the attribute', () => {
  const typeErrors: [string, Template, RegExp][] = [
    [
      'bool given a number',
      { [Attribute.TOKEN]: 1 as never },
      /template\[CKA_TOKEN\] must be a boolean, got number/,
    ],
    [
      'ulong given a string',
      { [Attribute.CLASS]: '4' as never },
      /template\[CKA_CLASS\] must be a number or bigint, got string/,
    ],
    [
      'string given bytes',
      { [Attribute.LABEL]: Uint8Array.of(1) },
      /template\[CKA_LABEL\] must be a string, got Uint8Array/,
    ],
    [
      'date given a string',
      { [Attribute.START_DATE]: '20240101' },
      /template\[CKA_START_DATE\] must be a valid Date/,
    ],
    ['date given an invalid Date', { [Attribute.END_DATE]: new Date(NaN) }, /template\[CKA_END_DATE\]/],
    [
      'bytes given a string',
      { [Attribute.VALUE]: 'not bytes' },
      /template\[CKA_VALUE\] must be a Uint8Array, got string/,
    ],
    [
      'bytes given an array',
      { [Attribute.ID]: [1, 2] },
      /template\[CKA_ID\] must be a Uint8Array, got array/,
    ],
    [
      'mechanisms given a number',
      { [Attribute.ALLOWED_MECHANISMS]: 5 },
      /template\[CKA_ALLOWED_MECHANISMS\] must be an array/,
    ],
    [
      'mechanism entry of the wrong type',
      { [Attribute.ALLOWED_MECHANISMS]: [1, 'x'] as never },
      /CKA_ALLOWED_MECHANISMS\]\[1\]/,
    ],
    [
      'nested template given a number',
      { [Attribute.WRAP_TEMPLATE]: 3 },
      /template\[CKA_WRAP_TEMPLATE\] must be an object/,
    ],
    [
      'nested template given bytes',
      { [Attribute.DERIVE_TEMPLATE]: Uint8Array.of(1) },
      /template\[CKA_DERIVE_TEMPLATE\]/,
    ],
    [
      'a wrong value inside a nested template',
      { [Attribute.UNWRAP_TEMPLATE]: { [Attribute.SENSITIVE]: 'yes' } },
      /template\[CKA_UNWRAP_TEMPLATE\]\[CKA_SENSITIVE\] must be a boolean/,
    ],
    [
      'a vendor attribute given a string',
      { [0x80000001]: 'x' },
      /template\[0x80000001\] must be a Uint8Array/,
    ],
  ];
  for (const [name, template, message] of typeErrors) {
    test(`TypeError: ${name}`, () =>
      assert.throws(() => encodeTemplate(template), { name: 'TypeError', message }));
  }

  const rangeErrors: [string, Template, RegExp][] = [
    ['negative', { [Attribute.VALUE_LEN]: -1 }, /template\[CKA_VALUE_LEN\].*-1/],
    ['fractional', { [Attribute.VALUE_LEN]: 1.5 }, /template\[CKA_VALUE_LEN\]/],
    ['NaN', { [Attribute.MODULUS_BITS]: NaN }, /template\[CKA_MODULUS_BITS\].*NaN/],
    ['Infinity', { [Attribute.MODULUS_BITS]: Infinity }, /template\[CKA_MODULUS_BITS\]/],
    ['beyond 2^53 as a number', { [Attribute.CLASS]: 2 ** 64 }, /template\[CKA_CLASS\]/],
    ['a negative bigint', { [Attribute.CLASS]: -1n }, /template\[CKA_CLASS\]/],
    ['a bigint beyond CK_ULONG', { [Attribute.CLASS]: ULONG_MAX + 1n }, /template\[CKA_CLASS\]/],
    [
      'a negative mechanism',
      { [Attribute.ALLOWED_MECHANISMS]: [Mechanism.ECDSA, -5] },
      /CKA_ALLOWED_MECHANISMS\]\[1\]/,
    ],
    [
      'a date after 9999',
      { [Attribute.START_DATE]: new Date(Date.UTC(10000, 0, 1)) },
      /template\[CKA_START_DATE\]/,
    ],
  ];
  for (const [name, template, message] of rangeErrors) {
    test(`RangeError: ${name}`, () =>
      assert.throws(() => encodeTemplate(template), { name: 'RangeError', message }));
  }

  test('the template itself must be an object keyed by attribute numbers', () => {
    for (const bad of [null, 5, 'x', [1, 2], Uint8Array.of(1)]) {
      assert.throws(() => encodeTemplate(bad as never), {
        name: 'TypeError',
        message: /^template must be an object/,
      });
    }
    assert.throws(() => encodeTemplate({ label: 'x' } as never), {
      name: 'TypeError',
      message: /"label" is not an attribute number/,
    });
    assert.throws(() => encodeTemplate({ [-1]: true } as never), TypeError);
  });

  test('a message never contains the rejected value', () => {
    const secret = 'hunter2-very-secret';
    for (const attribute of [
      Attribute.VALUE,
      Attribute.TOKEN,
      Attribute.CLASS,
      Attribute.ALLOWED_MECHANISMS,
    ]) {
      assert.throws(
        () => encodeTemplate({ [attribute]: secret }),
        (e: Error) => e instanceof TypeError && !e.message.includes(secret),
      );
    }
  });

  test('checkULong on its own', () => {
    assert.equal(checkULong(0, 'x'), 0);
    assert.equal(checkULong(ULONG_MAX, 'x'), ULONG_MAX);
    assert.throws(() => checkULong(undefined, 'argument n'), {
      name: 'TypeError',
      message: /^argument n must be/,
    });
    assert.throws(() => checkULong(true, 'n'), TypeError);
    assert.throws(() => checkULong(-0.5, 'n'), RangeError);
  });
});

describe('makesTokenObject', () => {
  const made = (template: Template): boolean => {
    const { buf, count } = encodeTemplate(template);
    return makesTokenObject(buf, count);
  };

  test('CKA_TOKEN true is a token object; false or absent (the standard default) a session object', () => {
    const data = { [Attribute.CLASS]: ObjectClass.DATA, [Attribute.LABEL]: 'x' };
    assert.equal(made({ ...data, [Attribute.TOKEN]: true }), true);
    assert.equal(made({ ...data, [Attribute.TOKEN]: false }), false);
    assert.equal(made(data), false);
    assert.equal(made({ [Attribute.TOKEN]: true }), true, 'CKA_TOKEN first');
  });

  test('a CKA_TOKEN whose value is not inside the buffer counts as a token object', () => {
    const { buf, count } = encodeTemplate({ [Attribute.LABEL]: 'x', [Attribute.TOKEN]: false });
    // The same CK_ATTRIBUTEs copied into another buffer: pValue now points outside it.
    const copy = Buffer.from(buf);
    assert.equal(makesTokenObject(copy, count), true);
    // An empty CKA_TOKEN value cannot say false either (attributes are laid out in numeric order:
    // CKA_TOKEN, 1, comes first).
    assert.equal(readULong(buf, TYPE.offset), BigInt(Attribute.TOKEN));
    assert.equal(makesTokenObject(buf, count), false, 'as encoded');
    buf.fill(0, LEN.offset, LEN.offset + ULONG_SIZE);
    assert.equal(makesTokenObject(buf, count), true);
    // A count past the buffer's end stops at the end.
    const label = encodeTemplate({ [Attribute.LABEL]: 'x' });
    assert.equal(makesTokenObject(label.buf, 5), false);
  });
});

describe('where an encoded template lives', () => {
  test('one holding byte strings (key material, perhaps) has memory of its own', () => {
    const { buf } = encodeTemplate({
      [Attribute.CLASS]: ObjectClass.SECRET_KEY,
      [Attribute.VALUE]: Buffer.alloc(32, 7),
    });
    assert.equal(buf.byteOffset, 0);
    assert.equal(buf.buffer.byteLength, buf.byteLength, 'no other view reaches its bytes');
  });

  test('one of flags, numbers, text and dates is cut from the shared pool', () => {
    const { buf } = encodeTemplate({
      [Attribute.CLASS]: ObjectClass.DATA,
      [Attribute.TOKEN]: false,
      [Attribute.LABEL]: 'pooled',
      [Attribute.START_DATE]: new Date(Date.UTC(2026, 10, 30)),
      [Attribute.ID]: new Uint8Array(0),
    });
    assert.ok(buf.buffer.byteLength > buf.byteLength, 'a slice of a larger pool');
    assert.ok(
      buf.subarray(5 * CK_ATTRIBUTE.size).some((b) => b !== 0),
      'values written after the array',
    );
  });
});
