// Device quirks and the mechanism cache, shown through the fault-injecting module in front of the
// test token: a refused session object is made again as a token object (and remembered), a refused
// ECDH peer point is sent again in the other encoding (and remembered), a failure that is not the
// quirk's is not retried, and the fallback decision keeps working from the cached mechanism list
// when the token stops answering C_GetMechanismList.
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { Attribute, KDF, KeyType, Mechanism } from '../../src/sys/constants.js';
import type { Session } from '../../src/model/index.js';
import { tokenQuirks } from '../../src/model/quirks.js';
import { rejectsWithPkcs11 } from '../support/assertions.js';
import { testEnv } from '../support/env.js';
import { cannotGenerate } from '../support/key-capabilities.js';
import { loadFaulty, prepareFaulty, type FaultyToken } from '../support/faulty.js';
import { nodeEcdhPeer, READABLE, valueOf } from '../support/keys.js';
import { lacks } from '../support/token.js';

const env = testEnv();
const faulty = prepareFaulty();
const skip = typeof faulty === 'string' ? faulty : false;

/** A fresh library through the fault module (so nothing is remembered yet) and a session on the token. */
async function withFaulty(
  t: TestContext,
  use: (f: FaultyToken, session: Session) => Promise<void>,
  needs: readonly number[] = [Mechanism.AES_KEY_GEN],
): Promise<void> {
  if (typeof faulty === 'string') return;
  const f = await loadFaulty(faulty, env);
  const session = await f.token.open({ userPin: env.pin, rw: true });
  try {
    if (lacks(t, { mechanisms: new Set(await f.token.slot.getMechanisms()) }, ...needs)) return;
    await use(f, session);
  } finally {
    f.control.clear();
    await session.close();
    await f.lib.finalize();
  }
}

describe('tokens without session objects', { skip }, () => {
  test('a session key refused with CKR_TEMPLATE_INCONSISTENT is made as a token object, and later ones straight away', (t) =>
    withFaulty(t, async (f, session) => {
      if (await cannotGenerate(t, session, KeyType.AES, 128)) return;
      f.control.set('fail C_GenerateKey 0xd1 at=1');
      let mark = f.log.mark();
      const first = await session.generateKey(KeyType.AES, 128);
      assert.equal(f.log.since(mark, 'C_GenerateKey').length, 2, 'one refusal, one retry');
      assert.equal(await first.get(Attribute.TOKEN), true);
      assert.equal(tokenQuirks(session.token).tokenObjectsOnly, true);
      f.control.clear();
      mark = f.log.mark();
      const second = await session.generateKey(KeyType.AES, 128);
      assert.equal(f.log.since(mark, 'C_GenerateKey').length, 1, 'no refused call once it is known');
      assert.equal(await second.get(Attribute.TOKEN), true);
      await first.destroy();
      await second.destroy();
    }));

  test('a key pair refused with CKR_ATTRIBUTE_VALUE_INVALID: both halves are made as token objects', (t) =>
    withFaulty(t, async (f, session) => {
      f.control.set('fail C_GenerateKeyPair 0x13 at=1');
      const pair = await session.generateKeypair(KeyType.EC, 'secp256r1');
      assert.equal(await pair.publicKey.get(Attribute.TOKEN), true);
      assert.equal(await pair.privateKey.get(Attribute.TOKEN), true);
      await pair.publicKey.destroy();
      await pair.privateKey.destroy();
    }));

  test('when the retry fails too, the first error is thrown and nothing is learnt', (t) =>
    withFaulty(t, async (f, session) => {
      if (await cannotGenerate(t, session, KeyType.AES, 128)) return;
      f.control.set('fail C_GenerateKey 0xd1 at=1', 'fail C_GenerateKey 0x30 at=2');
      await rejectsWithPkcs11(
        session.generateKey(KeyType.AES, 128),
        'C_GenerateKey',
        'CKR_TEMPLATE_INCONSISTENT',
      );
      assert.equal(tokenQuirks(session.token).tokenObjectsOnly, false);
    }));

  test('other failures are not retried, and stored keys are never touched', (t) =>
    withFaulty(t, async (f, session) => {
      if (await cannotGenerate(t, session, KeyType.AES, 128)) return;
      f.control.set('fail C_GenerateKey 0x30 at=1');
      const mark = f.log.mark();
      await rejectsWithPkcs11(session.generateKey(KeyType.AES, 128), 'C_GenerateKey', 'CKR_DEVICE_ERROR');
      assert.equal(f.log.since(mark, 'C_GenerateKey').length, 1);
      f.control.set('fail C_GenerateKey 0xd1 at=1');
      await rejectsWithPkcs11(
        session.generateKey(KeyType.AES, 128, { store: true }),
        'C_GenerateKey',
        'CKR_TEMPLATE_INCONSISTENT',
      );
      const key = await session.generateKey(KeyType.AES, 128);
      assert.equal(await key.get(Attribute.TOKEN), false);
    }));
});

describe('the ECDH peer point', { skip }, () => {
  /** {@link withFaulty} on a token that makes EC keys and derives with ECDH (p11-kit remoting does not). */
  const withEcdh = (t: TestContext, use: (f: FaultyToken, session: Session) => Promise<void>) =>
    withFaulty(t, use, [Mechanism.EC_KEY_PAIR_GEN, Mechanism.ECDH1_DERIVE]);

  /** A token EC key, a node peer, a derivation with the peer's raw point and node's shared secret. */
  async function ecdhSetup(session: Session) {
    const pair = await session.generateKeypair(KeyType.EC, 'secp256r1');
    const peer = nodeEcdhPeer('prime256v1');
    const derive = () =>
      pair.privateKey.deriveKey(KeyType.GENERIC_SECRET, 256, {
        mechanismParam: [KDF.NULL, null, peer.point],
        template: READABLE,
      });
    return { derive, secret: await peer.secretWith(pair.publicKey) };
  }

  test('refused with CKR_MECHANISM_PARAM_INVALID, the point is sent again DER-wrapped, and that is remembered', (t) =>
    withEcdh(t, async (f, session) => {
      const { derive, secret } = await ecdhSetup(session);
      f.control.set('fail C_DeriveKey 0x71 at=1');
      const mark = f.log.mark();
      const key = await derive();
      assert.equal(f.log.since(mark, 'C_DeriveKey').length, 2);
      assert.deepEqual(await valueOf(key), secret);
      assert.equal(tokenQuirks(session.token).ecdhPoint, 'der');
      f.control.set('fail C_DeriveKey 0x7 at=1');
      assert.deepEqual(await valueOf(await derive()), secret, 'CKR_ARGUMENTS_BAD: back to the raw form');
      assert.equal(tokenQuirks(session.token).ecdhPoint, 'raw');
    }));

  test('a refusal of both forms gives the first error; another failure is not retried', (t) =>
    withEcdh(t, async (f, session) => {
      const { derive } = await ecdhSetup(session);
      f.control.set('fail C_DeriveKey 0x71');
      let mark = f.log.mark();
      await rejectsWithPkcs11(derive(), 'C_DeriveKey', 'CKR_MECHANISM_PARAM_INVALID');
      assert.equal(f.log.since(mark, 'C_DeriveKey').length, 2);
      assert.equal(tokenQuirks(session.token).ecdhPoint, undefined);
      f.control.set('fail C_DeriveKey 0x30 at=1');
      mark = f.log.mark();
      await rejectsWithPkcs11(derive(), 'C_DeriveKey', 'CKR_DEVICE_ERROR');
      assert.equal(f.log.since(mark, 'C_DeriveKey').length, 1);
    }));
});

describe('the cached mechanism list', { skip }, () => {
  test('after the first decision, the host-hash route needs no more mechanism queries', (t) =>
    withFaulty(t, async (f, session) => {
      const mechanisms = new Set(await f.token.slot.getMechanisms());
      if (!mechanisms.has(Mechanism.ECDSA) || mechanisms.has(Mechanism.ECDSA_SHA256)) {
        t.skip('needs a token with raw ECDSA but without ECDSA_SHA256');
        return;
      }
      const pair = await session.generateKeypair(KeyType.EC, 'secp256r1');
      const data = Buffer.from('cached');
      await pair.privateKey.sign(data, { mechanism: Mechanism.ECDSA_SHA256 });
      // The token now refuses to list its mechanisms: the decision must come from the cache.
      f.control.set('fail C_GetMechanismList 0x30', 'fail C_GetMechanismInfo 0x30');
      const mark = f.log.mark();
      const sig = await pair.privateKey.sign(data, { mechanism: Mechanism.ECDSA_SHA256 });
      assert.equal(await pair.publicKey.verify(data, sig, { mechanism: Mechanism.ECDSA_SHA256 }), true);
      assert.deepEqual(f.log.since(mark, 'C_GetMechanismList'), []);
      assert.deepEqual(f.log.since(mark, 'C_GetMechanismInfo'), []);
      // Without a cache and without a list there is no fallback: the token is asked and says no.
      if (typeof faulty === 'string') return;
      const fresh = await loadFaulty(faulty, env);
      f.control.set('fail C_GetMechanismList 0x30', 'fail C_GetMechanismInfo 0x30');
      const other = await fresh.token.open({ userPin: env.pin });
      try {
        const freshPair = await other.generateKeypair(KeyType.EC, 'secp256r1');
        await rejectsWithPkcs11(
          freshPair.privateKey.sign(data, { mechanism: Mechanism.ECDSA_SHA256 }),
          'C_SignInit',
          'CKR_MECHANISM_INVALID',
        );
      } finally {
        await other.close();
        await fresh.lib.finalize();
      }
    }));
});
