import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  constants,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  privateDecrypt,
  publicEncrypt,
  type KeyObject,
} from 'node:crypto';
import { Attribute, KeyType, ObjectClass } from '../../src/sys/constants.js';
import {
  type AttributeSource,
  decodeRsaPrivateKey,
  decodeRsaPublicKey,
  encodeRsaPublicKey,
} from '../../src/util/index.js';
import { assertRejectsMalformed } from '../support/malformed-der.js';

const b64u = (s: string | undefined) => new Uint8Array(Buffer.from(s!, 'base64url'));
const der = (key: KeyObject, type: 'pkcs1' | 'spki' | 'pkcs8') =>
  new Uint8Array(key.export({ format: 'der', type } as never) as Buffer);

/** A token-object stand-in: answers getAttributes from a template and records what was asked. */
function source(template: Record<number, unknown>): AttributeSource & { asked: number[][] } {
  const asked: number[][] = [];
  return {
    asked,
    async getAttributes(attributes) {
      asked.push([...attributes]);
      return Object.fromEntries(attributes.map((a) => [a, template[a]]));
    },
  };
}

const rsa2048 = generateKeyPairSync('rsa', { modulusLength: 2048 });
const rsa1024e3 = generateKeyPairSync('rsa', { modulusLength: 1024, publicExponent: 3 });

describe('RSA public keys', () => {
  for (const [label, pair] of [
    ['2048-bit, e=65537', rsa2048],
    ['1024-bit, e=3', rsa1024e3],
  ] as const) {
    test(`PKCS#1 and SPKI decode to the JWK's n and e, and encode back to node's PKCS#1 (${label})`, async () => {
      const jwk = pair.publicKey.export({ format: 'jwk' });
      const expected = {
        [Attribute.CLASS]: ObjectClass.PUBLIC_KEY,
        [Attribute.KEY_TYPE]: KeyType.RSA,
        [Attribute.MODULUS]: b64u(jwk.n),
        [Attribute.PUBLIC_EXPONENT]: b64u(jwk.e),
      };
      const pkcs1 = der(pair.publicKey, 'pkcs1');
      assert.deepEqual(decodeRsaPublicKey(pkcs1), expected);
      assert.deepEqual(decodeRsaPublicKey(der(pair.publicKey, 'spki')), expected);
      assert.deepEqual(await encodeRsaPublicKey(expected), pkcs1);
    });
  }

  test('decodes a view into a larger buffer (a Buffer from the pool, a subarray)', () => {
    const pkcs1 = der(rsa2048.publicKey, 'pkcs1');
    const big = new Uint8Array(pkcs1.length + 10);
    big.set(pkcs1, 7);
    assert.deepEqual(decodeRsaPublicKey(big.subarray(7, 7 + pkcs1.length)), decodeRsaPublicKey(pkcs1));
  });

  test('encodes from a key object, reading its attributes in one call', async () => {
    const template = decodeRsaPublicKey(der(rsa2048.publicKey, 'pkcs1'));
    const key = source(template);
    assert.deepEqual(await encodeRsaPublicKey(key), der(rsa2048.publicKey, 'pkcs1'));
    assert.equal(key.asked.length, 1);
    assert.ok(key.asked[0]!.includes(Attribute.MODULUS) && key.asked[0]!.includes(Attribute.PUBLIC_EXPONENT));
  });

  test('the encoded key encrypts for the private key (node refuses PKCS#1 v1.5 decryption, so OAEP here)', async () => {
    const pub = source(decodeRsaPublicKey(der(rsa2048.publicKey, 'spki')));
    const encoded = Buffer.from(await encodeRsaPublicKey(pub));
    const key = createPublicKey({ key: encoded, format: 'der', type: 'pkcs1' });
    const padding = constants.RSA_PKCS1_OAEP_PADDING;
    const crypttext = publicEncrypt({ key, padding }, Buffer.from('Data to encrypt'));
    const plain = privateDecrypt({ key: rsa2048.privateKey, padding }, crypttext);
    assert.equal(plain.toString(), 'Data to encrypt');
  });

  test('leading zeros in the attributes do not change the encoding', async () => {
    const template = decodeRsaPublicKey(der(rsa2048.publicKey, 'pkcs1'));
    const padded = {
      [Attribute.MODULUS]: Uint8Array.from([0, 0, ...(template[Attribute.MODULUS] as Uint8Array)]),
      [Attribute.PUBLIC_EXPONENT]: Uint8Array.of(0, 1, 0, 1),
    };
    assert.deepEqual(await encodeRsaPublicKey(padded), der(rsa2048.publicKey, 'pkcs1'));
  });

  test('RSASSA-PSS SubjectPublicKeyInfo decodes to an RSA template', () => {
    const pss = generateKeyPairSync('rsa-pss', {
      modulusLength: 1024,
      hashAlgorithm: 'sha256',
      mgf1HashAlgorithm: 'sha256',
    });
    const jwkLike = createPublicKey({
      key: Buffer.from(der(pss.publicKey, 'spki')),
      format: 'der',
      type: 'spki',
    });
    const t = decodeRsaPublicKey(der(pss.publicKey, 'spki'));
    assert.equal(t[Attribute.KEY_TYPE], KeyType.RSA);
    assert.equal(
      (t[Attribute.MODULUS] as Uint8Array).length * 8,
      jwkLike.asymmetricKeyDetails!.modulusLength,
    );
  });

  test('rejects keys of another type, missing attributes and non-templates', async () => {
    const t = decodeRsaPublicKey(der(rsa2048.publicKey, 'pkcs1'));
    await assert.rejects(encodeRsaPublicKey({ ...t, [Attribute.KEY_TYPE]: KeyType.EC }), {
      name: 'TypeError',
      message: /encodeRsaPublicKey: expected a key of type CKK_RSA, got CKK_EC/,
    });
    await assert.rejects(encodeRsaPublicKey({ [Attribute.PUBLIC_EXPONENT]: Uint8Array.of(3) }), {
      name: 'TypeError',
      message: /the key has no CKA_MODULUS/,
    });
    await assert.rejects(
      encodeRsaPublicKey({ ...t, [Attribute.MODULUS]: 'abc' }),
      /CKA_MODULUS must be a Uint8Array, got string/,
    );
    await assert.rejects(encodeRsaPublicKey(null as never), TypeError);
    await assert.rejects(
      encodeRsaPublicKey(Uint8Array.of(1) as never),
      /key must be a key object or a template/,
    );
  });

  test('rejects malformed DER with a DerError', () => {
    assertRejectsMalformed(der(rsa2048.publicKey, 'pkcs1'), 'decodeRsaPublicKey', decodeRsaPublicKey);
    assertRejectsMalformed(der(rsa2048.publicKey, 'spki'), 'decodeRsaPublicKey', decodeRsaPublicKey);
    assert.throws(() => decodeRsaPublicKey('30' as never), {
      name: 'TypeError',
      message: /der must be a Uint8Array/,
    });
  });

  test('rejects a negative modulus and SubjectPublicKeyInfo of other algorithms', () => {
    assert.throws(() => decodeRsaPublicKey(Uint8Array.from(Buffer.from('3006020180020103', 'hex'))), {
      name: 'DerError',
      message: /modulus must be a positive INTEGER/,
    });
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    assert.throws(() => decodeRsaPublicKey(der(ec.publicKey, 'spki')), {
      name: 'RangeError',
      message: /algorithm 1\.2\.840\.10045\.2\.1 is not an RSA key/,
    });
  });
});

describe('RSA private keys', () => {
  const expectedFrom = (key: KeyObject) => {
    const jwk = key.export({ format: 'jwk' });
    return {
      [Attribute.CLASS]: ObjectClass.PRIVATE_KEY,
      [Attribute.KEY_TYPE]: KeyType.RSA,
      [Attribute.MODULUS]: b64u(jwk.n),
      [Attribute.PUBLIC_EXPONENT]: b64u(jwk.e),
      [Attribute.PRIVATE_EXPONENT]: b64u(jwk.d),
      [Attribute.PRIME_1]: b64u(jwk.p),
      [Attribute.PRIME_2]: b64u(jwk.q),
      [Attribute.EXPONENT_1]: b64u(jwk.dp),
      [Attribute.EXPONENT_2]: b64u(jwk.dq),
      [Attribute.COEFFICIENT]: b64u(jwk.qi),
    };
  };

  test('PKCS#1 and PKCS#8 decode to every CRT part, equal to the JWK', () => {
    for (const pair of [rsa2048, rsa1024e3]) {
      const expected = expectedFrom(pair.privateKey);
      assert.deepEqual(decodeRsaPrivateKey(der(pair.privateKey, 'pkcs1')), expected);
      assert.deepEqual(decodeRsaPrivateKey(der(pair.privateKey, 'pkcs8')), expected);
    }
  });

  test('the decoded parts rebuild a key node accepts (via JWK)', () => {
    const t = decodeRsaPrivateKey(der(rsa2048.privateKey, 'pkcs8'));
    const b = (a: number) => Buffer.from(t[a] as Uint8Array).toString('base64url');
    const rebuilt = createPrivateKey({
      format: 'jwk',
      key: {
        kty: 'RSA',
        n: b(Attribute.MODULUS),
        e: b(Attribute.PUBLIC_EXPONENT),
        d: b(Attribute.PRIVATE_EXPONENT),
        p: b(Attribute.PRIME_1),
        q: b(Attribute.PRIME_2),
        dp: b(Attribute.EXPONENT_1),
        dq: b(Attribute.EXPONENT_2),
        qi: b(Attribute.COEFFICIENT),
      },
    });
    assert.ok(rebuilt.equals(rsa2048.privateKey));
  });

  test('refuses multi-prime keys with a RangeError (PKCS#11 has no place for the extra primes)', () => {
    const pem = execFileSync(
      'openssl',
      ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:1024', '-pkeyopt', 'rsa_keygen_primes:3'],
      {
        stdio: ['ignore', 'pipe', 'ignore'],
      },
    );
    const key = createPrivateKey(pem);
    assert.throws(() => decodeRsaPrivateKey(der(key, 'pkcs1')), {
      name: 'RangeError',
      message: /multi-prime/,
    });
    assert.throws(() => decodeRsaPrivateKey(der(key, 'pkcs8')), {
      name: 'RangeError',
      message: /multi-prime/,
    });
  });

  test('refuses PKCS#8 keys of other algorithms and malformed DER', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    assert.throws(() => decodeRsaPrivateKey(der(ec.privateKey, 'pkcs8')), {
      name: 'RangeError',
      message: /is not an RSA key/,
    });
    assertRejectsMalformed(der(rsa2048.privateKey, 'pkcs1'), 'decodeRsaPrivateKey', decodeRsaPrivateKey);
    assertRejectsMalformed(der(rsa2048.privateKey, 'pkcs8'), 'decodeRsaPrivateKey', decodeRsaPrivateKey);
  });

  test('error messages never carry key material', () => {
    const pkcs1 = der(rsa2048.privateKey, 'pkcs1');
    const secretHex = Buffer.from(
      decodeRsaPrivateKey(pkcs1)[Attribute.PRIVATE_EXPONENT] as Uint8Array,
    ).toString('hex');
    try {
      decodeRsaPrivateKey(Uint8Array.from([...pkcs1, 0]));
      assert.fail('expected a DerError');
    } catch (e) {
      assert.ok(!(e as Error).message.toLowerCase().includes(secretHex.slice(0, 16)));
      assert.ok((e as Error).message.length < 200);
    }
  });
});
