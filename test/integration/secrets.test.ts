// PINs stay secret: after logins that fail (wrong user PIN, wrong SO PIN, wrong old PIN, a PIN
// given as bytes) and logins that succeed, neither the right nor the wrong PIN appears in any
// error (message, stack, inspection), any trace line, or the `util.inspect` of any object the
// caller holds (Library, Slot, Token, Session, keys, objects, SoftHsmToken).
//
// The test provisions a SoftHSM2 token of its own, with PINs that cannot turn up by chance in a
// hex number or a duration; it skips where SoftHSM2 is not installed.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import {
  Attribute,
  KeyType,
  Library,
  Mechanism,
  ObjectClass,
  Pkcs11Error,
  UserType,
  type Session,
  type Token,
} from '../../src/index.js';
import { applyEnv, provisionToken, type SoftHsmToken } from '../../src/softhsm/index.js';
import { CallLog } from '../support/call-log.js';

/** A PIN no output can contain by accident: a tag and 12 random hex digits. */
const pinLike = (tag: string): string => `${tag}-${randomBytes(6).toString('hex')}`;
const PINS = {
  user: pinLike('UserPin'),
  so: pinLike('SoPin'),
  wrongUser: pinLike('WrongUserPin'),
  wrongSo: pinLike('WrongSoPin'),
} as const;

/** Every form a PIN could take in an output: the text, its bytes in hex, and as `inspect` shows a Buffer. */
function forms(pin: string): string[] {
  const bytes = Buffer.from(pin, 'utf8');
  return [
    pin,
    bytes.toString('hex'),
    bytes.toString('base64'),
    [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(' '),
  ];
}
const FORBIDDEN = Object.entries(PINS).flatMap(([name, pin]) => forms(pin).map((form) => ({ name, form })));

/** Asserts that no PIN, in any of its forms, is part of `text`; `where` says what the text is. */
function assertNoPin(text: string, where: string): void {
  for (const { name, form } of FORBIDDEN)
    assert.ok(!text.includes(form), `the ${name} PIN appears in ${where}`);
}

/** Everything an error shows: message, stack, inspection, String() and its own fields as JSON. */
function errorOutputs(error: unknown): string[] {
  const e = error as Error;
  return [
    e.message,
    e.stack ?? '',
    inspect(e, { depth: Infinity, showHidden: true }),
    String(e),
    JSON.stringify(e),
  ];
}

/** Everything an object shows: inspection (hidden properties included), String() and, when it has one, JSON. */
function objectOutputs(value: unknown): string[] {
  const outputs = [inspect(value, { depth: Infinity, showHidden: true }), String(value)];
  try {
    outputs.push(JSON.stringify(value));
  } catch (error) {
    // Handles are bigints, which JSON refuses; the refusal is an output too.
    outputs.push((error as Error).message);
  }
  return outputs;
}

async function provision(): Promise<SoftHsmToken | string> {
  try {
    return await provisionToken({ label: 'pkcs11-ts secrets', pin: PINS.user, soPin: PINS.so });
  } catch (error) {
    return `no SoftHSM2 token could be provisioned: ${(error as Error).message}`;
  }
}

const provisioned = await provision();
const skip = typeof provisioned === 'string' ? provisioned : false;
after(() => (typeof provisioned === 'string' ? undefined : provisioned.dispose()));

describe('no PIN in any output', { skip }, () => {
  test('after failed and successful logins, in errors, traces and inspected objects', async () => {
    const softhsm = provisioned as SoftHsmToken;
    applyEnv(softhsm); // SOFTHSM2_CONF must point at this token before the module is loaded
    const log = new CallLog();
    const lib = await Library.load(softhsm.modulePath, { trace: log.sink });
    const errors: unknown[] = [];
    /** Runs a call that must fail and keeps its error. */
    const failing = async (what: string, call: () => Promise<unknown>): Promise<void> => {
      await assert.rejects(
        call(),
        (error: unknown) => {
          errors.push(error);
          return true;
        },
        what,
      );
    };
    const held: unknown[] = [softhsm, lib];
    try {
      const token: Token = await lib.getToken({ tokenLabel: softhsm.tokenLabel });
      held.push(token, token.slot);

      // Wrong PINs, as strings and as bytes, for every way a PIN reaches the token.
      await failing('wrong user PIN', () => token.open({ userPin: PINS.wrongUser }));
      const wrongBytes = Buffer.from(PINS.wrongUser, 'utf8');
      await failing('wrong user PIN as bytes', () => token.open({ userPin: wrongBytes }));
      assert.equal(
        wrongBytes.toString('utf8'),
        PINS.wrongUser,
        "the caller's PIN bytes are left as they were",
      );
      await failing('wrong SO PIN', () => token.open({ soPin: PINS.wrongSo }));
      await failing('wrong old PIN for setPin', () => token.setPin(PINS.wrongUser, PINS.wrongSo));
      await failing('wrong SO PIN for initPin', () => token.initPin(PINS.wrongSo, PINS.wrongUser));
      await failing('wrong SO PIN for initToken', () => token.initToken(PINS.wrongSo, 'never'));
      await failing('a PIN of the wrong type', () =>
        token.open({ userPin: Number.parseInt(PINS.wrongUser, 36) as never }),
      );
      await failing('wrong PIN on an open session', async () => {
        await using session = await token.open();
        await session.login(PINS.wrongUser);
      });
      const open: Session = await token.open({ userPin: PINS.user, rw: true });
      held.push(open);
      await failing('wrong SO PIN while the user is logged in', () =>
        open.login(PINS.wrongSo, { userType: UserType.SO }),
      );
      await failing('wrong old PIN in the session', () => open.setPin(PINS.wrongUser, PINS.wrongSo));

      // Successful logins, and the objects a caller then holds.
      const { publicKey, privateKey } = await open.generateKeypair(KeyType.EC, 'secp256r1', {
        label: 'secrets-ec',
      });
      const aes = await open.generateKey(KeyType.AES, 128, { label: 'secrets-aes' });
      const data = await open.createObject({
        [Attribute.CLASS]: ObjectClass.DATA,
        [Attribute.TOKEN]: false,
        [Attribute.LABEL]: 'secrets-data',
      });
      held.push(publicKey, privateKey, aes, data);
      await failing('a context-specific login with the wrong PIN', () =>
        privateKey.sign(Buffer.alloc(32), { mechanism: Mechanism.ECDSA, pin: PINS.wrongUser }),
      );
      await token.setPin(PINS.user, PINS.user);
      const so = await token.open({ soPin: PINS.so, rw: true }).catch((error: unknown) => {
        // The user is logged in through this application, so the SO may not be: a failure, not a leak.
        errors.push(error);
        return undefined;
      });
      if (so) {
        held.push(so);
        await so.close();
      }
      await open.close();

      assert.ok(errors.length >= 11, `the failed calls all failed (${errors.length})`);
      assert.ok(
        errors.some((e) => e instanceof Pkcs11Error && e.code === 'CKR_PIN_INCORRECT'),
        'wrong PINs were refused as such',
      );
      errors.forEach((error, i) =>
        errorOutputs(error).forEach((text) => assertNoPin(text, `error ${i}: ${String(error)}`)),
      );
      held.forEach((value) =>
        objectOutputs(value).forEach((text) => assertNoPin(text, `an inspected ${kindOf(value)}`)),
      );
      assert.deepEqual(log.malformed, []);
      const logins = log.since(0, 'C_Login');
      assert.ok(
        logins.length >= 8 && logins.every((c) => c.args[2] === '<secret>' && c.args[3] === '<secret>'),
      );
      for (const call of log.since()) assertNoPin(call.line, `the trace line ${call.fn}`);
    } finally {
      await lib.finalize();
    }
  });

  test('provisioning never echoes a PIN it refuses', async () => {
    for (const pin of ['Zq9', 'x'.repeat(256), `${PINS.wrongUser}\0`]) {
      await assert.rejects(provisionToken({ pin }), (error: unknown) => {
        errorOutputs(error).forEach((text) =>
          assert.ok(!text.includes(pin.replace('\0', '')), 'the refused PIN is not echoed'),
        );
        return error instanceof RangeError;
      });
    }
  });
});

/** A short name for the kind of value, for assertion messages. */
function kindOf(value: unknown): string {
  return (value as object)?.constructor?.name ?? typeof value;
}
