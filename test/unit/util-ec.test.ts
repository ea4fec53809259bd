import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { ECDH, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { Attribute, KeyType, ObjectClass } from '../../src/sys/constants.js';
import {
  DerError,
  curveInfo,
  decodeEcPoint,
  decodeEcPrivateKey,
  decodeEcPublicKey,
  decodeEcdsaSignature,
  decodeNamedCurveParameters,
  encodeEcPoint,
  encodeEcPublicKey,
  encodeEcdsaSignature,
  encodeNamedCurveParameters,
  listCurves,
} from '../../src/util/index.js';
import { readDer } from '../../src/util/der.js';
import { encodeSpki } from '../../src/util/spki.js';
import { assertRejectsMalformed } from '../support/malformed-der.js';

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s/g, ''), 'hex'));
const b64u = (s: string | undefined) => new Uint8Array(Buffer.from(s!, 'base64url'));
const der = (key: KeyObject, type: 'spki' | 'pkcs8' | 'sec1') =>
  new Uint8Array(key.export({ format: 'der', type } as never) as Buffer);
const openssl = (...args: string[]) =>
  new Uint8Array(execFileSync('openssl', args, { stdio: ['ignore', 'pipe', 'ignore'] }));
const P256_OID_DER = hex('06082a8648ce3d030107');

describe('named curves', () => {
  const opensslNames = execFileSync('openssl', ['ecparam', '-list_curves'])
    .toString()
    .split('\n')
    .map((line) => /^\s*([A-Za-z0-9-]+)\s*:/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined);

  test('every curve OpenSSL lists is known; each with an OID encodes exactly as OpenSSL does', () => {
    assert.ok(opensslNames.length > 80, 'openssl lists its curves');
    for (const name of opensslNames) {
      const info = curveInfo(name);
      if (info.oid === undefined) {
        assert.throws(() => encodeNamedCurveParameters(name), {
          name: 'RangeError',
          message: /has no object identifier/,
        });
        continue;
      }
      const params = encodeNamedCurveParameters(name);
      assert.deepEqual(params, openssl('ecparam', '-name', name, '-outform', 'DER'), name);
      assert.deepEqual(decodeNamedCurveParameters(params), { oid: info.oid, name: info.name }, name);
    }
  });

  test('field and order sizes match what OpenSSL reports for its curves', () => {
    for (const name of ['secp160r1', 'secp521r1', 'sect571k1', 'c2pnb208w1', 'brainpoolP320r1']) {
      const text = execFileSync('openssl', [
        'ecparam',
        '-name',
        name,
        '-param_enc',
        'explicit',
        '-text',
        '-noout',
      ]).toString();
      const order = /Order:\s*\n((?:\s+[0-9a-f:]+\n)+)/.exec(text)![1]!.replace(/[\s:]/g, '');
      const orderBits = BigInt(`0x${order}`).toString(2).length;
      assert.equal(curveInfo(name).orderBits, orderBits, name);
      assert.equal(curveInfo(name).orderSize, Math.ceil(orderBits / 8), name);
    }
    assert.deepEqual(
      [curveInfo('secp160r1').fieldSize, curveInfo('secp160r1').orderSize],
      [20, 21],
      'secp160r1 has a 161-bit order: signature halves are longer than a coordinate',
    );
    assert.equal(curveInfo('P-521').orderSize, 66);
    assert.equal(curveInfo('P-521').pointSize, 133);
    assert.deepEqual(
      ['Ed25519', 'Ed448', 'X25519', 'X448'].map((n) => curveInfo(n).pointSize),
      [32, 57, 32, 56],
    );
  });

  test('aliases and letter case name the same curve', () => {
    const groups = [
      ['secp256r1', 'prime256v1', 'P-256', 'p-256', 'SECP256R1', 'Prime256V1', '1.2.840.10045.3.1.7'],
      ['secp192r1', 'prime192v1', 'P-192', '1.2.840.10045.3.1.1'],
      ['secp224r1', 'P-224', '1.3.132.0.33'],
      ['secp384r1', 'P-384', 'p-384', '1.3.132.0.34'],
      ['secp521r1', 'P-521', '1.3.132.0.35'],
      ['brainpoolP256r1', 'BRAINPOOLP256R1', 'brainpoolp256r1', '1.3.36.3.3.2.8.1.1.7'],
      ['secp256k1', 'SECP256K1', '1.3.132.0.10'],
      ['sect163k1', 'K-163'],
      ['sect571r1', 'B-571'],
      ['Ed25519', 'ed25519', 'edwards25519', '1.3.101.112'],
      ['Ed448', 'ED448', 'edwards448', '1.3.101.113'],
      ['X25519', 'x25519', 'curve25519', '1.3.101.110'],
      ['X448', 'curve448', '1.3.101.111'],
    ];
    for (const [canonical, ...aliases] of groups) {
      const expected = encodeNamedCurveParameters(canonical!);
      for (const alias of aliases) {
        assert.deepEqual(encodeNamedCurveParameters(alias), expected, alias);
        assert.equal(curveInfo(alias).name, canonical, alias);
      }
      assert.equal(decodeNamedCurveParameters(expected).name, canonical);
    }
    assert.deepEqual(encodeNamedCurveParameters('prime256v1'), P256_OID_DER);
  });

  test('every listed name and alias round-trips through EC_PARAMS', () => {
    for (const curve of listCurves().filter((c) => c.oid !== undefined)) {
      for (const name of [curve.name, ...curve.aliases]) {
        assert.equal(decodeNamedCurveParameters(encodeNamedCurveParameters(name)).name, curve.name, name);
      }
    }
  });

  test('RFC 8410 curves encode as their OIDs and decode from the PKCS#11 3.0 PrintableString form too', () => {
    assert.deepEqual(encodeNamedCurveParameters('Ed25519'), hex('06032b6570'));
    assert.deepEqual(encodeNamedCurveParameters('X448'), hex('06032b656f'));
    const printable = (s: string) => Uint8Array.from([0x13, s.length, ...Buffer.from(s)]);
    assert.deepEqual(decodeNamedCurveParameters(printable('edwards25519')), {
      oid: '1.3.101.112',
      name: 'Ed25519',
    });
    assert.deepEqual(decodeNamedCurveParameters(printable('curve448')), { oid: '1.3.101.111', name: 'X448' });
    assert.equal(curveInfo(printable('edwards448')).name, 'Ed448');
    assert.throws(() => decodeNamedCurveParameters(printable('secp256r1')), RangeError);
    assert.throws(() => decodeNamedCurveParameters(printable('EDWARDS25519')), RangeError);
  });

  test('unknown dotted OIDs encode as given; unknown names and bad OIDs are RangeErrors', () => {
    const params = encodeNamedCurveParameters('1.2.643.7.1.2.1.1.1');
    assert.deepEqual(decodeNamedCurveParameters(params), { oid: '1.2.643.7.1.2.1.1.1', name: undefined });
    assert.throws(() => curveInfo(params), { name: 'RangeError', message: /unknown curve "1\.2\.643/ });
    assert.throws(() => encodeNamedCurveParameters('secp256r2'), {
      name: 'RangeError',
      message: /unknown curve name "secp256r2"/,
    });
    assert.throws(() => encodeNamedCurveParameters('1.40.3'), {
      name: 'RangeError',
      message: /not a valid object identifier/,
    });
    assert.throws(() => encodeNamedCurveParameters('1.02.3'), RangeError);
    assert.throws(() => encodeNamedCurveParameters(' P-256'), RangeError);
    assert.throws(() => encodeNamedCurveParameters(256 as never), TypeError);
    assert.throws(() => curveInfo(null as never), TypeError);
  });

  test('explicit and implicit curve parameters are refused; malformed EC_PARAMS is a DerError', () => {
    const explicit = openssl('ecparam', '-name', 'prime256v1', '-param_enc', 'explicit', '-outform', 'DER');
    assert.throws(() => decodeNamedCurveParameters(explicit), {
      name: 'RangeError',
      message: /only named curves/,
    });
    assert.throws(() => decodeNamedCurveParameters(hex('0500')), {
      name: 'RangeError',
      message: /only named curves/,
    });
    assertRejectsMalformed(P256_OID_DER, 'decodeNamedCurveParameters', decodeNamedCurveParameters);
  });
});

describe('EC public keys', () => {
  const weierstrass = [
    'prime256v1',
    'secp256k1',
    'brainpoolP256r1',
    'secp384r1',
    'secp521r1',
    'brainpoolP512r1',
    'secp224r1',
  ];

  for (const name of weierstrass) {
    test(`${name}: SPKI decodes to EC_PARAMS + EC_POINT and encodes back byte for byte`, async () => {
      const { publicKey } = generateKeyPairSync('ec', { namedCurve: name });
      const spki = der(publicKey, 'spki');
      const raw = spki.subarray(spki.length - curveInfo(name).pointSize);
      const template = decodeEcPublicKey(spki);
      assert.deepEqual(template, {
        [Attribute.CLASS]: ObjectClass.PUBLIC_KEY,
        [Attribute.KEY_TYPE]: KeyType.EC,
        [Attribute.EC_PARAMS]: encodeNamedCurveParameters(name),
        [Attribute.EC_POINT]: encodeEcPoint(raw),
      });
      assert.deepEqual(decodeEcPublicKey(spki, { encodeEcPoint: false })[Attribute.EC_POINT], raw);
      assert.deepEqual(await encodeEcPublicKey(template), spki);
      assert.deepEqual(await encodeEcPublicKey({ ...template, [Attribute.EC_POINT]: raw }), spki);
      const key = {
        getAttributes: async (a: readonly number[]) =>
          Object.fromEntries(a.map((n) => [n, (template as Record<number, unknown>)[n]])),
      };
      assert.deepEqual(await encodeEcPublicKey(key), spki);
    });
  }

  test('the raw point equals the JWK coordinates (04||x||y)', () => {
    for (const name of ['P-256', 'secp256k1', 'P-384', 'P-521']) {
      const { publicKey } = generateKeyPairSync('ec', { namedCurve: name });
      const jwk = publicKey.export({ format: 'jwk' });
      const point = decodeEcPublicKey(der(publicKey, 'spki'), { encodeEcPoint: false })[Attribute.EC_POINT];
      assert.deepEqual(point, Uint8Array.from([4, ...b64u(jwk.x), ...b64u(jwk.y)]), name);
    }
  });

  test('a compressed point gives an SPKI node reads as the same key', async () => {
    const ecdh = ECDH.convertKey;
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const raw = decodeEcPublicKey(der(publicKey, 'spki'), { encodeEcPoint: false })[
      Attribute.EC_POINT
    ] as Uint8Array;
    const compressed = new Uint8Array(
      ecdh(Buffer.from(raw), 'prime256v1', undefined, undefined, 'compressed') as Buffer,
    );
    assert.equal(compressed.length, 33);
    const spki = await encodeEcPublicKey({
      [Attribute.EC_PARAMS]: P256_OID_DER,
      [Attribute.EC_POINT]: encodeEcPoint(compressed),
    });
    const loaded = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
    assert.deepEqual(loaded.export({ format: 'jwk' }), publicKey.export({ format: 'jwk' }));
  });

  for (const [type, keyType, name] of [
    ['ed25519', KeyType.EC_EDWARDS, 'Ed25519'],
    ['ed448', KeyType.EC_EDWARDS, 'Ed448'],
    ['x25519', KeyType.EC_MONTGOMERY, 'X25519'],
    ['x448', KeyType.EC_MONTGOMERY, 'X448'],
  ] as const) {
    test(`${name}: RFC 8410 SPKI decodes to ${keyType === KeyType.EC_EDWARDS ? 'EC_EDWARDS' : 'EC_MONTGOMERY'} and encodes back`, async () => {
      const { publicKey } = generateKeyPairSync(type as 'ed25519');
      const spki = der(publicKey, 'spki');
      const raw = b64u(publicKey.export({ format: 'jwk' }).x);
      const template = decodeEcPublicKey(spki);
      assert.deepEqual(template, {
        [Attribute.CLASS]: ObjectClass.PUBLIC_KEY,
        [Attribute.KEY_TYPE]: keyType,
        [Attribute.EC_PARAMS]: encodeNamedCurveParameters(name),
        [Attribute.EC_POINT]: encodeEcPoint(raw),
      });
      assert.deepEqual(await encodeEcPublicKey(template), spki);
      // Without KEY_TYPE the curve decides; the PrintableString form of EC_PARAMS works too.
      const printable = Uint8Array.from([0x13, 0, ...Buffer.from(curveInfo(name).aliases[0]!)]);
      printable[1] = printable.length - 2;
      assert.deepEqual(
        await encodeEcPublicKey({ [Attribute.EC_PARAMS]: printable, [Attribute.EC_POINT]: raw }),
        spki,
      );
    });
  }

  test('refuses a key type that does not fit the curve, and missing attributes', async () => {
    const ed = decodeEcPublicKey(der(generateKeyPairSync('ed25519').publicKey, 'spki'));
    await assert.rejects(encodeEcPublicKey({ ...ed, [Attribute.KEY_TYPE]: KeyType.EC }), {
      name: 'TypeError',
      message: /a CKK_EC key cannot be on curve Ed25519/,
    });
    await assert.rejects(
      encodeEcPublicKey({ ...ed, [Attribute.KEY_TYPE]: KeyType.RSA }),
      /expected a key of type CKK_EC/,
    );
    await assert.rejects(
      encodeEcPublicKey({ [Attribute.EC_PARAMS]: P256_OID_DER }),
      /the key has no CKA_EC_POINT/,
    );
    await assert.rejects(
      encodeEcPublicKey({ [Attribute.EC_POINT]: new Uint8Array(65) }),
      /the key has no CKA_EC_PARAMS/,
    );
  });

  test('refuses an EC_POINT that is no point of the curve, raw or wrapped', async () => {
    const point = Uint8Array.from([4, ...new Uint8Array(64).fill(7)]);
    await assert.rejects(
      encodeEcPublicKey({
        [Attribute.EC_PARAMS]: encodeNamedCurveParameters('P-384'),
        [Attribute.EC_POINT]: point,
      }),
      {
        name: 'TypeError',
        message: /encodeEcPublicKey: EC_POINT is not a secp384r1 point, raw or DER-wrapped/,
      },
    );
  });

  test('decoding refuses malformed DER, other algorithms, explicit curves and wrong point sizes', () => {
    const spki = der(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey, 'spki');
    assertRejectsMalformed(spki, 'decodeEcPublicKey', decodeEcPublicKey);
    assertRejectsMalformed(
      der(generateKeyPairSync('ed25519').publicKey, 'spki'),
      'decodeEcPublicKey',
      decodeEcPublicKey,
    );
    const rsa = der(generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey, 'spki');
    assert.throws(() => decodeEcPublicKey(rsa), {
      name: 'RangeError',
      message: /is not an elliptic-curve key/,
    });
    const explicit = new Uint8Array(
      execFileSync(
        'openssl',
        ['pkey', '-pubin', '-inform', 'DER', '-outform', 'DER', '-ec_param_enc', 'explicit'],
        {
          input: spki,
          stdio: ['pipe', 'pipe', 'ignore'],
        },
      ),
    );
    assert.throws(() => decodeEcPublicKey(explicit), { name: 'RangeError', message: /only named curves/ });
    // A P-256 point under the P-384 OID.
    const p256Point = decodeEcPublicKey(spki, { encodeEcPoint: false })[Attribute.EC_POINT] as Uint8Array;
    const parameters = encodeNamedCurveParameters('P-384');
    const mismatched = encodeSpki({ algorithm: '1.2.840.10045.2.1', parameters, publicKey: p256Point });
    assert.throws(() => decodeEcPublicKey(mismatched), {
      name: 'DerError',
      message: /not a secp384r1 point/,
    });
    const withParams = encodeSpki({ algorithm: '1.3.101.112', parameters, publicKey: new Uint8Array(32) });
    assert.throws(() => decodeEcPublicKey(withParams), {
      name: 'DerError',
      message: /Ed25519 keys take no algorithm parameters/,
    });
    const noCurve = encodeSpki({
      algorithm: '1.2.840.10045.2.1',
      parameters: undefined,
      publicKey: p256Point,
    });
    assert.throws(() => decodeEcPublicKey(noCurve), {
      name: 'DerError',
      message: /without curve parameters/,
    });
    assert.throws(() => decodeEcPublicKey(spki, { encodeEcPoint: 'no' as never }), TypeError);
  });
});

describe('EC points', () => {
  test('encodeEcPoint wraps in an OCTET STRING (long form for P-521) and decodeEcPoint unwraps', () => {
    for (const name of ['P-256', 'P-521', 'Ed448']) {
      const raw = Uint8Array.from({ length: curveInfo(name).pointSize }, (_, i) =>
        i === 0 && name !== 'Ed448' ? 4 : i,
      );
      const wrapped = encodeEcPoint(raw);
      assert.equal(wrapped[0], 0x04);
      assert.equal(wrapped.length, raw.length + (raw.length < 128 ? 2 : 3));
      assert.deepEqual(decodeEcPoint(wrapped), raw);
      assert.deepEqual(decodeEcPoint(raw), raw);
      assert.deepEqual(decodeEcPoint(wrapped, name), raw);
      assert.deepEqual(decodeEcPoint(raw, encodeNamedCurveParameters(name)), raw);
    }
  });

  test('a raw point that also parses as DER is decided by the curve, and refused without it', () => {
    // A secp192r1 point 04 || X || Y with X starting 2f 02 also reads as DER: an OCTET STRING of 47
    // bytes holding 02 || ..., a compressed point of c2pnb368w1 (46-byte field).
    const raw = Uint8Array.from([4, 0x2f, 2, ...new Uint8Array(46).fill(9)]);
    assert.deepEqual(decodeEcPoint(raw, 'secp192r1'), raw);
    assert.deepEqual(decodeEcPoint(raw, 'c2pnb368w1'), raw.subarray(2));
    assert.throws(() => decodeEcPoint(raw), { name: 'TypeError', message: /give the curve/ });
  });

  test('common curves never need the hint: P-256 points with the worst first bytes', () => {
    for (let first = 0; first < 256; first++) {
      const raw = Uint8Array.from([4, first, 4, ...new Uint8Array(62).fill(first)]);
      assert.deepEqual(decodeEcPoint(raw), raw);
      assert.deepEqual(decodeEcPoint(encodeEcPoint(raw)), raw);
    }
  });

  test('a long point wrapped with a short-form length (tpm2-pkcs11 P-521) is read, and only then', () => {
    const raw = Uint8Array.from({ length: curveInfo('P-521').pointSize }, (_, i) => (i === 0 ? 4 : i));
    const misencoded = Uint8Array.from([0x04, raw.length, ...raw]);
    assert.equal(misencoded.length, encodeEcPoint(raw).length - 1, 'one byte short of DER');
    assert.deepEqual(decodeEcPoint(misencoded), raw);
    assert.deepEqual(decodeEcPoint(misencoded, 'secp521r1'), raw);
    // A length byte that does not match what follows, or a short point, is still no point.
    assert.throws(() => decodeEcPoint(misencoded.subarray(0, -1), 'secp521r1'), /not a secp521r1 point/);
    const p256 = Uint8Array.from({ length: 65 }, (_, i) => (i === 0 ? 4 : i));
    assert.throws(() => decodeEcPoint(Uint8Array.from([0x04, 0x80 | 65, ...p256]), 'P-256'), TypeError);
  });

  test('refuses bytes that are no point, and empty input', () => {
    assert.throws(() => decodeEcPoint(new Uint8Array(10), 'P-256'), {
      name: 'TypeError',
      message: /not a secp256r1 point/,
    });
    assert.throws(() => decodeEcPoint(Uint8Array.of(5, 1, 2)), /not a point of a known curve/);
    assert.throws(() => encodeEcPoint(new Uint8Array(0)), RangeError);
    assert.throws(() => decodeEcPoint([4, 1, 2] as never), TypeError);
  });
});

describe('EC private keys', () => {
  for (const name of ['prime256v1', 'secp256k1', 'brainpoolP256r1', 'secp521r1']) {
    test(`${name}: SEC1 and PKCS#8 decode to EC_PARAMS and the scalar d`, () => {
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: name });
      const jwkD = name === 'brainpoolP256r1' ? undefined : b64u(privateKey.export({ format: 'jwk' }).d); // no JWK for brainpool
      const fromSec1 = decodeEcPrivateKey(der(privateKey, 'sec1'));
      const fromPkcs8 = decodeEcPrivateKey(der(privateKey, 'pkcs8'));
      assert.deepEqual(fromSec1, fromPkcs8);
      assert.equal(fromSec1[Attribute.CLASS], ObjectClass.PRIVATE_KEY);
      assert.equal(fromSec1[Attribute.KEY_TYPE], KeyType.EC);
      assert.deepEqual(fromSec1[Attribute.EC_PARAMS], encodeNamedCurveParameters(name));
      const d = fromSec1[Attribute.VALUE] as Uint8Array;
      assert.notEqual(d[0], 0, 'no leading zero');
      if (jwkD !== undefined) {
        let i = 0;
        while (jwkD[i] === 0) i++;
        assert.deepEqual(d, jwkD.subarray(i));
      }
    });
  }

  for (const [type, keyType] of [
    ['ed25519', KeyType.EC_EDWARDS],
    ['ed448', KeyType.EC_EDWARDS],
    ['x25519', KeyType.EC_MONTGOMERY],
    ['x448', KeyType.EC_MONTGOMERY],
  ] as const) {
    test(`${type}: RFC 8410 PKCS#8 decodes to the raw private key bytes`, () => {
      const { privateKey } = generateKeyPairSync(type as 'ed25519');
      const t = decodeEcPrivateKey(der(privateKey, 'pkcs8'));
      assert.equal(t[Attribute.KEY_TYPE], keyType);
      assert.deepEqual(t[Attribute.VALUE], b64u(privateKey.export({ format: 'jwk' }).d));
      assert.equal(
        decodeNamedCurveParameters(t[Attribute.EC_PARAMS] as Uint8Array).name?.toLowerCase(),
        type,
      );
    });
  }

  test('a SEC1 key that does not name its curve is refused (PKCS#8 inner keys rely on the outer one)', () => {
    const pkcs8 = der(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, 'pkcs8');
    const sec1 = readDer(pkcs8, 'test').children[2]!.content; // PrivateKeyInfo.privateKey
    assert.equal(
      readDer(sec1, 'test').children.some((c) => c.tag === 0xa0),
      false,
      'node leaves the curve out',
    );
    assert.throws(() => decodeEcPrivateKey(sec1), { name: 'TypeError', message: /does not name its curve/ });
  });

  test('refuses malformed DER and other algorithms', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    assertRejectsMalformed(der(privateKey, 'sec1'), 'decodeEcPrivateKey', decodeEcPrivateKey);
    assertRejectsMalformed(der(privateKey, 'pkcs8'), 'decodeEcPrivateKey', decodeEcPrivateKey);
    assertRejectsMalformed(
      der(generateKeyPairSync('ed25519').privateKey, 'pkcs8'),
      'decodeEcPrivateKey',
      decodeEcPrivateKey,
    );
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
    assert.throws(() => decodeEcPrivateKey(der(rsa, 'pkcs8')), {
      name: 'RangeError',
      message: /is not an elliptic-curve key/,
    });
    assert.throws(() => decodeEcPrivateKey(hex('020101')), DerError);
  });
});

describe('ECDSA signatures', () => {
  const data = Buffer.from('Data to sign');
  const curves = ['prime256v1', 'secp256k1', 'brainpoolP256r1', 'secp384r1', 'secp521r1', 'brainpoolP512r1'];

  for (const name of curves) {
    test(`${name}: node's DER and IEEE P1363 signatures convert both ways and verify`, () => {
      const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: name });
      const size = curveInfo(name).orderSize;
      const derSig = new Uint8Array(sign('sha256', data, { key: privateKey, dsaEncoding: 'der' }));
      const raw = decodeEcdsaSignature(derSig, name);
      assert.equal(raw.length, 2 * size);
      assert.ok(verify('sha256', data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, raw));
      assert.deepEqual(encodeEcdsaSignature(raw), derSig);

      const p1363 = new Uint8Array(sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' }));
      const encoded = encodeEcdsaSignature(p1363);
      assert.ok(verify('sha256', data, { key: publicKey, dsaEncoding: 'der' }, encoded));
      assert.deepEqual(decodeEcdsaSignature(encoded, encodeNamedCurveParameters(name)), p1363);
      assert.deepEqual(decodeEcdsaSignature(encoded, size), p1363);
    });
  }

  for (const name of ['prime256v1', 'secp521r1']) {
    test(`${name}: a signature whose r or s has leading zero bytes comes back at full size`, () => {
      const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: name });
      const size = curveInfo(name).orderSize;
      const found = { r: false, s: false };
      for (let i = 0; i < 20000 && !(found.r && found.s); i++) {
        const p1363 = new Uint8Array(
          sign('sha256', Buffer.from(`msg ${i}`), { key: privateKey, dsaEncoding: 'ieee-p1363' }),
        );
        const part = p1363[0] === 0 && !found.r ? 'r' : p1363[size] === 0 && !found.s ? 's' : undefined;
        if (part === undefined) continue;
        found[part] = true;
        const encoded = encodeEcdsaSignature(p1363);
        assert.ok(encoded.length < 8 + 2 * size + 2, 'the DER integer is shorter than the curve size');
        const raw = decodeEcdsaSignature(encoded, name);
        assert.equal(raw.length, 2 * size);
        assert.deepEqual(raw, p1363);
        assert.ok(
          verify('sha256', Buffer.from(`msg ${i}`), { key: publicKey, dsaEncoding: 'ieee-p1363' }, raw),
        );
      }
      assert.ok(found.r && found.s, 'the hunt found signatures with short r and short s');
    });
  }

  test('the curve is required and must be an ECDSA curve; sizes are checked', () => {
    const derSig = encodeEcdsaSignature(new Uint8Array(64).fill(1));
    assert.throws(() => decodeEcdsaSignature(derSig, undefined as never), {
      name: 'TypeError',
      message: /curve is required/,
    });
    assert.throws(() => decodeEcdsaSignature(derSig, 'Ed25519'), {
      name: 'TypeError',
      message: /not ECDSA signatures/,
    });
    assert.throws(() => decodeEcdsaSignature(derSig, 16), {
      name: 'RangeError',
      message: /r is longer than 16 bytes/,
    });
    assert.throws(() => decodeEcdsaSignature(derSig, 0), RangeError);
    assert.throws(() => decodeEcdsaSignature(derSig, 'nocurve'), RangeError);
    assert.throws(() => encodeEcdsaSignature(new Uint8Array(63)), {
      name: 'RangeError',
      message: /even, non-zero/,
    });
    assert.throws(() => encodeEcdsaSignature(new Uint8Array(0)), RangeError);
    assert.throws(() => encodeEcdsaSignature('sig' as never), TypeError);
  });

  test('rejects malformed and negative DER signatures', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const derSig = new Uint8Array(sign('sha256', data, { key: privateKey, dsaEncoding: 'der' }));
    assertRejectsMalformed(derSig, 'decodeEcdsaSignature', (bytes) => decodeEcdsaSignature(bytes, 'P-256'));
    assert.throws(() => decodeEcdsaSignature(hex('3006 020180 020101'), 'P-256'), {
      name: 'DerError',
      message: /r must be a positive INTEGER/,
    });
  });
});
