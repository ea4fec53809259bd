// examples/seed-smartcard-hsm.ts run in-process against the test token: every flow's output is
// checked again here, independently of the example's own checks, and a second run must work too.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Attribute, KeyType, Mechanism, ObjectClass, type PublicKey } from '../../src/index.js';
import { decodeRsaPublicKey } from '../../src/util/index.js';
import { EC_LABEL, RSA_LABEL, main, type SeedResult } from '../../examples/seed-smartcard-hsm.js';
import { testEnv } from '../support/env.js';
import { nodePublicKey } from '../support/keys.js';
import { missing, openFixture, tokenMechanisms } from '../support/token.js';

const env = testEnv();
const examplePath = fileURLToPath(new URL('../../examples/seed-smartcard-hsm.ts', import.meta.url));

/** Runs the example, keeping what it printed. */
async function run(): Promise<{ result: SeedResult; lines: string[] }> {
  const lines: string[] = [];
  const result = await main(process.env, (line) => lines.push(line));
  return { result, lines };
}

/** The key objects under the example's labels, as class names per label. */
async function keysOnToken(): Promise<Record<string, number[]>> {
  await using fx = await openFixture({ rw: false });
  const { session } = fx;
  const out: Record<string, number[]> = {};
  for (const label of [RSA_LABEL, EC_LABEL]) {
    out[label] = [];
    for await (const obj of session.getObjects({ [Attribute.LABEL]: label }))
      out[label].push(obj.objectClass);
    out[label].sort();
  }
  return out;
}

/** Why the example cannot run here: the mechanisms it needs that the token lacks (ECDSA with SHA-1 may be hashed on the host). */
async function missingMechanisms(): Promise<string | false> {
  const has = await tokenMechanisms();
  const ecdsa = has.has(Mechanism.ECDSA_SHA1) ? [] : [Mechanism.ECDSA];
  return missing(
    has,
    Mechanism.RSA_PKCS_KEY_PAIR_GEN,
    Mechanism.RSA_PKCS,
    Mechanism.EC_KEY_PAIR_GEN,
    ...ecdsa,
    Mechanism.ECDH1_DERIVE,
  );
}

describe('examples/seed-smartcard-hsm.ts', { skip: await missingMechanisms() }, () => {
  let first: { result: SeedResult; lines: string[] };

  test('runs against the test token and reports every step', async () => {
    first = await run();
    const text = first.lines.join('\n');
    for (const title of ['[1/7]', '[2/7]', '[3/7]', '[4/7]', '[5/7]', '[6/7]', '[7/7]', 'Done:']) {
      assert.ok(text.includes(title), `the report has ${title}`);
    }
    assert.equal(text.match(/verified by node:crypto\s+yes/g)?.length, 3);
    assert.ok(text.includes(RSA_LABEL) && text.includes(EC_LABEL));
    assert.ok(!text.includes(env.pin), 'the PIN is never printed');
  });

  test('RSA: node:crypto ciphertext decrypted by the token with CKM_RSA_PKCS', async () => {
    const { rsa } = first.result;
    assert.equal(rsa.modulusBits, 2048);
    const key = crypto.createPublicKey({ key: Buffer.from(rsa.publicKeyDer), format: 'der', type: 'pkcs1' });
    assert.equal(key.asymmetricKeyDetails?.modulusLength, 2048);
    assert.equal(rsa.ciphertext.length, 256);
    assert.deepEqual(Buffer.from(rsa.decrypted), Buffer.from(rsa.message));
    assert.notDeepEqual(
      Buffer.from(rsa.ciphertext).subarray(0, rsa.message.length),
      Buffer.from(rsa.message),
    );
  });

  test('RSA: the exported PKCS#1 key is the stored public key', async () => {
    await using fx = await openFixture({ rw: false });
    const { session } = fx;
    const pub = await session.getKey({
      label: RSA_LABEL,
      objectClass: ObjectClass.PUBLIC_KEY,
      keyType: KeyType.RSA,
    });
    const modulus = await pub.get(Attribute.MODULUS);
    const exported = decodeRsaPublicKey(first.result.rsa.publicKeyDer);
    assert.deepEqual(
      Buffer.from(exported[Attribute.MODULUS] as Uint8Array),
      Buffer.from(modulus as Uint8Array),
    );
  });

  test('ECDSA-SHA1: the DER signature verifies with node:crypto, and not for other data', () => {
    const { ecdsa } = first.result;
    assert.equal(ecdsa.signature.length, 64);
    const key = crypto.createPublicKey({ key: Buffer.from(ecdsa.spki), format: 'der', type: 'spki' });
    assert.equal(key.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.equal(crypto.verify('sha1', ecdsa.data, key, ecdsa.derSignature), true);
    assert.equal(crypto.verify('sha1', Buffer.from('other data'), key, ecdsa.derSignature), false);
    // The raw form is the same signature: node reads r||s with dsaEncoding 'ieee-p1363'.
    assert.equal(
      crypto.verify('sha1', ecdsa.data, { key, dsaEncoding: 'ieee-p1363' }, ecdsa.signature),
      true,
    );
  });

  test("ECDH: the token's derived secret equals node:crypto's, redone here from the stored key", async () => {
    const { ecdh } = first.result;
    assert.equal(ecdh.tokenSecret.length, 32);
    assert.deepEqual(Buffer.from(ecdh.tokenSecret), Buffer.from(ecdh.nodeSecret));
    assert.equal(ecdh.peerPoint.length, 65, 'the peer point went to the token raw (04 || X || Y)');
    await using fx = await openFixture({ rw: false });
    const { session } = fx;
    const pub = await session.getKey({ label: EC_LABEL, objectClass: ObjectClass.PUBLIC_KEY });
    const alice = await nodePublicKey(pub as PublicKey);
    const secret = crypto.diffieHellman({ privateKey: ecdh.peer.privateKey, publicKey: alice });
    assert.deepEqual(Buffer.from(ecdh.tokenSecret), secret);
  });

  test('a second run replaces the first run’s keys: one key pair per label on the token', async () => {
    const second = await run();
    assert.ok(
      second.result.removedObjects >= 2,
      `removed ${second.result.removedObjects} objects of the first run`,
    );
    assert.notDeepEqual(
      Buffer.from(second.result.rsa.publicKeyDer),
      Buffer.from(first.result.rsa.publicKeyDer),
    );
    const pair = [ObjectClass.PUBLIC_KEY, ObjectClass.PRIVATE_KEY].sort();
    assert.deepEqual(await keysOnToken(), { [RSA_LABEL]: pair, [EC_LABEL]: pair });
  });

  test('missing environment: main rejects naming each variable, the program exits non-zero', async () => {
    await assert.rejects(
      main({ PKCS11_MODULE: env.modulePath }, () => undefined),
      (error: Error) => {
        assert.match(error.message, /PKCS11_TOKEN_LABEL/);
        assert.match(error.message, /PKCS11_PIN/);
        assert.doesNotMatch(error.message, /PKCS11_MODULE:/);
        return true;
      },
    );
    const bare = { PATH: process.env.PATH, HOME: process.env.HOME };
    const child = promisify(execFile)(process.execPath, ['--import', 'tsx', examplePath], {
      env: bare,
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
    });
    await assert.rejects(child, (error: { code: number; stderr: string }) => {
      assert.equal(error.code, 1);
      assert.match(error.stderr, /missing environment variable\(s\)/);
      for (const name of ['PKCS11_MODULE', 'PKCS11_TOKEN_LABEL', 'PKCS11_PIN'])
        assert.match(error.stderr, new RegExp(name));
      return true;
    });
  });
});
