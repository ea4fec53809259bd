// The known gaps of python-pkcs11 (FEATURES.md, "Known gaps of the peers"), each shown not to
// happen here. A gap whose behaviour has a test file of its own is tested there, once:
//
// - C_Initialize without OS locking: concurrency.test.ts, "several sessions in parallel".
// - closing one session logs out all: session.test.ts, "login is per application".
// - a failed login leaks its session: session.test.ts, "a failed login closes the session it
//   opened", and below, seen from a Security Officer login.
// - getTokens(mechanisms=) never matches: library.test.ts, "getTokens by mechanisms really filters".
// - wait_for_slot_event crashes on a real event: faults-removal.test.ts, "waitForSlotEvent reports
//   the pull-out and the put-back".
// - no array attributes: objects.test.ts, "array attributes through the token".
// - vendor mechanisms refused: mechanisms-symmetric.test.ts, "a vendor mechanism number reaches the
//   token".
// - PSS defaults use SHA-1 for SHA-256 PSS: mechanisms-rsa.test.ts, "PSS with SHA-1 to SHA-512".
// - no IV help: mechanisms-symmetric.test.ts, "CBC_PAD with no IV" and "GCM".
// - ECDSA decode pads to the longer integer, not the curve: mechanisms-ec.test.ts, "node’s
//   signatures, decoded to r||s at the curve size".
// - 28 CKR codes unmapped: test/unit/errors.test.ts, "every CKR code of the standard".
// - sessions never auto-closed: session.test.ts, "`await using` closes the session".
//
// Below: the gaps no other file is about.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { Attribute, KeyType, Mechanism, Pkcs11Error, SessionState, TokenFlag } from '../../src/index.js';
import { encodeNamedCurveParameters } from '../../src/util/index.js';
import { rejectsWithPkcs11 } from '../support/assertions.js';
import { withoutSoPin } from '../support/env.js';
import { nodePublicKey } from '../support/keys.js';
import { CURVE_REFUSED, openTestToken } from '../support/token.js';

const noSoPin = withoutSoPin();

describe('python-pkcs11 gaps that pkcs11-ts does not have', () => {
  test(
    'a failed login does not leak its session (an SO login would see the read-only session)',
    { skip: noSoPin },
    async () => {
      await using opened = await openTestToken();
      const { env, token } = opened;
      const soPin = env.soPin as string;
      // The probe can fail: with a read-only session open, the SO cannot log in.
      {
        await using _readOnly = await token.open();
        await rejectsWithPkcs11(token.open({ soPin }), 'C_Login', 'CKR_SESSION_READ_ONLY_EXISTS');
      }
      for (let i = 0; i < 3; i++)
        await rejectsWithPkcs11(token.open({ userPin: `${env.pin}-wrong` }), 'C_Login', 'CKR_PIN_INCORRECT');
      await using so = await token.open({ soPin });
      assert.equal((await so.getInfo()).state, SessionState.RW_SO_FUNCTIONS);
    },
  );

  test('curve names: prime256v1, brainpoolP256r1, any case, and dotted OIDs are accepted', async (t) => {
    await using opened = await openTestToken();
    await using session = await opened.token.open({ userPin: opened.env.pin, rw: true });
    assert.deepEqual(encodeNamedCurveParameters('prime256v1'), encodeNamedCurveParameters('secp256r1'));
    assert.deepEqual(
      encodeNamedCurveParameters('BRAINPOOLP256R1'),
      encodeNamedCurveParameters('1.3.36.3.3.2.8.1.1.7'),
    );
    const names: [string, string][] = [
      ['prime256v1', 'prime256v1'],
      ['PRIME256V1', 'prime256v1'],
      ['1.2.840.10045.3.1.7', 'prime256v1'],
      ['brainpoolP256r1', 'brainpoolP256r1'],
      ['BrainpoolP256R1', 'brainpoolP256r1'],
    ];
    for (const [name, nodeCurve] of names) {
      let pair;
      try {
        pair = await session.generateKeypair(KeyType.EC, name);
      } catch (error) {
        const refused = error instanceof Pkcs11Error && CURVE_REFUSED.includes(error.rv);
        if (!refused) throw error;
        t.diagnostic(`the token has no ${nodeCurve}`);
        continue;
      }
      assert.equal(pair.publicKey.keyLength, 256, name);
      const nodeKey = await nodePublicKey(pair.publicKey);
      assert.equal(nodeKey.asymmetricKeyDetails?.namedCurve, nodeCurve, name);
      const data = Buffer.from(name);
      const digest = crypto.createHash('sha256').update(data).digest();
      const signature = await pair.privateKey.sign(digest, { mechanism: Mechanism.ECDSA });
      assert.ok(crypto.verify('sha256', data, { key: nodeKey, dsaEncoding: 'ieee-p1363' }, signature), name);
    }
  });

  test(
    'initToken: a token is initialised (in an uninitialised slot) and then used',
    { skip: noSoPin },
    async (t) => {
      await using opened = await openTestToken();
      const { lib } = opened;
      const blank = (await lib.getTokens()).find(
        (token) => (token.flags & TokenFlag.TOKEN_INITIALIZED) === 0,
      );
      if (!blank) {
        t.skip('no uninitialised token to initialise');
        return;
      }
      const soPin = 'test-so-pin-4321';
      const userPin = 'test-user-pin-4321';
      const label = `initialised ${crypto.randomBytes(3).toString('hex')}`;
      await blank.initToken(soPin, label);
      const token = await lib.getToken({ tokenLabel: label });
      assert.ok((token.flags & TokenFlag.TOKEN_INITIALIZED) !== 0);
      await token.initPin(soPin, userPin);
      await using session = await token.open({ userPin, rw: true });
      assert.equal((await session.getInfo()).state, SessionState.RW_USER_FUNCTIONS);
      const stored = await session.generateKeypair(KeyType.EC, 'secp256r1', { store: true });
      assert.equal(await stored.privateKey.get(Attribute.TOKEN), true);
      await assert.rejects(blank.initToken(soPin, 'x'.repeat(33)), RangeError);
    },
  );
});
