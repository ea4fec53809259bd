// Mechanisms and their parameter structs: CK_MECHANISM at the head of one buffer, the parameter
// struct after it, and every pointer member aimed at bytes inside the same buffer. Offsets are the
// LP64 ones (Linux and macOS); the Windows shapes are covered by abi.test.ts.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import koffi from 'koffi';
import { POINTER_SIZE, STRUCT_PACK, ULONG_SIZE, readPointer, readULong } from '../../src/sys/abi.js';
import { KDF, MGF, Mechanism } from '../../src/sys/constants.js';
import { CK_MECHANISM, encodeMechanism, mechanismOf, type MechanismSpec } from '../../src/core/mechanism.js';
import { hasStructuredParameter } from '../../src/core/params.js';

const LP64 = ULONG_SIZE === 8 && POINTER_SIZE === 8 && STRUCT_PACK === Number.POSITIVE_INFINITY;

/** A decoded CK_MECHANISM and a reader for its parameter struct. */
interface Encoded {
  readonly mechanism: bigint;
  readonly length: number;
  /** The parameter bytes (empty for NULL). */
  readonly param: Buffer;
  /** The CK_ULONG at `offset` of the parameter. */
  ulong(offset: number): bigint;
  /** The bytes a pointer member at `offset` points to, `len` long; null for NULL. Asserts they are inside the buffer. */
  target(offset: number, len: number): Buffer | null;
}

function encode(spec: MechanismSpec): Encoded {
  const buf = encodeMechanism(spec);
  const base = koffi.address(buf);
  const inside = (ptr: bigint, len: number): Buffer => {
    const at = Number(ptr - base);
    assert.ok(at >= 0 && at + len <= buf.length, 'pointer stays inside the encoded buffer');
    return buf.subarray(at, at + len);
  };
  const ptr = readPointer(buf, CK_MECHANISM.fields.pParameter.offset);
  const length = Number(readULong(buf, CK_MECHANISM.fields.ulParameterLen.offset));
  if (ptr === 0n) assert.equal(length, 0, 'NULL parameter has length 0');
  const param = ptr === 0n ? Buffer.alloc(0) : inside(ptr, length);
  if (ptr !== 0n) assert.equal(Number(ptr) % 8, 0, 'parameter struct is aligned');
  return {
    mechanism: readULong(buf, CK_MECHANISM.fields.mechanism.offset),
    length,
    param,
    ulong: (offset) => readULong(param, offset),
    target(offset, len) {
      const p = readPointer(param, offset);
      return p === 0n ? null : inside(p, len);
    },
  };
}

const bytes = (hex: string): Buffer => Buffer.from(hex, 'hex');

describe('CK_MECHANISM', () => {
  test('a bare mechanism number has a NULL parameter', () => {
    const m = encode(Mechanism.ECDSA);
    assert.equal(m.mechanism, BigInt(Mechanism.ECDSA));
    assert.equal(m.length, 0);
  });

  test('raw bytes pass through for any mechanism, vendor ones included', () => {
    const iv = bytes('000102030405060708090a0b0c0d0e0f');
    const m = encode({ mechanism: Mechanism.AES_CBC_PAD, parameter: iv });
    assert.deepEqual(m.param, iv);
    const vendor = encode({ mechanism: 0x80000123, parameter: Uint8Array.of(1, 2, 3) });
    assert.equal(vendor.mechanism, 0x80000123n);
    assert.deepEqual([...vendor.param], [1, 2, 3]);
  });

  test('a number parameter is one CK_ULONG (a MAC length, for example)', () => {
    const m = encode({ mechanism: Mechanism.AES_MAC_GENERAL, parameter: 8 });
    assert.equal(m.length, ULONG_SIZE);
    assert.equal(m.ulong(0), 8n);
  });

  test('null and undefined parameters are NULL', () => {
    assert.equal(encode({ mechanism: Mechanism.SHA256, parameter: null }).length, 0);
    assert.equal(encode({ mechanism: Mechanism.SHA256 }).length, 0);
  });

  test('bad mechanisms: TypeError for the wrong type, RangeError for impossible numbers', () => {
    assert.throws(() => mechanismOf('CKM_ECDSA' as never), TypeError);
    assert.throws(() => mechanismOf(null as never), TypeError);
    assert.throws(() => mechanismOf({ mechanism: '1' } as never), {
      name: 'TypeError',
      message: /mechanism\.mechanism/,
    });
    assert.throws(() => mechanismOf(-1), { name: 'RangeError', message: /mechanism/ });
    assert.throws(() => mechanismOf(NaN), RangeError);
    assert.throws(() => mechanismOf(2 ** 70), RangeError);
  });

  test('an object parameter for a mechanism without a struct encoder is a TypeError naming it', () => {
    assert.equal(hasStructuredParameter(Mechanism.AES_CBC_PAD), false);
    assert.throws(
      () =>
        encodeMechanism({ mechanism: Mechanism.AES_CBC_PAD, parameter: { iv: Uint8Array.of(1) } as never }),
      {
        name: 'TypeError',
        message: /parameter of CKM_AES_CBC_PAD/,
      },
    );
    assert.throws(
      () => encodeMechanism({ mechanism: Mechanism.AES_CBC, parameter: 'iv' as never }),
      TypeError,
    );
  });
});

describe('parameter structs (LP64 offsets)', { skip: !LP64 && 'offsets written for LP64' }, () => {
  test('CK_RSA_PKCS_OAEP_PARAMS, with and without a label', () => {
    const label = Buffer.from('label');
    const m = encode({
      mechanism: Mechanism.RSA_PKCS_OAEP,
      parameter: { hashAlg: Mechanism.SHA256, mgf: MGF.SHA256, sourceData: label },
    });
    assert.equal(m.length, 40);
    assert.equal(m.ulong(0), BigInt(Mechanism.SHA256), 'hashAlg');
    assert.equal(m.ulong(8), BigInt(MGF.SHA256), 'mgf');
    assert.equal(m.ulong(16), 1n, 'source: CKZ_DATA_SPECIFIED');
    assert.deepEqual(m.target(24, 5), label, 'pSourceData');
    assert.equal(m.ulong(32), 5n, 'ulSourceDataLen');

    const bare = encode({ mechanism: Mechanism.RSA_PKCS_OAEP, parameter: [Mechanism.SHA_1, MGF.SHA1] });
    assert.equal(bare.ulong(0), BigInt(Mechanism.SHA_1));
    assert.equal(bare.target(24, 0), null);
    assert.equal(bare.ulong(32), 0n);
  });

  test('CK_RSA_PKCS_PSS_PARAMS, as an object and as a tuple', () => {
    for (const parameter of [
      { hashAlg: Mechanism.SHA384, mgf: MGF.SHA384, saltLength: 48 },
      [Mechanism.SHA384, MGF.SHA384, 48],
    ]) {
      const m = encode({ mechanism: Mechanism.SHA384_RSA_PKCS_PSS, parameter });
      assert.equal(m.length, 24);
      assert.deepEqual(
        [m.ulong(0), m.ulong(8), m.ulong(16)],
        [BigInt(Mechanism.SHA384), BigInt(MGF.SHA384), 48n],
      );
    }
  });

  test('CK_GCM_PARAMS with ulIvBits', () => {
    const iv = bytes('cafebabefacedbaddecaf888');
    const aad = bytes('feedfacedeadbeef');
    const m = encode({ mechanism: Mechanism.AES_GCM, parameter: { iv, aad, tagBits: 96 } });
    assert.equal(m.length, 48);
    assert.deepEqual(m.target(0, 12), iv, 'pIv');
    assert.equal(m.ulong(8), 12n, 'ulIvLen');
    assert.equal(m.ulong(16), 96n, 'ulIvBits');
    assert.deepEqual(m.target(24, 8), aad, 'pAAD');
    assert.equal(m.ulong(32), 8n, 'ulAADLen');
    assert.equal(m.ulong(40), 96n, 'ulTagBits');

    const noAad = encode({ mechanism: Mechanism.AES_GCM, parameter: { iv } });
    assert.equal(noAad.target(24, 0), null);
    assert.equal(noAad.ulong(40), 128n, 'default tag: 128 bits');
  });

  test('CK_AES_CTR_PARAMS', () => {
    const block = bytes('f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff');
    const m = encode({ mechanism: Mechanism.AES_CTR, parameter: { counterBits: 32, counterBlock: block } });
    assert.equal(m.length, 24);
    assert.equal(m.ulong(0), 32n);
    assert.deepEqual(m.param.subarray(8, 24), block);
  });

  test('CK_ECDH1_DERIVE_PARAMS, python-pkcs11 tuple form with a raw point', () => {
    const point = Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 0xab)]);
    const m = encode({ mechanism: Mechanism.ECDH1_DERIVE, parameter: [KDF.NULL, null, point] });
    assert.equal(m.length, 40);
    assert.equal(m.ulong(0), BigInt(KDF.NULL), 'kdf');
    assert.equal(m.ulong(8), 0n, 'ulSharedDataLen');
    assert.equal(m.target(16, 0), null, 'pSharedData');
    assert.equal(m.ulong(24), 65n, 'ulPublicDataLen');
    assert.deepEqual(m.target(32, 65), point, 'pPublicData');

    const shared = Uint8Array.of(1, 2, 3, 4);
    const withKdf = encode({
      mechanism: Mechanism.ECDH1_COFACTOR_DERIVE,
      parameter: { kdf: KDF.SHA256_KDF, sharedData: shared, publicData: point },
    });
    assert.equal(withKdf.ulong(8), 4n);
    assert.deepEqual([...(withKdf.target(16, 4) as Buffer)], [1, 2, 3, 4]);
  });

  test('CK_EDDSA_PARAMS', () => {
    const context = Buffer.from('ctx');
    const m = encode({ mechanism: Mechanism.EDDSA, parameter: { phFlag: true, contextData: context } });
    assert.equal(m.length, 24);
    assert.equal(m.param[0], 1, 'phFlag');
    assert.equal(m.ulong(8), 3n, 'ulContextDataLen');
    assert.deepEqual(m.target(16, 3), context, 'pContextData');
    const plain = encode({ mechanism: Mechanism.EDDSA, parameter: { phFlag: false } });
    assert.equal(plain.param[0], 0);
    assert.equal(plain.target(16, 0), null);
  });

  test('CK_AES_CBC_ENCRYPT_DATA_PARAMS and CK_DES_CBC_ENCRYPT_DATA_PARAMS', () => {
    const iv = bytes('00112233445566778899aabbccddeeff');
    const data = bytes('000102030405060708090a0b0c0d0e0f');
    const aes = encode({ mechanism: Mechanism.AES_CBC_ENCRYPT_DATA, parameter: { iv, data } });
    assert.equal(aes.length, 32);
    assert.deepEqual(aes.param.subarray(0, 16), iv, 'iv[16]');
    assert.deepEqual(aes.target(16, 16), data, 'pData');
    assert.equal(aes.ulong(24), 16n, 'length');

    const des = encode({
      mechanism: Mechanism.DES3_CBC_ENCRYPT_DATA,
      parameter: { iv: iv.subarray(0, 8), data },
    });
    assert.equal(des.length, 24);
    assert.deepEqual(des.param.subarray(0, 8), iv.subarray(0, 8));
    assert.deepEqual(des.target(8, 16), data);
    assert.equal(des.ulong(16), 16n);
  });

  test('CK_KEY_DERIVATION_STRING_DATA from plain bytes', () => {
    const data = bytes('0102030405060708090a0b0c0d0e0f10');
    const m = encode({ mechanism: Mechanism.AES_ECB_ENCRYPT_DATA, parameter: data });
    assert.equal(m.length, 16);
    assert.deepEqual(m.target(0, 16), data, 'pData');
    assert.equal(m.ulong(8), 16n, 'ulLen');
  });

  test('raw bytes are never taken for a struct that holds pointers', () => {
    // The module would follow whatever addresses the bytes spell.
    assert.throws(
      () => encodeMechanism({ mechanism: Mechanism.RSA_PKCS_OAEP, parameter: new Uint8Array(40) }),
      TypeError,
    );
    assert.throws(
      () => encodeMechanism({ mechanism: Mechanism.AES_GCM, parameter: new Uint8Array(48) }),
      TypeError,
    );
    // A struct without pointers may still be given as its bytes.
    const pss = encode({ mechanism: Mechanism.RSA_PKCS_PSS, parameter: new Uint8Array(24).fill(1) });
    assert.equal(pss.length, 24);
  });
});

describe('parameter errors name the field', () => {
  const cases: [string, MechanismSpec, string, RegExp][] = [
    [
      'OAEP hashAlg of the wrong type',
      { mechanism: Mechanism.RSA_PKCS_OAEP, parameter: { hashAlg: 'sha256', mgf: MGF.SHA256 } as never },
      'TypeError',
      /parameter of CKM_RSA_PKCS_OAEP\.hashAlg/,
    ],
    [
      'OAEP label not bytes',
      { mechanism: Mechanism.RSA_PKCS_OAEP, parameter: { hashAlg: 1, mgf: 1, sourceData: 'x' } as never },
      'TypeError',
      /sourceData must be a Uint8Array/,
    ],
    [
      'PSS negative salt',
      {
        mechanism: Mechanism.RSA_PKCS_PSS,
        parameter: { hashAlg: Mechanism.SHA256, mgf: MGF.SHA256, saltLength: -1 },
      },
      'RangeError',
      /parameter of CKM_RSA_PKCS_PSS\.saltLength/,
    ],
    [
      'GCM without an IV',
      { mechanism: Mechanism.AES_GCM, parameter: {} as never },
      'TypeError',
      /\.iv must be a Uint8Array/,
    ],
    [
      'GCM tag of NaN bits',
      { mechanism: Mechanism.AES_GCM, parameter: { iv: Uint8Array.of(1), tagBits: NaN } },
      'RangeError',
      /\.tagBits/,
    ],
    [
      'CTR counter block of 15 bytes',
      { mechanism: Mechanism.AES_CTR, parameter: { counterBits: 32, counterBlock: new Uint8Array(15) } },
      'RangeError',
      /counterBlock must be 16 bytes/,
    ],
    [
      'CTR counter of 0 bits',
      { mechanism: Mechanism.AES_CTR, parameter: { counterBits: 0, counterBlock: new Uint8Array(16) } },
      'RangeError',
      /counterBits/,
    ],
    [
      'ECDH without a public point',
      { mechanism: Mechanism.ECDH1_DERIVE, parameter: [KDF.NULL, null] },
      'TypeError',
      /publicData must be a Uint8Array/,
    ],
    [
      'ECDH tuple too long',
      { mechanism: Mechanism.ECDH1_DERIVE, parameter: [KDF.NULL, null, Uint8Array.of(4), 'extra'] },
      'RangeError',
      /at most 3 items/,
    ],
    [
      'EdDSA flag not a boolean',
      { mechanism: Mechanism.EDDSA, parameter: { phFlag: 1 } as never },
      'TypeError',
      /phFlag must be a boolean/,
    ],
    [
      'AES CBC_ENCRYPT_DATA with an 8-byte IV',
      {
        mechanism: Mechanism.AES_CBC_ENCRYPT_DATA,
        parameter: { iv: new Uint8Array(8), data: new Uint8Array(16) },
      },
      'RangeError',
      /iv must be 16 bytes/,
    ],
    [
      'a struct parameter given as a string',
      { mechanism: Mechanism.RSA_PKCS_PSS, parameter: 'sha256' as never },
      'TypeError',
      /parameter of CKM_RSA_PKCS_PSS must be an object/,
    ],
  ];
  for (const [name, spec, errorName, message] of cases) {
    test(name, () => assert.throws(() => encodeMechanism(spec), { name: errorName, message }));
  }
});
