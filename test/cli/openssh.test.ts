/**
 * OpenSSH public key lines (src/cli/openssh.ts), checked against OpenSSH itself: `ssh-keygen -l`
 * must give the fingerprint of the key blob we wrote, and `ssh-keygen -e -m PKCS8` must turn the
 * line back into the same SubjectPublicKeyInfo. Skipped where ssh-keygen is not installed
 * (Debian package openssh-client).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { opensshPublicKey } from '../../src/cli/openssh.js';
import { scratchDirectory } from './run.js';

/** Whether ssh-keygen can be run. */
function hasSshKeygen(): boolean {
  try {
    execFileSync('ssh-keygen', ['-?'], { stdio: 'ignore' });
    return true;
  } catch (error) {
    return (error as { status?: number }).status !== undefined; // it ran and complained about -?
  }
}

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
  const sshKeygen = hasSshKeygen();
  const dir = scratchDirectory('p11-openssh');

  for (const kind of KINDS) {
    test(`${kind.title}: ssh-keygen reads it as the same key`, (t) => {
      if (!sshKeygen) return t.skip('ssh-keygen is not installed (Debian package openssh-client)');
      // Several keys per kind: leading zero bytes of coordinates and moduli vary between keys.
      for (let i = 0; i < 4; i++) {
        const { publicKey } = kind.make();
        const line = opensshPublicKey(publicKey, `test key ${i}`);
        const [type, blob, ...comment] = line.split(' ');
        assert.equal(type, kind.type);
        assert.equal(comment.join(' '), `test key ${i}`);
        const file = join(dir, `${kind.type}-${i}.pub`);
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
        if (kind.pkcs8) {
          const back = crypto.createPublicKey(
            execFileSync('ssh-keygen', ['-e', '-m', 'PKCS8', '-f', file]).toString(),
          );
          assert.ok(back.equals(publicKey), 'ssh-keygen gives back the same public key');
        }
      }
    });
  }

  test('keys OpenSSH has no format for, private keys and two-line comments are refused', () => {
    const brainpool = crypto.generateKeyPairSync('ec', { namedCurve: 'brainpoolP256r1' }).publicKey;
    assert.throws(() => opensshPublicKey(brainpool), /OpenSSH has no public key format for brainpoolP256r1/);
    assert.throws(() => opensshPublicKey(crypto.generateKeyPairSync('x25519').publicKey), RangeError);
    const pair = crypto.generateKeyPairSync('ed25519');
    assert.throws(() => opensshPublicKey(pair.privateKey), /must be a public KeyObject/);
    assert.throws(() => opensshPublicKey(pair.publicKey, 'a\nb'), /one line/);
    assert.doesNotMatch(opensshPublicKey(pair.publicKey), / $/);
  });
});
