// Sessions against a real token: login state as the standard defines it (one per application and
// token), a failed login that leaves no session behind and shows no PIN, sessions that close once
// and for good (calls after the close never reach the module), calls queued on a session taking
// their turn, and PIN management.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import {
  Attribute,
  KeyType,
  Mechanism,
  ObjectClass,
  ReturnValue,
  Session,
  SessionState,
} from '../../src/index.js';
import { rejectsWithPkcs11 } from '../support/assertions.js';
import { CallLog } from '../support/call-log.js';
import { withoutSoPin } from '../support/env.js';
import { nodePublicKey } from '../support/keys.js';
import { dataTemplate, findAll } from '../support/objects.js';
import { openTestToken, sessionIsOpen } from '../support/token.js';

/** Every C call of this file's library, for the tests that must see which calls were made. */
const log = new CallLog();
const { env, lib, token, close } = await openTestToken({ trace: log.sink });
after(close);
const noSoPin = withoutSoPin(env);
/** A tag unique to this run, in the labels of what it makes: a token may keep even session objects (tpm2-pkcs11 does). */
const run = crypto.randomBytes(6).toString('hex');
const privateLabel = `private data ${run}`;
/** What finds the private object of the login test: its private key. */
const privateKeyQuery = { [Attribute.LABEL]: privateLabel, [Attribute.CLASS]: ObjectClass.PRIVATE_KEY };

/** A session data object, visible only while logged in when `privateObject` (else as the token makes it). */
function dataObject(session: Session, label: string, privateObject = false) {
  const extra = privateObject ? { [Attribute.PRIVATE]: true } : {};
  return session.createObject(dataTemplate(label, Buffer.from(`value of ${label}`), extra));
}

describe('sessions', () => {
  test('a handle this process did not open (or has closed) is refused before it reaches C', async () => {
    const mark = log.mark();
    // A huge handle: tpm2-pkcs11 1.9 crashed the process on one like it in C_GetSessionInfo.
    for (const handle of [0x19224b4e3993e84n, 0n, 12345n])
      assert.throws(() => new Session(token, handle, false), RangeError);
    const session = await token.open();
    const again = new Session(token, session.handle, false);
    assert.equal((await again.getInfo()).state, (await session.getInfo()).state, 'an open handle is taken');
    // Closing either closes the one session (the other then finds it already closed).
    await again.close();
    await session.close();
    assert.throws(() => new Session(token, session.handle, false), RangeError);
    assert.deepEqual(
      log
        .since(mark)
        .map((c) => c.fn)
        .filter((fn) => fn === 'C_GetSessionInfo').length,
      2,
      'only the open session was asked about',
    );
  });

  // First: login state is per application, so the token checks this PIN only while no session of
  // ours is logged in.
  test('a failed login closes the session it opened, and the error never shows the PIN', async () => {
    const before = (await token.getInfo()).sessionCount;
    const wrongPin = `${env.pin}-wrong`;
    const mark = log.mark();
    const error = await rejectsWithPkcs11(token.open({ userPin: wrongPin }), 'C_Login', 'CKR_PIN_INCORRECT');
    assert.equal(error.message, 'C_Login: CKR_PIN_INCORRECT (0xa0)');
    assert.ok(!error.message.includes(wrongPin) && !String(error.stack).includes(wrongPin));
    const login = log.since(mark, 'C_Login')[0];
    assert.ok(login, 'C_Login was called');
    assert.ok(!login.args.some((a) => a.includes(wrongPin)), 'the trace redacts the PIN');
    const handle = login.args[0] as string;
    const closed = log.since(mark, 'C_CloseSession').find((c) => c.args[0] === handle);
    assert.ok(closed, `C_CloseSession(${handle}) was called`);
    assert.equal(closed.rv, 'CKR_OK');
    assert.equal(await sessionIsOpen(lib, BigInt(handle)), false);
    const after = (await token.getInfo()).sessionCount;
    if (before !== undefined) assert.equal(after, before, 'the token counts as many sessions as before');
  });

  test('login is per application: closing one logged-in session leaves the others logged in', async () => {
    const first = await token.open({ userPin: env.pin, rw: true });
    try {
      // Read-write: some tokens (tpm2-pkcs11) make no object, not even a session one, in a read-only session.
      await using second = await token.open({ userPin: env.pin, rw: true });
      assert.equal((await second.getInfo()).state, SessionState.RW_USER_FUNCTIONS);
      // Objects of `second`: they live as long as it does, whatever happens to `first`. The private
      // object looked for is a key: not every token keeps private data objects (NSS softokn refuses them).
      const ec = await second.generateKeypair(KeyType.EC, 'secp256r1', { label: privateLabel });

      await first.close();
      assert.equal((await second.getInfo()).state, SessionState.RW_USER_FUNCTIONS, 'still logged in');
      const found = await findAll(second, privateKeyQuery);
      assert.equal(found.length, 1, 'a private object is still visible');
      const data = Buffer.from('signed after the other session closed');
      const digest = crypto.createHash('sha256').update(data).digest();
      const signature = await ec.privateKey.sign(digest, { mechanism: Mechanism.ECDSA });
      const spki = await nodePublicKey(ec.publicKey);
      assert.equal(crypto.verify('sha256', data, { key: spki, dsaEncoding: 'ieee-p1363' }, signature), true);
      // A private key made now needs the login too.
      const later = await second.generateKeypair(KeyType.EC, 'secp256r1');
      assert.equal(await later.privateKey.get(Attribute.PRIVATE), true);
      assert.equal((await later.privateKey.sign(digest, { mechanism: Mechanism.ECDSA })).length, 64);

      // A read-only session opened now, without a PIN, joins the application's login.
      await using third = await token.open();
      assert.equal((await third.getInfo()).state, SessionState.RO_USER_FUNCTIONS);
      assert.equal((await findAll(third, privateKeyQuery)).length, 1);
    } finally {
      await first.close();
    }
  });

  test('when the last session closes, the user is logged out (as the standard says)', async () => {
    {
      await using session = await token.open({ userPin: env.pin });
      assert.equal((await session.getInfo()).state, SessionState.RO_USER_FUNCTIONS);
    }
    await using fresh = await token.open();
    assert.equal((await fresh.getInfo()).state, SessionState.RO_PUBLIC_SESSION);
  });

  test('close() is idempotent; calls after it reject with CKR_SESSION_CLOSED without reaching the module', async () => {
    const session = await token.open({ rw: true });
    await Promise.all([session.close(), session.close()]);
    await session.close();
    assert.equal(session.closed, true);
    assert.equal(await sessionIsOpen(lib, session.handle), false);
    const mark = log.mark();
    await rejectsWithPkcs11(session.generateRandom(8), 'C_GenerateRandom', 'CKR_SESSION_CLOSED');
    const info = await rejectsWithPkcs11(session.getInfo(), 'C_GetSessionInfo', 'CKR_SESSION_CLOSED');
    assert.equal(info.rv, ReturnValue.SESSION_CLOSED);
    await rejectsWithPkcs11(session.findHandles({}), undefined, 'CKR_SESSION_CLOSED');
    assert.deepEqual(log.names(mark), [], 'no call reached the module');
  });

  test('close() waits for the calls already queued on the session; later calls are refused', async () => {
    // Logged in: some tokens (tpm2-pkcs11) digest only for a logged-in user.
    const session = await token.open({ userPin: env.pin });
    const pending = [session.generateRandom(16), session.digest('abc'), session.generateRandom(32)];
    const closing = session.close();
    const late = rejectsWithPkcs11(session.generateRandom(8), 'C_GenerateRandom', 'CKR_SESSION_CLOSED');
    const [random, digest, more] = await Promise.all(pending);
    assert.equal(random?.length, 16);
    assert.deepEqual(Buffer.from(digest as Uint8Array), crypto.createHash('sha256').update('abc').digest());
    assert.equal(more?.length, 32);
    await closing;
    await late;
  });

  test('`await using` closes the session at the end of the scope', async () => {
    let kept: Session | undefined;
    {
      await using session = await token.open({ userPin: env.pin });
      kept = session;
      assert.equal(kept.closed, false);
      assert.equal(await sessionIsOpen(lib, session.handle), true);
    }
    assert.equal(kept.closed, true);
    assert.equal(await sessionIsOpen(lib, kept.handle), false);
  });

  test('concurrent searches and calls on one session wait their turn', async () => {
    await using session = await token.open({ userPin: env.pin, rw: true });
    await Promise.all(Array.from({ length: 5 }, (_, i) => dataObject(session, `queued ${i} ${run}`)));
    const results = await Promise.all([
      findAll(session, { [Attribute.LABEL]: `queued 0 ${run}` }),
      session.generateRandom(4),
      findAll(session, { [Attribute.LABEL]: `queued 4 ${run}` }),
      session.digest('x'),
    ]);
    assert.equal((results[0] as unknown[]).length, 1);
    assert.equal((results[2] as unknown[]).length, 1);
  });

  test('Token.open with soPin opens a read-write Security Officer session', { skip: noSoPin }, async () => {
    await using session = await token.open({ soPin: env.soPin as string });
    assert.equal(session.rw, true);
    const info = await session.getInfo();
    assert.equal(info.state, SessionState.RW_SO_FUNCTIONS);
    assert.equal(info.slotId, token.slot.id);
  });

  test(
    'an SO login while the user is logged in is refused, never taken for the user’s',
    { skip: noSoPin },
    async () => {
      await using user = await token.open({ userPin: env.pin, rw: true });
      await rejectsWithPkcs11(
        token.open({ soPin: env.soPin as string }),
        'C_Login',
        'CKR_USER_ANOTHER_ALREADY_LOGGED_IN',
      );
      assert.equal((await user.getInfo()).state, SessionState.RW_USER_FUNCTIONS);
    },
  );

  test('setPin then initPin: the user PIN changes and is set back by the SO', { skip: noSoPin }, async () => {
    const soPin = env.soPin as string;
    const temporary = `${env.pin}0`;
    try {
      await token.setPin(env.pin, temporary);
      await rejectsWithPkcs11(token.open({ userPin: env.pin }), 'C_Login', 'CKR_PIN_INCORRECT');
      {
        await using session = await token.open({ userPin: temporary });
        assert.equal((await session.getInfo()).state, SessionState.RO_USER_FUNCTIONS);
      }
    } finally {
      // The PIN is set back whatever failed above (the files after this one log in with it): by the
      // SO, else by the user with the temporary PIN; the SO's error is the one reported.
      await token.initPin(soPin, env.pin).catch(async (error: unknown) => {
        await token.setPin(temporary, env.pin).catch(() => {
          throw error;
        });
      });
    }
    // Checked with no session open: while the user is logged in, a further login is not checked
    // (C_Login answers CKR_USER_ALREADY_LOGGED_IN, which joins the existing login).
    await rejectsWithPkcs11(token.open({ userPin: temporary }), 'C_Login', 'CKR_PIN_INCORRECT');
    await using session = await token.open({ userPin: env.pin });
    assert.equal((await session.getInfo()).state, SessionState.RO_USER_FUNCTIONS);
  });
});
