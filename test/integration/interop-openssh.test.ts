/**
 * OpenSSH public key lines (src/interop/openssh.ts, and `exportPublicKey(key, 'openssh')` for
 * token keys), checked against OpenSSH itself: `ssh-keygen -l` must give the fingerprint of the
 * key blob we wrote, and `ssh-keygen -e -m PKCS8` must turn the line back into the same
 * SubjectPublicKeyInfo. The ssh-keygen checks skip where it is not installed (Debian package
 * openssh-client).
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportPublicKey, opensshPublicKey, toKeyObject } from '../../src/interop/index.js';
import { KEY_KINDS, tokenKeyPair } from '../support/key-kinds.js';
import { openFixture } from '../support/token.js';

/** Whether ssh-keygen can be run. */
function hasSshKeygen(): boolean {
  try {
    execFileSync('ssh-keygen', ['-?'], { stdio: 'ignore' });
    return true;
  } catch (error) {
    return (error as { status?: number }).status !== undefined; // it ran and complained about -?
  }
}

const fx = await openFixture();
after(() => fx.close());
const sshKeygen = hasSshKeygen();
const NO_SSH_KEYGEN = 'ssh-keygen is not installed (Debian package openssh-client)';
const dir = mkdtempSync(join(tmpdir(), 'pkcs11-ts-openssh-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

/**
 * Asserts that `line` is an OpenSSH line of `type` and `comment` that ssh-keygen reads as
 * `publicKey`: the same fingerprint and, with `pkcs8`, the same key converted back.
 */
function assertSshKeygenReads(
  line: string,
  publicKey: crypto.KeyObject,
  expected: { readonly type: string; readonly comment: string; readonly pkcs8: boolean },
): void {
  const [type, blob, ...comment] = line.split(' ');
  assert.equal(type, expected.type);
  assert.equal(comment.join(' '), expected.comment);
  const file = join(dir, `${++files}.pub`);
  writeFileSync(file, `${line}\n`);
  const fingerprint = crypto
    .createHash('sha256')
    .update(Buffer.from(blob!, 'base64'))
    .digest('base64')
    .replace(/=+$/, '');
  assert.match(
    execFileSync('ssh-keygen', ['-l', '-f', file]).toString(),
    new RegExp(`SHA256:${fingerprint.replace(/[+/]/g, '\\$&')} `),
  );
  if (expected.pkcs8) {
    const back = crypto.createPublicKey(
      execFileSync('ssh-keygen', ['-e', '-m', 'PKCS8', '-f', file]).toString(),
    );
    assert.ok(back.equals(publicKey), 'ssh-keygen gives back the same public key');
  }
}

/** The OpenSSH key type of each kind OpenSSH has a format for, by KEY_KINDS title. */
const SSH_TYPES: Readonly<Record<string, string>> = {
  'RSA 2048': 'ssh-rsa',
  'EC secp256r1': 'ecdsa-sha2-nistp256',
  'EC secp384r1': 'ecdsa-sha2-nistp384',
  'EC secp521r1': 'ecdsa-sha2-nistp521',
  Ed25519: 'ssh-ed25519',
};

const KINDS = [
  {
    title: 'RSA 2048',
    type: 'ssh-rsa',
    make: () => crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }),
    pkcs8: true,
  },
  {
    title: 'RSA 3072',
    type: 'ssh-rsa',
    make: () => crypto.generateKeyPairSync('rsa', { modulusLength: 3072 }),
    pkcs8: true,
  },
  {
    title: 'P-256',
    type: 'ecdsa-sha2-nistp256',
    make: () => crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }),
    pkcs8: true,
  },
  {
    title: 'P-384',
    type: 'ecdsa-sha2-nistp384',
    make: () => crypto.generateKeyPairSync('ec', { namedCurve: 'P-384' }),
    pkcs8: true,
  },
  {
    title: 'P-521',
    type: 'ecdsa-sha2-nistp521',
    make: () => crypto.generateKeyPairSync('ec', { namedCurve: 'P-521' }),
    pkcs8: true,
  },
  // ssh-keygen cannot write Ed25519 keys as PKCS#8: the fingerprint check covers them.
  { title: 'Ed25519', type: 'ssh-ed25519', make: () => crypto.generateKeyPairSync('ed25519'), pkcs8: false },
];

describe('opensshPublicKey', () => {
  for (const kind of KINDS) {
    test(`${kind.title}: ssh-keygen reads it as the same key`, (t) => {
      if (!sshKeygen) return t.skip(NO_SSH_KEYGEN);
      // Several keys per kind: leading zero bytes of coordinates and moduli vary between keys.
      for (let i = 0; i < 4; i++) {
        const { publicKey } = kind.make();
        const line = opensshPublicKey(publicKey, `test key ${i}`);
        assertSshKeygenReads(line, publicKey, {
          type: kind.type,
          comment: `test key ${i}`,
          pkcs8: kind.pkcs8,
        });
      }
    });
  }

  test('keys OpenSSH has no format for, private keys and two-line comments are refused', () => {
    const brainpool = crypto.generateKeyPairSync('ec', { namedCurve: 'brainpoolP256r1' }).publicKey;
    assert.throws(() => opensshPublicKey(brainpool), /OpenSSH has no public key format for brainpoolP256r1/);
    assert.throws(() => opensshPublicKey(crypto.generateKeyPairSync('x25519').publicKey), RangeError);
    const pair = crypto.generateKeyPairSync('ed25519');
    assert.throws(() => opensshPublicKey(pair.privateKey), /must be a public KeyObject/);
    assert.throws(() => opensshPublicKey(pair.publicKey, 'a\nb'), /comment must be one line/);
    assert.throws(() => opensshPublicKey(pair.publicKey, 42 as never), TypeError);
    assert.doesNotMatch(opensshPublicKey(pair.publicKey), / $/);
  });
});

describe("exportPublicKey(key, 'openssh') of token keys", () => {
  for (const kind of KEY_KINDS) {
    const sshType = SSH_TYPES[kind.title];
    test(`${kind.title}: ${sshType ? 'the line of its public key, read by ssh-keygen' : 'a RangeError'}`, async (t) => {
      const pair = await tokenKeyPair(t, fx, kind);
      if (!pair) return;
      if (sshType === undefined) {
        await assert.rejects(exportPublicKey(pair.publicKey, 'openssh'), /OpenSSH has no public key format/);
        return;
      }
      const line = await exportPublicKey(pair.publicKey, 'openssh', { comment: 'me@token' });
      const keyObject = await toKeyObject(pair.publicKey);
      assert.equal(line, opensshPublicKey(keyObject, 'me@token'));
      assert.equal(await exportPublicKey(pair.publicKey, 'openssh'), opensshPublicKey(keyObject));
      if (!sshKeygen) return t.skip(NO_SSH_KEYGEN);
      assertSshKeygenReads(line, keyObject, {
        type: sshType,
        comment: 'me@token',
        pkcs8: sshType !== 'ssh-ed25519',
      });
    });
  }

  test('a bad comment, or a comment for another format, is refused before the key is read', async () => {
    const template = {}; // not a key: reading it would fail differently
    await assert.rejects(
      exportPublicKey(template, 'openssh', { comment: 'a\nb' }),
      /options\.comment must be one line/,
    );
    await assert.rejects(exportPublicKey(template, 'openssh', { comment: 7 as never }), TypeError);
    await assert.rejects(exportPublicKey(template, 'pem', { comment: 'x' }), /'openssh' format only/);
  });
});
