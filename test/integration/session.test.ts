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
  ReturnValue,
  SecretKey,
  SessionState,
  type Session,
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

/** A session data object (visible only while logged in when `privateObject`). */
function dataObject(session: Session, label: string, privateObject = false) {
  return session.createObject(
    dataTemplate(label, Buffer.from(`value of ${label}`), { [Attribute.PRIVATE]: privateObject }),
  );
}

describe('sessions', () => {
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
    await using second = await token.open({ userPin: env.pin });
    assert.equal((await second.getInfo()).state, SessionState.RO_USER_FUNCTIONS);
    // Objects of `second`: they live as long as it does, whatever happens to `first`.
    await dataObject(second, 'private data', true);
    const ec = await second.generateKeypair(KeyType.EC, 'secp256r1');

    await first.close();
    assert.equal((await second.getInfo()).state, SessionState.RO_USER_FUNCTIONS, 'still logged in');
    const found = await findAll(second, { [Attribute.LABEL]: 'private data' });
    assert.equal(found.length, 1, 'a private object is still visible');
    const data = Buffer.from('signed after the other session closed');
    const digest = crypto.createHash('sha256').update(data).digest();
    const signature = await ec.privateKey.sign(digest, { mechanism: Mechanism.ECDSA });
    const spki = await nodePublicKey(ec.publicKey);
    assert.equal(crypto.verify('sha256', data, { key: spki, dsaEncoding: 'ieee-p1363' }, signature), true);
    // A private key made now needs the login too.
    const secret = await second.generateKey(KeyType.GENERIC_SECRET, 256, {
      template: { [Attribute.PRIVATE]: true },
    });
    assert.equal((await (secret as SecretKey).sign('still logged in')).length, 32);

    // A session opened now, without a PIN, joins the application's login.
    await using third = await token.open();
    assert.equal((await third.getInfo()).state, SessionState.RO_USER_FUNCTIONS);
    assert.equal((await findAll(third, { [Attribute.LABEL]: 'private data' })).length, 1);
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
    const session = await token.open();
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
    await using session = await token.open();
    await Promise.all(Array.from({ length: 5 }, (_, i) => dataObject(session, `queued ${i}`)));
    const results = await Promise.all([
      findAll(session, { [Attribute.LABEL]: 'queued 0' }),
      session.generateRandom(4),
      findAll(session, { [Attribute.LABEL]: 'queued 4' }),
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
      await token.initPin(soPin, env.pin);
    }
    // Checked with no session open: while the user is logged in, a further login is not checked
    // (C_Login answers CKR_USER_ALREADY_LOGGED_IN, which joins the existing login).
    await rejectsWithPkcs11(token.open({ userPin: temporary }), 'C_Login', 'CKR_PIN_INCORRECT');
    await using session = await token.open({ userPin: env.pin });
    assert.equal((await session.getInfo()).state, SessionState.RO_USER_FUNCTIONS);
  });
});
