// The foundation against a real token: session info and the module's own count of open sessions;
// login and logout shared by the sessions of the application; the attributes of generated EC and
// RSA key pairs. Tests needing a mechanism skip when the token's mechanism list lacks it. (Library,
// slot and token info are in library.test.ts; the session lifecycle and failed logins in
// session.test.ts; signatures checked by node:crypto in mechanisms-ec/rsa.test.ts.)
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { allocBuffer } from '../../src/sys/abi.js';
import { CK_SESSION_INFO } from '../../src/core/info.js';
import {
  Attribute,
  KeyType,
  Mechanism,
  ObjectClass,
  SessionFlag,
  SessionState,
  tokenQuirks,
  type PrivateKey,
  type PublicKey,
  type Session,
} from '../../src/index.js';
import { missing, openTestToken } from '../support/token.js';

// Loaded before the suites are declared, so tests can be skipped by the mechanism list.
const { env, lib, token, mechanisms, close } = await openTestToken();
after(close);

/**
 * How many sessions the module has open: the token's own count when it reports one; otherwise,
 * for modules with small sequential handles (SoftHSM reports no count), the handles near the
 * ones seen so far that C_GetSessionInfo accepts. Modules with pointer-like handles are not probed.
 */
async function openSessions(highestSeen: bigint): Promise<number | undefined> {
  const info = await token.getInfo();
  if (info.sessionCount !== undefined) return info.sessionCount;
  if (highestSeen > 0xffffn) return undefined;
  const functions = lib.context.module.functions;
  const buf = allocBuffer(CK_SESSION_INFO.size);
  let count = 0;
  for (let h = 1n; h <= highestSeen + 64n; h++) if (functions.call('C_GetSessionInfo', h, buf) === 0) count++;
  return count;
}

/** A probe session's handle: an upper bound for the handles the module hands out right now. */
async function probeHandle(): Promise<bigint> {
  const probe = await token.open();
  await probe.close();
  return probe.handle;
}

describe('sessions', () => {
  test('a read-only session: info, close, close again', async () => {
    const session = await token.open();
    assert.equal(typeof session.handle, 'bigint');
    assert.equal(session.rw, false);
    const info = await session.getInfo();
    assert.equal(info.state, SessionState.RO_PUBLIC_SESSION);
    assert.ok(info.flags & SessionFlag.SERIAL_SESSION);
    assert.equal(info.flags & SessionFlag.RW_SESSION, 0);
    assert.equal(info.slotId, token.slot.id);
    await session.close();
    assert.equal(session.closed, true);
    await session.close(); // idempotent
  });

  test('a read-write session', async () => {
    const session = await token.open({ rw: true });
    try {
      assert.equal(session.rw, true);
      assert.equal((await session.getInfo()).state, SessionState.RW_PUBLIC_SESSION);
    } finally {
      await session.close();
    }
  });

  test('the module sees sessions open and close', async (t) => {
    const highest = (await probeHandle()) + 8n;
    const before = await openSessions(highest);
    if (before === undefined)
      return t.skip('the module reports no session count and its handles are not small');
    const sessions = await Promise.all([token.open(), token.open(), token.open({ rw: true })]);
    assert.equal(await openSessions(highest), before + 3);
    await Promise.all(sessions.map((s) => s.close()));
    assert.equal(await openSessions(highest), before);
  });
});

describe('login and logout', () => {
  test('a PIN of the wrong type is a TypeError and leaves no session open', async () => {
    const highest = (await probeHandle()) + 8n;
    const before = await openSessions(highest);
    await assert.rejects(token.open({ userPin: 1234 as never }), { name: 'TypeError', message: /pin/ });
    assert.equal(await openSessions(highest), before);
  });

  test('login, logout, login again; login is shared by the sessions of the application', async () => {
    const a = await token.open({ rw: true });
    const b = await token.open();
    try {
      assert.equal((await a.getInfo()).state, SessionState.RW_PUBLIC_SESSION);
      await a.login(env.pin);
      assert.equal((await a.getInfo()).state, SessionState.RW_USER_FUNCTIONS);
      assert.equal((await b.getInfo()).state, SessionState.RO_USER_FUNCTIONS);
      await b.login(env.pin); // already logged in: not an error
      await b.logout();
      assert.equal((await a.getInfo()).state, SessionState.RW_PUBLIC_SESSION);
      await a.login(Buffer.from(env.pin, 'utf8'));
      assert.equal((await a.getInfo()).state, SessionState.RW_USER_FUNCTIONS);
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe('generated key pairs', () => {
  let session: Session;
  before(async () => {
    session = await token.open({ userPin: env.pin, rw: true });
  });
  after(() => session.close());

  describe('EC P-256', () => {
    let publicKey: PublicKey;
    let privateKey: PrivateKey;
    before(async () => {
      if (!mechanisms.has(Mechanism.EC_KEY_PAIR_GEN)) return;
      ({ publicKey, privateKey } = await session.generateKeypair(KeyType.EC, 'secp256r1', {
        label: 'fnd-ec',
      }));
    });

    test(
      'generated pair: classes, type, size, protected private half',
      { skip: missing(mechanisms, Mechanism.EC_KEY_PAIR_GEN) },
      async () => {
        assert.equal(publicKey.objectClass, ObjectClass.PUBLIC_KEY);
        assert.equal(privateKey.objectClass, ObjectClass.PRIVATE_KEY);
        assert.equal(publicKey.keyType, KeyType.EC);
        assert.equal(privateKey.keyLength, 256);
        assert.equal(privateKey.label, 'fnd-ec');
        assert.equal(typeof privateKey.handle, 'bigint');
        const attrs = await privateKey.getAttributes([
          Attribute.SENSITIVE,
          Attribute.EXTRACTABLE,
          Attribute.TOKEN,
          Attribute.SIGN,
          Attribute.VALUE,
          Attribute.EC_PARAMS,
        ]);
        assert.equal(attrs[Attribute.SENSITIVE], true);
        assert.equal(attrs[Attribute.EXTRACTABLE], false);
        // A session object, unless the token keeps none and the library had to store it.
        assert.equal(attrs[Attribute.TOKEN], tokenQuirks(session.token).tokenObjectsOnly);
        assert.equal(attrs[Attribute.SIGN], true);
        assert.equal(attrs[Attribute.VALUE], undefined, 'the private value stays in the token');
        assert.deepEqual(attrs[Attribute.EC_PARAMS], Buffer.from('06082a8648ce3d030107', 'hex'));
        // CKA_EC_POINT: an uncompressed point, raw or wrapped in a DER OCTET STRING.
        const point = (await publicKey.get(Attribute.EC_POINT)) as Uint8Array;
        const raw = point.length === 65 ? point : point.subarray(2);
        assert.equal(raw.length, 65, 'an uncompressed P-256 point');
        assert.equal(raw[0], 4);
      },
    );
  });

  describe('RSA 2048', () => {
    let publicKey: PublicKey;
    let privateKey: PrivateKey;
    before(async () => {
      if (!mechanisms.has(Mechanism.RSA_PKCS_KEY_PAIR_GEN)) return;
      ({ publicKey, privateKey } = await session.generateKeypair(KeyType.RSA, 2048, { label: 'fnd-rsa' }));
    });

    test(
      'generated pair: size, modulus, public exponent',
      { skip: missing(mechanisms, Mechanism.RSA_PKCS_KEY_PAIR_GEN) },
      async () => {
        assert.equal(publicKey.keyType, KeyType.RSA);
        assert.equal(publicKey.keyLength, 2048);
        assert.equal(privateKey.keyLength, 2048);
        const attrs = await publicKey.getAttributes([
          Attribute.MODULUS,
          Attribute.PUBLIC_EXPONENT,
          Attribute.MODULUS_BITS,
        ]);
        assert.equal((attrs[Attribute.MODULUS] as Uint8Array).length, 256);
        assert.deepEqual([...(attrs[Attribute.PUBLIC_EXPONENT] as Uint8Array)], [1, 0, 1]);
        // CKA_MODULUS_BITS is set at generation, but not every token keeps it on the public key
        // (NSS softokn does not); the modulus above has the size.
        if (attrs[Attribute.MODULUS_BITS] !== undefined) assert.equal(attrs[Attribute.MODULUS_BITS], 2048);
        const priv = await privateKey.getAttributes([Attribute.PRIVATE_EXPONENT, Attribute.MODULUS]);
        assert.equal(priv[Attribute.PRIVATE_EXPONENT], undefined);
        assert.deepEqual(priv[Attribute.MODULUS], attrs[Attribute.MODULUS]);
      },
    );
  });
});
