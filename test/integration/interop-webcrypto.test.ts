// interop, WebCrypto: token keys as CryptoKeys behind tokenCrypto.subtle, round-tripped with node's
// own webcrypto: what the token signs, encrypts or agrees, node verifies, decrypts or agrees too,
// and the other way round.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto, { webcrypto } from 'node:crypto';
import { KeyType, Mechanism } from '../../src/sys/constants.js';
import type { PrivateKey, PublicKey, SecretKey } from '../../src/model/index.js';
import {
  TokenCryptoKey,
  importKey,
  toCryptoKey,
  toCryptoKeyPair,
  tokenCrypto,
} from '../../src/interop/index.js';
import { Pkcs11Error } from '../../src/core/errors.js';
import { type Fixture, lacks, openFixture, PARAMETER_REFUSED } from '../support/token.js';
import { cannotImport } from '../support/key-capabilities.js';
import { KEY_KINDS, familyOf, tokenKeyPair } from '../support/key-kinds.js';

const node = webcrypto.subtle;
const token = tokenCrypto.subtle;
const data = Buffer.from('interop: WebCrypto, backed by the token');
const tampered = Buffer.from('interop: WebCrypto, backed by the token?');

type CryptoKey = webcrypto.CryptoKey;

/** Rejects with a DOMException of WebCrypto error `name`. */
async function rejectsWith(promise: Promise<unknown>, name: string): Promise<void> {
  await assert.rejects(promise, (e: Error) => e.name === name);
}

/** A node-made key pair copied into the token (public and private), for checks in both directions. */
async function importPair(fx: Fixture, pair: webcrypto.CryptoKeyPair) {
  const privateKey = (await importKey(fx.session, crypto.KeyObject.from(pair.privateKey))) as PrivateKey;
  const publicKey = (await importKey(fx.session, crypto.KeyObject.from(pair.publicKey))) as PublicKey;
  return { privateKey, publicKey };
}

/** A secret key made by node's WebCrypto, and the same secret imported into the token as `keyType`. */
async function sharedSecret(
  fx: Fixture,
  algorithm: webcrypto.AesKeyGenParams | webcrypto.HmacKeyGenParams,
  keyType: number,
  usages: webcrypto.KeyUsage[],
): Promise<{ nodeKey: CryptoKey; secret: SecretKey }> {
  const nodeKey = (await node.generateKey(algorithm, true, usages)) as CryptoKey;
  const raw = Buffer.from(await node.exportKey('raw', nodeKey));
  const secret = (await importKey(fx.session, crypto.createSecretKey(raw), { keyType })) as SecretKey;
  return { nodeKey, secret };
}

describe('interop: WebCrypto', () => {
  let fx: Fixture;
  before(async () => {
    fx = await openFixture();
  });
  after(() => fx?.close());

  const signatures: {
    title: string;
    kind: (typeof KEY_KINDS)[number];
    key: webcrypto.RsaHashedImportParams | webcrypto.EcKeyImportParams | webcrypto.Algorithm;
    sign: webcrypto.AlgorithmIdentifier | webcrypto.RsaPssParams | webcrypto.EcdsaParams;
    mechanism: number;
  }[] = [
    {
      title: 'RSASSA-PKCS1-v1_5',
      kind: KEY_KINDS[0]!,
      key: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
      sign: 'RSASSA-PKCS1-v1_5',
      mechanism: Mechanism.RSA_PKCS,
    },
    {
      title: 'RSA-PSS',
      kind: KEY_KINDS[0]!,
      key: { name: 'RSA-PSS', hash: 'SHA-384' },
      sign: { name: 'RSA-PSS', saltLength: 48 },
      mechanism: Mechanism.SHA384_RSA_PKCS_PSS,
    },
    ...(
      [
        ['secp256r1', 'P-256', 'SHA-256'],
        ['secp384r1', 'P-384', 'SHA-384'],
        ['secp521r1', 'P-521', 'SHA-512'],
      ] as const
    ).map(([curve, namedCurve, hash]) => ({
      title: `ECDSA ${namedCurve} ${hash}`,
      kind: KEY_KINDS.find((k) => k.spec === curve)!,
      key: { name: 'ECDSA', namedCurve },
      sign: { name: 'ECDSA', hash },
      mechanism: Mechanism.ECDSA,
    })),
    {
      title: 'Ed25519',
      kind: KEY_KINDS.at(-1)!,
      key: { name: 'Ed25519' },
      sign: 'Ed25519',
      mechanism: Mechanism.EDDSA,
    },
  ];

  for (const s of signatures) {
    test(`${s.title}: the token signs, node verifies; node signs, the token verifies`, async (t) => {
      if (lacks(t, fx, s.mechanism)) return;
      const pair = await tokenKeyPair(t, fx, s.kind);
      if (!pair) return;
      const keys = await toCryptoKeyPair(pair, s.key as webcrypto.Algorithm);
      assert.equal(Object.prototype.toString.call(keys.privateKey), '[object CryptoKey]');
      assert.equal(keys.privateKey.extractable, false);
      assert.deepEqual(keys.privateKey.usages, ['sign']);
      const signature = await token.sign(s.sign, keys.privateKey, data);
      const spki = await token.exportKey('spki', keys.publicKey);
      const nodePublic = await node.importKey('spki', spki, s.key, true, ['verify']);
      assert.equal(await node.verify(s.sign, nodePublic, signature, data), true);
      assert.equal(await node.verify(s.sign, nodePublic, signature, tampered), false);
      assert.equal(await token.verify(s.sign, keys.publicKey, signature, data), true);

      const rsa = { modulusLength: 2048, publicExponent: Uint8Array.of(1, 0, 1) };
      const generate = {
        ...s.key,
        ...(s.kind.keyType === KeyType.RSA ? rsa : {}),
      } as webcrypto.RsaHashedKeyGenParams;
      const nodePair = (await node.generateKey(generate, true, [
        'sign',
        'verify',
      ])) as webcrypto.CryptoKeyPair;
      const nodeSignature = await node.sign(s.sign, nodePair.privateKey, data);
      if (await cannotImport(t, fx.session, `${familyOf(s.kind)} public`)) return;
      const imported = (await importKey(fx.session, crypto.KeyObject.from(nodePair.publicKey))) as PublicKey;
      const tokenPublic = await toCryptoKey(imported, s.key as webcrypto.Algorithm);
      assert.equal(await token.verify(s.sign, tokenPublic, nodeSignature, data), true);
      assert.equal(await token.verify(s.sign, tokenPublic, nodeSignature, tampered), false);
    });
  }

  test('RSA-OAEP (SHA-1): node encrypts, the token decrypts; the token encrypts, node decrypts', async (t) => {
    if (lacks(t, fx, Mechanism.RSA_PKCS_OAEP)) return;
    if (await cannotImport(t, fx.session, 'RSA private', 'RSA public')) return;
    const algorithm = {
      name: 'RSA-OAEP',
      modulusLength: 2048,
      publicExponent: Uint8Array.of(1, 0, 1),
      hash: 'SHA-1',
    };
    const nodePair = (await node.generateKey(algorithm, true, [
      'encrypt',
      'decrypt',
    ])) as webcrypto.CryptoKeyPair;
    const imported = await importPair(fx, nodePair);
    const keys = await toCryptoKeyPair(imported, { name: 'RSA-OAEP', hash: 'SHA-1' });
    const stranger = (await node.generateKey(algorithm, true, [
      'encrypt',
      'decrypt',
    ])) as webcrypto.CryptoKeyPair;
    const roundTrip = async (params: webcrypto.RsaOaepParams) => {
      const fromToken = await token.encrypt(params, keys.publicKey, data);
      assert.deepEqual(Buffer.from(await node.decrypt(params, nodePair.privateKey, fromToken)), data);
      const fromNode = await node.encrypt(params, nodePair.publicKey, data);
      assert.deepEqual(Buffer.from(await token.decrypt(params, keys.privateKey, fromNode)), data);
      const otherKey = await node.importKey(
        'spki',
        await node.exportKey('spki', stranger.publicKey),
        algorithm,
        true,
        ['encrypt'],
      );
      const notForUs = await node.encrypt(params, otherKey, data);
      await rejectsWith(token.decrypt(params, keys.privateKey, notForUs), 'OperationError');
    };
    await roundTrip({ name: 'RSA-OAEP' });
    await t.test('with a label', async (st) => {
      // SoftHSM2 2.6.1 takes no OAEP label (CKR_ARGUMENTS_BAD): a refusal skips, anything else counts.
      const refused = await token
        .encrypt({ name: 'RSA-OAEP', label: Buffer.from('l') }, keys.publicKey, data)
        .then(
          () => false,
          (e: Error & { cause?: unknown }) =>
            e.name === 'OperationError' &&
            e.cause instanceof Pkcs11Error &&
            (PARAMETER_REFUSED as readonly number[]).includes(e.cause.rv),
        );
      if (refused) return st.skip('the token refuses OAEP labels');
      await roundTrip({ name: 'RSA-OAEP', label: Buffer.from('context label') });
    });
  });

  for (const [namedCurve, curve, bits] of [
    ['P-256', 'secp256r1', 256],
    ['P-384', 'secp384r1', 384],
  ] as const) {
    test(`ECDH ${namedCurve}: deriveBits in the token equals node's, with either side's public key`, async (t) => {
      if (lacks(t, fx, Mechanism.ECDH1_DERIVE)) return;
      const pair = await tokenKeyPair(
        t,
        fx,
        KEY_KINDS.find((k) => k.spec === curve)!,
      );
      if (!pair) return;
      const keys = await toCryptoKeyPair(pair, 'ECDH');
      assert.deepEqual(keys.privateKey.usages, ['deriveBits']);
      const ecdh = { name: 'ECDH', namedCurve };
      const nodePair = (await node.generateKey(ecdh, true, ['deriveBits'])) as webcrypto.CryptoKeyPair;
      const tokenSide = await token.deriveBits(
        { name: 'ECDH', public: nodePair.publicKey },
        keys.privateKey,
        bits,
      );
      const tokenPublicForNode = await node.importKey(
        'raw',
        await token.exportKey('raw', keys.publicKey),
        ecdh,
        true,
        [],
      );
      const nodeSide = await node.deriveBits(
        { name: 'ECDH', public: tokenPublicForNode },
        nodePair.privateKey,
        bits,
      );
      assert.deepEqual(Buffer.from(tokenSide), Buffer.from(nodeSide));
      const routed = await token.deriveBits(
        { name: 'ECDH', public: keys.publicKey } as never,
        nodePair.privateKey,
        bits,
      );
      assert.deepEqual(Buffer.from(routed), Buffer.from(nodeSide));
      const short = await token.deriveBits(
        { name: 'ECDH', public: nodePair.publicKey },
        keys.privateKey,
        128,
      );
      assert.deepEqual(Buffer.from(short), Buffer.from(nodeSide).subarray(0, 16));
      const full = await token.deriveBits(
        { name: 'ECDH', public: nodePair.publicKey },
        keys.privateKey,
        null,
      );
      assert.deepEqual(Buffer.from(full), Buffer.from(nodeSide));
      const other = (await node.generateKey(
        { name: 'ECDH', namedCurve: namedCurve === 'P-256' ? 'P-384' : 'P-256' },
        true,
        ['deriveBits'],
      )) as webcrypto.CryptoKeyPair;
      await rejectsWith(
        token.deriveBits({ name: 'ECDH', public: other.publicKey }, keys.privateKey, 128),
        'InvalidAccessError',
      );
    });
  }

  for (const mode of ['AES-GCM', 'AES-CBC'] as const) {
    test(`${mode}: the token and node decrypt each other's ciphertext`, async (t) => {
      if (lacks(t, fx, mode === 'AES-GCM' ? Mechanism.AES_GCM : Mechanism.AES_CBC_PAD)) return;
      if (await cannotImport(t, fx.session, 'AES')) return;
      const { nodeKey, secret } = await sharedSecret(fx, { name: mode, length: 256 }, KeyType.AES, [
        'encrypt',
        'decrypt',
      ]);
      const key = await toCryptoKey(secret, mode);
      assert.deepEqual(key.algorithm, { name: mode, length: 256 });
      const variants =
        mode === 'AES-GCM'
          ? [
              { name: mode, iv: crypto.randomBytes(12) },
              { name: mode, iv: crypto.randomBytes(12), additionalData: Buffer.from('aad'), tagLength: 96 },
            ]
          : [{ name: mode, iv: crypto.randomBytes(16) }];
      for (const params of variants) {
        const fromToken = await token.encrypt(params, key, data);
        assert.deepEqual(Buffer.from(await node.decrypt(params, nodeKey, fromToken)), data);
        const fromNode = await node.encrypt(params, nodeKey, data);
        assert.deepEqual(Buffer.from(fromNode), Buffer.from(fromToken));
        assert.deepEqual(Buffer.from(await token.decrypt(params, key, fromNode)), data);
      }
      if (mode === 'AES-GCM') {
        const params = { name: mode, iv: crypto.randomBytes(12) };
        const sealed = Buffer.from(await token.encrypt(params, key, data));
        sealed[0]! ^= 1;
        await rejectsWith(token.decrypt(params, key, sealed), 'OperationError');
      }
    });
  }

  test('HMAC: the token MACs as node does and verifies node MACs', async (t) => {
    if (lacks(t, fx, Mechanism.SHA384_HMAC)) return;
    if (await cannotImport(t, fx.session, 'GENERIC_SECRET')) return;
    const algorithm = { name: 'HMAC', hash: 'SHA-384' };
    const { nodeKey, secret } = await sharedSecret(
      fx,
      { ...algorithm, length: 384 },
      KeyType.GENERIC_SECRET,
      ['sign', 'verify'],
    );
    const key = await toCryptoKey(secret, algorithm);
    assert.deepEqual(key.algorithm, { name: 'HMAC', hash: { name: 'SHA-384' }, length: 384 });
    const mac = await token.sign('HMAC', key, data);
    assert.deepEqual(Buffer.from(mac), Buffer.from(await node.sign('HMAC', nodeKey, data)));
    assert.equal(await token.verify('HMAC', key, mac, data), true);
    assert.equal(await token.verify('HMAC', key, mac, tampered), false);
  });

  test('exportKey: spki, jwk and raw of token public keys load in node; private keys stay in', async (t) => {
    const ecKind = KEY_KINDS.find((k) => k.spec === 'secp256r1')!;
    const pair = await tokenKeyPair(t, fx, ecKind);
    if (!pair) return;
    const keys = await toCryptoKeyPair(pair);
    assert.deepEqual(keys.publicKey.algorithm, { name: 'ECDSA', namedCurve: 'P-256' });
    const spki = Buffer.from(await token.exportKey('spki', keys.publicKey));
    const jwk = await token.exportKey('jwk', keys.publicKey);
    assert.equal(jwk.kty, 'EC');
    assert.equal(jwk.crv, 'P-256');
    assert.deepEqual(jwk.key_ops, ['verify']);
    const fromJwk = await node.importKey('jwk', jwk, { name: 'ECDSA', namedCurve: 'P-256' }, true, [
      'verify',
    ]);
    assert.deepEqual(Buffer.from(await node.exportKey('spki', fromJwk)), spki);
    const raw = Buffer.from(await token.exportKey('raw', keys.publicKey));
    assert.equal(raw.length, 65);
    assert.equal(raw[0], 4);
    const fromRaw = await node.importKey('raw', raw, { name: 'ECDSA', namedCurve: 'P-256' }, true, [
      'verify',
    ]);
    assert.deepEqual(Buffer.from(await node.exportKey('spki', fromRaw)), spki);
    await rejectsWith(token.exportKey('pkcs8', keys.privateKey), 'InvalidAccessError');
    await rejectsWith(token.exportKey('jwk', keys.privateKey), 'InvalidAccessError');

    const rsa = await tokenKeyPair(t, fx, KEY_KINDS[0]!);
    if (!rsa) return;
    const rsaKeys = await toCryptoKeyPair(rsa, { name: 'RSA-PSS', hash: 'SHA-512' });
    const algorithm = rsaKeys.publicKey.algorithm as webcrypto.RsaHashedKeyAlgorithm;
    assert.equal(algorithm.modulusLength, 2048);
    assert.deepEqual(Buffer.from(algorithm.publicExponent), Buffer.of(1, 0, 1));
    assert.deepEqual(algorithm.hash, { name: 'SHA-512' });
    await rejectsWith(token.exportKey('raw', rsaKeys.publicKey), 'NotSupportedError');
    const rsaJwk = await token.exportKey('jwk', rsaKeys.publicKey);
    await node.importKey('jwk', rsaJwk, { name: 'RSA-PSS', hash: 'SHA-512' }, true, ['verify']);
  });

  test('curve names: K-256 for secp256k1 and the canonical name beyond WebCrypto’s curves', async (t) => {
    for (const [curve, namedCurve] of [
      ['secp256k1', 'K-256'],
      ['brainpoolP256r1', 'brainpoolP256r1'],
    ] as const) {
      await t.test(curve, async (st) => {
        const pair = await tokenKeyPair(
          st,
          fx,
          KEY_KINDS.find((k) => k.spec === curve)!,
        );
        if (!pair) return;
        const keys = await toCryptoKeyPair(pair, { name: 'ECDSA', namedCurve });
        assert.equal((keys.privateKey.algorithm as webcrypto.EcKeyAlgorithm).namedCurve, namedCurve);
        const signature = await token.sign({ name: 'ECDSA', hash: 'SHA-256' }, keys.privateKey, data);
        const key = crypto.createPublicKey({
          key: Buffer.from(await token.exportKey('spki', keys.publicKey)),
          format: 'der',
          type: 'spki',
        });
        assert.equal(
          crypto.verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(signature)),
          true,
        );
        await assert.rejects(toCryptoKey(pair.publicKey, { name: 'ECDSA', namedCurve: 'P-256' }), TypeError);
      });
    }
  });

  test('usages and algorithms are enforced as WebCrypto does', async (t) => {
    const pair = await tokenKeyPair(
      t,
      fx,
      KEY_KINDS.find((k) => k.spec === 'secp256r1')!,
    );
    if (!pair) return;
    const verifyOnly = await toCryptoKey(pair.publicKey, 'ECDSA', ['verify']);
    const ecdh = await toCryptoKey(pair.privateKey, 'ECDH');
    await rejectsWith(token.sign({ name: 'ECDSA', hash: 'SHA-256' }, ecdh, data), 'InvalidAccessError');
    await rejectsWith(token.sign({ name: 'ECDSA', hash: 'SHA-256' }, verifyOnly, data), 'InvalidAccessError');
    await assert.rejects(toCryptoKey(pair.privateKey, 'ECDSA', ['encrypt']), RangeError);
    await assert.rejects(toCryptoKey(pair.privateKey, 'RSA-PSS'), TypeError);
    await assert.rejects(toCryptoKey(pair.privateKey, 'AES-KW'), RangeError);
    await assert.rejects(toCryptoKey({} as never), TypeError);
    const signer = await toCryptoKey(pair.privateKey, 'ECDSA');
    await assert.rejects(token.sign({ name: 'ECDSA', hash: 'SHA-3' }, signer, data), RangeError);
    await assert.rejects(token.sign({ name: 'ECDSA', hash: 'SHA-256' }, signer, 'text' as never), TypeError);
    await rejectsWith(
      token.deriveKey({ name: 'ECDH', public: verifyOnly }, signer, 'AES-GCM', false, ['encrypt']),
      'NotSupportedError',
    );
  });

  test('node keys pass through tokenCrypto.subtle unchanged', async () => {
    const pair = (await token.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
      'sign',
      'verify',
    ])) as webcrypto.CryptoKeyPair;
    assert.ok(!(pair.privateKey instanceof TokenCryptoKey));
    const signature = await token.sign({ name: 'ECDSA', hash: 'SHA-256' }, pair.privateKey, data);
    assert.equal(
      await node.verify({ name: 'ECDSA', hash: 'SHA-256' }, pair.publicKey, signature, data),
      true,
    );
    assert.deepEqual(
      Buffer.from(await token.digest('SHA-256', data)),
      crypto.createHash('sha256').update(data).digest(),
    );
    assert.equal(tokenCrypto.getRandomValues(new Uint8Array(8)).length, 8);
  });
});
