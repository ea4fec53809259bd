// ECDSA on P-256, P-384, P-521, secp256k1 and brainpoolP256r1, and EdDSA (Ed25519, Ed448 with its
// flag and context), both ways against node:crypto: token signatures DER-encoded and verified by
// node, node signatures decoded to r||s (padded to the curve size, short r or s included) and
// verified by the token.
import { after, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { KeyType, Mechanism } from '../../src/sys/constants.js';
import type { KeyPair } from '../../src/model/index.js';
import { curveInfo, decodeEcdsaSignature, encodeEcdsaSignature } from '../../src/util/index.js';
import { cannotImport } from '../support/key-capabilities.js';
import { signingPair } from '../support/key-kinds.js';
import { importPublicKey, nodePublicKey } from '../support/keys.js';
import { CURVE_REFUSED, lacks, openFixture, unlessRefused } from '../support/token.js';

const data = Buffer.from('elliptic curves, checked by node:crypto');
/** Curve name as PKCS#11 users write it, and as node:crypto does. */
const CURVES = [
  ['secp256r1', 'prime256v1'],
  ['secp384r1', 'secp384r1'],
  ['secp521r1', 'secp521r1'],
  ['secp256k1', 'secp256k1'],
  ['brainpoolP256r1', 'brainpoolP256r1'],
] as const;
const HASHED = [
  [Mechanism.ECDSA_SHA1, 'sha1'],
  [Mechanism.ECDSA_SHA256, 'sha256'],
  [Mechanism.ECDSA_SHA384, 'sha384'],
  [Mechanism.ECDSA_SHA512, 'sha512'],
] as const;

/** The lengths of r and s (without a sign byte) in a DER ECDSA-Sig-Value. */
function integerLengths(der: Uint8Array): [number, number] {
  // SEQUENCE (short or long form length) { INTEGER r, INTEGER s }, each INTEGER shorter than 128 bytes.
  let at = 2 + ((der[1] as number) & 0x80 ? (der[1] as number) & 0x7f : 0);
  const lengths: number[] = [];
  for (let i = 0; i < 2; i++) {
    const length = der[at + 1] as number;
    const signByte = der[at + 2] === 0 ? 1 : 0;
    lengths.push(length - signByte);
    at += 2 + length;
  }
  return lengths as [number, number];
}

/** The test token and a logged-in read-write session, for every test of this file. */
const fx = await openFixture();
after(() => fx.close());

describe('ECDSA', () => {
  for (const [curve, nodeCurve] of CURVES) {
    test(`${curve}: raw ECDSA and ECDSA with SHA-1 to SHA-512, both ways`, async (t) => {
      if (lacks(t, fx, Mechanism.EC_KEY_PAIR_GEN, Mechanism.ECDSA)) return;
      const pair = await signingPair(t, fx.session, KeyType.EC, curve);
      if (pair === undefined) return;
      const nodePub = await nodePublicKey(pair.publicKey);
      assert.equal(nodePub.asymmetricKeyDetails?.namedCurve, nodeCurve);

      // Raw ECDSA signs a digest the caller made.
      const digest = crypto.createHash('sha256').update(data).digest();
      const raw = await pair.privateKey.sign(digest, { mechanism: Mechanism.ECDSA });
      assert.equal(raw.byteLength, 2 * curveInfo(curve).orderSize, 'raw r || s');
      assert.equal(crypto.verify('sha256', data, nodePub, encodeEcdsaSignature(raw)), true);
      assert.equal(
        crypto.verify('sha256', Buffer.from('other data'), nodePub, encodeEcdsaSignature(raw)),
        false,
      );
      assert.equal(await pair.publicKey.verify(digest, raw, { mechanism: Mechanism.ECDSA }), true);
      const flipped = Buffer.from(raw);
      flipped[10] = (flipped[10] as number) ^ 1;
      assert.equal(await pair.publicKey.verify(digest, flipped, { mechanism: Mechanism.ECDSA }), false);

      // Hashing mechanisms: on the token, or hashed on the host where it has only raw ECDSA.
      const other = crypto.generateKeyPairSync('ec', { namedCurve: nodeCurve });
      for (const [mechanism, hash] of HASHED) {
        const sig = await pair.privateKey.sign(data, { mechanism });
        assert.equal(crypto.verify(hash, data, nodePub, encodeEcdsaSignature(sig)), true, hash);
        assert.equal(crypto.verify(hash, data, { key: nodePub, dsaEncoding: 'ieee-p1363' }, sig), true);
        assert.equal(await pair.publicKey.verify(data, sig, { mechanism }), true);
        assert.equal(await pair.publicKey.verify(Buffer.from('tampered'), sig, { mechanism }), false);
        // A node signature with another key must not verify under this one.
        const foreign = decodeEcdsaSignature(crypto.sign(hash, data, other.privateKey), curve);
        assert.equal(await pair.publicKey.verify(data, foreign, { mechanism }), false);
      }
    });
  }

  test('node’s signatures, decoded to r||s at the curve size, verify in the token, short r or s included', async (t) => {
    if (lacks(t, fx, Mechanism.ECDSA) || (await cannotImport(t, fx.session, 'EC public'))) return;
    const cases = [
      { curve: 'secp256r1', nodeCurve: 'prime256v1', hash: 'sha256', mechanism: Mechanism.ECDSA },
      { curve: 'secp521r1', nodeCurve: 'secp521r1', hash: 'sha512', mechanism: Mechanism.ECDSA_SHA512 },
    ];
    for (const { curve, nodeCurve, hash, mechanism } of cases) {
      const size = curveInfo(curve).orderSize;
      const nodePair = crypto.generateKeyPairSync('ec', { namedCurve: nodeCurve });
      const tokenPub = await importPublicKey(fx.session, nodePair.publicKey);
      // The first signatures, and then the first one whose r or s is shorter than the curve size in
      // DER (about 1 in 128 on P-256, 1 in 2 on P-521): decoded, each must be padded to the curve.
      let short = false;
      for (let i = 0; i < 20_000 && !(short && i >= 8); i++) {
        const message = Buffer.from(`message ${i}`);
        const der = crypto.sign(hash, message, nodePair.privateKey);
        const [rLength, sLength] = integerLengths(der);
        const isShort = rLength < size || sLength < size;
        if (i >= 8 && !isShort) continue;
        const raw = decodeEcdsaSignature(der, curve);
        assert.equal(raw.byteLength, 2 * size, 'r and s padded to the curve size, not to the longer one');
        const signed =
          mechanism === Mechanism.ECDSA ? crypto.createHash(hash).update(message).digest() : message;
        assert.equal(await tokenPub.verify(signed, raw, { mechanism }), true, `${curve} signature ${i}`);
        short ||= isShort;
      }
      assert.ok(short, `a ${curve} signature with a short r or s was checked`);
    }
  });
});

describe('EdDSA', () => {
  async function edPair(t: TestContext, curve: string): Promise<KeyPair | undefined> {
    if (lacks(t, fx, Mechanism.EC_EDWARDS_KEY_PAIR_GEN, Mechanism.EDDSA)) return undefined;
    return unlessRefused(t, CURVE_REFUSED, `the token does not do ${curve}`, () =>
      fx.session.generateKeypair(KeyType.EC_EDWARDS, curve),
    );
  }

  test('Ed25519 both ways (pure EdDSA, no parameter)', async (t) => {
    const pair = await edPair(t, 'Ed25519');
    if (!pair) return;
    const nodePub = await nodePublicKey(pair.publicKey);
    assert.equal(nodePub.asymmetricKeyType, 'ed25519');
    const sig = await pair.privateKey.sign(data);
    assert.equal(sig.byteLength, 64);
    assert.equal(crypto.verify(null, data, nodePub, sig), true);
    if (await cannotImport(t, fx.session, 'Ed25519 public')) return;
    const nodePair = crypto.generateKeyPairSync('ed25519');
    const tokenPub = await importPublicKey(fx.session, nodePair.publicKey);
    const nodeSig = crypto.sign(null, data, nodePair.privateKey);
    assert.equal(await tokenPub.verify(data, nodeSig), true);
    assert.equal(await tokenPub.verify(Buffer.from('tampered'), nodeSig), false);
  });

  test('Ed448: pure (phFlag false) matches node; with a context and prehashed it round-trips in the token', async (t) => {
    const pair = await edPair(t, 'Ed448');
    if (!pair) return;
    const nodePub = await nodePublicKey(pair.publicKey);
    const pure = await pair.privateKey.sign(data, { mechanismParam: { phFlag: false } });
    assert.equal(pure.byteLength, 114);
    assert.equal(crypto.verify(null, data, nodePub, pure), true);
    assert.equal(crypto.verify(null, data, nodePub, await pair.privateKey.sign(data)), true);
    // node:crypto has no Ed448 contexts or Ed448ph, so these are checked by the token alone.
    for (const mechanismParam of [
      { phFlag: false, contextData: Buffer.from('context') },
      { phFlag: true, contextData: null },
      [true, Buffer.from('tuple form')],
    ]) {
      const sig = await pair.privateKey.sign(data, { mechanismParam });
      assert.equal(await pair.publicKey.verify(data, sig, { mechanismParam }), true);
      assert.equal(await pair.publicKey.verify(Buffer.from('tampered'), sig, { mechanismParam }), false);
    }
  });
});
