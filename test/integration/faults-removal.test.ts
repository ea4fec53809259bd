// The token pulled out and put back, through the fault-injecting module (test/fixtures/faulty):
// the first call on a session from before the pull says CKR_DEVICE_REMOVED and later ones
// CKR_SESSION_HANDLE_INVALID, closing such a session never throws, the library reports the slot
// as empty, and once the token is back the caller carries on as it chooses: finds the token
// again, opens a session, logs in again, finds its stored keys and signs.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import {
  Attribute,
  KeyType,
  Mechanism,
  NoSuchKeyError,
  NoSuchTokenError,
  ObjectClass,
  SlotFlag,
  type PrivateKey,
  type PublicKey,
  type SecretKey,
  type Session,
  type Token,
} from '../../src/index.js';
import { rejectsWithPkcs11 } from '../support/assertions.js';
import { type FaultyToken, loadFaulty, prepareFaulty } from '../support/faulty.js';
import { testEnv } from '../support/env.js';
import { cannotGenerate } from '../support/key-capabilities.js';
import { missing } from '../support/token.js';

const env = testEnv();
const faulty = prepareFaulty();

/** The stored key pair of this run, found again after the token comes back. */
const label = `removal-${randomBytes(6).toString('hex')}`;
const DIGEST = createHash('sha256').update('pulled out and put back').digest();

async function setUp(f: FaultyToken): Promise<FaultyToken & { mechanisms: ReadonlySet<number> }> {
  const mechanisms = new Set(await f.token.slot.getMechanisms());
  if (mechanisms.has(Mechanism.EC_KEY_PAIR_GEN)) {
    await using session = await f.token.open({ userPin: env.pin, rw: true });
    await session.generateKeypair(KeyType.EC, 'secp256r1', { store: true, label });
  }
  return { ...f, mechanisms };
}

const fixture = typeof faulty === 'string' ? undefined : await setUp(await loadFaulty(faulty, env));
const skip = fixture
  ? missing(fixture.mechanisms, Mechanism.EC_KEY_PAIR_GEN, Mechanism.ECDSA)
  : (faulty as string);

after(async () => {
  if (!fixture) return;
  fixture.control.clear();
  const token = await fixture.lib.getToken({ tokenLabel: env.tokenLabel });
  await using session = await token.open({ userPin: env.pin, rw: true });
  for (const handle of await session.findHandles({ [Attribute.LABEL]: label })) {
    await session.exclusive('C_DestroyObject', async ({ handle: h, invoke }) =>
      invoke('C_DestroyObject', h, handle),
    );
  }
  await fixture.lib.finalize();
});

/** The stored key pair, as seen from `session`. */
async function storedKeys(session: Session): Promise<{ privateKey: PrivateKey; publicKey: PublicKey }> {
  const privateKey = (await session.getKey({ label, objectClass: ObjectClass.PRIVATE_KEY })) as PrivateKey;
  const publicKey = (await session.getKey({ label, objectClass: ObjectClass.PUBLIC_KEY })) as PublicKey;
  return { privateKey, publicKey };
}

/** A logged-in session that has signed once (so nothing but the signature itself is left to ask the token). */
async function signingSession(token: Token): Promise<{ session: Session; key: PrivateKey }> {
  const session = await token.open({ userPin: env.pin });
  const { privateKey } = await storedKeys(session);
  await privateKey.sign(DIGEST, { mechanism: Mechanism.ECDSA });
  return { session, key: privateKey };
}

describe('the token is pulled out', { skip }, () => {
  test('its sessions answer CKR_DEVICE_REMOVED once, then CKR_SESSION_HANDLE_INVALID', async () => {
    const x = fixture!;
    const { session, key } = await signingSession(x.token);
    x.control.set('remove');
    try {
      await rejectsWithPkcs11(
        key.sign(DIGEST, { mechanism: Mechanism.ECDSA }),
        'C_SignInit',
        'CKR_DEVICE_REMOVED',
      );
      await rejectsWithPkcs11(session.getInfo(), 'C_GetSessionInfo', 'CKR_SESSION_HANDLE_INVALID');
      await rejectsWithPkcs11(key.get(Attribute.LABEL), 'C_GetAttributeValue', 'CKR_SESSION_HANDLE_INVALID');
      await session.close();
      assert.equal(session.closed, true);
    } finally {
      x.control.clear();
    }
  });

  test('closing a session of the pulled token never throws, whatever it answers first', async () => {
    const x = fixture!;
    const first = await x.token.open();
    const later = await x.token.open();
    const scoped = await x.token.open();
    const mark = x.log.mark();
    x.control.set('remove');
    try {
      await first.close(); // its first call after the pull: CKR_DEVICE_REMOVED
      await rejectsWithPkcs11(later.getInfo(), 'C_GetSessionInfo', 'CKR_DEVICE_REMOVED');
      await later.close(); // CKR_SESSION_HANDLE_INVALID by now
      await first.close(); // and again: a no-op
      {
        await using _disposed = scoped; // disposed at the end of the block
      }
      assert.equal(scoped.closed, true);
    } finally {
      x.control.clear();
    }
    const closes = x.log.since(mark, 'C_CloseSession').map((c) => c.rv);
    assert.deepEqual(closes, ['CKR_DEVICE_REMOVED', 'CKR_SESSION_HANDLE_INVALID', 'CKR_DEVICE_REMOVED']);
  });

  test('while it is out: no token in the slot, no session, a typed error for each', async () => {
    const x = fixture!;
    x.control.set('remove');
    try {
      assert.deepEqual(await x.lib.getSlots(), []);
      const slot = (await x.lib.getSlots({ tokenPresent: false })).find((s) => s.id === x.token.slot.id);
      assert.ok(slot, 'the slot itself is still listed');
      const info = await slot.getInfo();
      assert.equal(info.flags & SlotFlag.TOKEN_PRESENT, 0);
      assert.notEqual(info.flags & SlotFlag.REMOVABLE_DEVICE, 0);
      assert.deepEqual(await x.lib.getTokens({ tokenLabel: env.tokenLabel }), []);
      await assert.rejects(x.lib.getToken({ tokenLabel: env.tokenLabel }), NoSuchTokenError);
      await rejectsWithPkcs11(slot.getTokenInfo(), 'C_GetTokenInfo', 'CKR_TOKEN_NOT_PRESENT');
      await rejectsWithPkcs11(x.token.open({ userPin: env.pin }), 'C_OpenSession', 'CKR_TOKEN_NOT_PRESENT');
      await rejectsWithPkcs11(slot.getMechanisms(), 'C_GetMechanismList', 'CKR_TOKEN_NOT_PRESENT');
    } finally {
      x.control.clear();
    }
  });

  test('waitForSlotEvent reports the pull-out and the put-back', async () => {
    const x = fixture!;
    /** Takes slot events until one is for the token's slot; false when none came within 5 s. */
    async function tokenSlotEvent(): Promise<boolean> {
      const signal = AbortSignal.timeout(5000);
      for (;;) {
        const slot = await x.lib.waitForSlotEvent({ signal, pollInterval: 10 }).catch(() => undefined);
        if (!slot || slot.id === x.token.slot.id) return slot !== undefined;
      }
    }
    // Events of the tests before this one may still be waiting to be taken.
    while (
      await x.lib
        .waitForSlotEvent({ signal: AbortSignal.timeout(100), pollInterval: 10 })
        .catch(() => undefined)
    );
    x.control.set('remove');
    try {
      assert.equal(await tokenSlotEvent(), true, 'the pull-out is an event of the slot');
    } finally {
      x.control.clear();
    }
    assert.equal(await tokenSlotEvent(), true, 'the put-back is an event of the slot');
  });

  test(
    'a stream cut off by the pull-out fails typed and leaves nothing behind',
    { skip: fixture && missing(fixture.mechanisms, Mechanism.AES_CBC_PAD) },
    async (t) => {
      const x = fixture!;
      const session = await x.token.open({ userPin: env.pin, rw: true });
      if (await cannotGenerate(t, session, KeyType.AES, 128)) return session.close();
      const aes = (await session.generateKey(KeyType.AES, 128)) as SecretKey;
      const control = x.control;
      async function* source(): AsyncGenerator<Uint8Array> {
        yield Buffer.alloc(32, 1);
        control.set('remove');
        yield Buffer.alloc(32, 2);
      }
      try {
        const parts = aes.encrypt(source(), {
          mechanism: Mechanism.AES_CBC_PAD,
          mechanismParam: Buffer.alloc(16),
        });
        await rejectsWithPkcs11(
          (async () => {
            for await (const part of parts) assert.ok(part.byteLength > 0);
          })(),
          'C_EncryptUpdate',
          'CKR_DEVICE_REMOVED',
        );
        await session.close();
      } finally {
        x.control.clear();
      }
    },
  );
});

describe('the token is put back', { skip }, () => {
  test('the caller finds it again, logs in again, finds its stored keys and signs', async () => {
    const x = fixture!;
    const before = await signingSession(x.token);
    x.control.set('remove');
    await rejectsWithPkcs11(
      before.key.sign(DIGEST, { mechanism: Mechanism.ECDSA }),
      'C_SignInit',
      'CKR_DEVICE_REMOVED',
    );
    x.control.set('insert');
    try {
      // The old session is gone for good.
      await rejectsWithPkcs11(before.session.getInfo(), 'C_GetSessionInfo', 'CKR_SESSION_HANDLE_INVALID');
      await before.session.close();

      const token = await x.lib.getToken({ tokenLabel: env.tokenLabel });
      await using session = await token.open();
      // The pull-out logged the user out: private objects are out of sight until the caller logs in.
      await assert.rejects(session.getKey({ label, objectClass: ObjectClass.PRIVATE_KEY }), NoSuchKeyError);
      await session.login(env.pin);
      const { privateKey, publicKey } = await storedKeys(session);
      const signature = await privateKey.sign(DIGEST, { mechanism: Mechanism.ECDSA });
      assert.equal(await publicKey.verify(DIGEST, signature, { mechanism: Mechanism.ECDSA }), true);
      // The Token object found before the pull works too.
      await using again = await x.token.open({ userPin: env.pin });
      assert.equal((await storedKeys(again)).privateKey.handle, privateKey.handle);
    } finally {
      x.control.clear();
    }
  });

  test('pulled and put back many times, the library keeps working', async () => {
    const x = fixture!;
    for (let i = 0; i < 5; i++) {
      const { session, key } = await signingSession(x.token);
      x.control.set('remove');
      await rejectsWithPkcs11(
        key.sign(DIGEST, { mechanism: Mechanism.ECDSA }),
        'C_SignInit',
        'CKR_DEVICE_REMOVED',
      );
      await session.close();
      x.control.clear();
    }
    const { session, key } = await signingSession(x.token);
    assert.equal((await key.sign(DIGEST, { mechanism: Mechanism.ECDSA })).byteLength, 64);
    await session.close();
  });
});
