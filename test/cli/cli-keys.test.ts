/**
 * `p11` key commands against the test token, each result checked outside the token with
 * node:crypto: keygen and export (PEM, DER, JWK, OpenSSH), import (PEM, encrypted PEM, JWK, raw
 * secret, certificate), sign and verify, encrypt and decrypt, derive (ECDH), csr and selfsign,
 * delete.
 */
// @peculiar/x509 needs the Reflect metadata API as it loads.
import 'reflect-metadata';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { Mechanism } from '../../src/sys/constants.js';
import { opensshPublicKey } from '../../src/interop/openssh.js';
import { lacking, p11, p11Json, removeObjects, scratchDirectory, tokenMechanisms } from './run.js';

const PREFIX = 'cli-keys-';
const dir = scratchDirectory('p11-keys');
const dataFile = join(dir, 'data');
const data = Buffer.from('the data to sign and encrypt');
writeFileSync(dataFile, data);

let mechanisms: Set<number>;
before(async () => {
  mechanisms = await tokenMechanisms();
});
after(() => removeObjects(PREFIX));

interface Made {
  readonly id: string;
  readonly publicKey?: string;
  readonly objects: readonly {
    class: string;
    keyType: string;
    flags: Record<string, boolean>;
    curve?: string;
    bits?: number;
  }[];
}

/** `p11 keygen SPEC` with a label of this file; the parsed JSON. */
function keygen(spec: string, label: string, ...more: string[]): Promise<Made> {
  return p11Json<Made>(['keygen', spec, '--label', `${PREFIX}${label}`, ...more]);
}

/** The file a test writes into the scratch directory. */
function file(name: string): string {
  return join(dir, name);
}

describe('p11 keygen and export', () => {
  test('an RSA key pair: the private half stays in, the public half exports as PEM, DER, JWK and OpenSSH', async (t) => {
    if (lacking(t, mechanisms, Mechanism.RSA_PKCS_KEY_PAIR_GEN)) return;
    const made = await keygen('rsa:2048', 'rsa', '--id', 'c11a01');
    assert.equal(made.id, 'c11a01');
    const [pub, priv] = made.objects;
    assert.deepEqual([pub?.class, priv?.class], ['CKO_PUBLIC_KEY', 'CKO_PRIVATE_KEY']);
    assert.equal(priv?.bits, 2048);
    assert.equal(priv?.flags.sensitive, true);
    assert.equal(priv?.flags.extractable, false);
    const key = crypto.createPublicKey(made.publicKey!);
    const [pem, der, jwk, ssh] = await Promise.all([
      p11(['export', '--id', 'c11a01']),
      p11Json<{ der: string }>(['export', '--id', 'c11a01', '--format', 'der']),
      p11Json<{ jwk: crypto.JsonWebKey }>(['export', '--id', 'c11a01', '--format', 'jwk']),
      p11(['export', '--id', 'c11a01', '--format', 'openssh', '--comment', 'me@token']),
    ]);
    assert.ok(crypto.createPublicKey(pem.stdout).equals(key));
    assert.ok(
      crypto.createPublicKey({ key: Buffer.from(der.der, 'hex'), format: 'der', type: 'spki' }).equals(key),
    );
    assert.ok(crypto.createPublicKey({ key: jwk.jwk, format: 'jwk' }).equals(key));
    assert.equal(ssh.stdout, `${opensshPublicKey(key, 'me@token')}\n`);
  });

  test('EC and Ed25519 key pairs export as OpenSSH lines named after their curve', async (t) => {
    if (lacking(t, mechanisms, Mechanism.EC_KEY_PAIR_GEN)) return;
    const ec = await keygen('ec:P-256', 'ec', '--id', 'c11a02');
    assert.equal(ec.objects[1]?.curve, 'secp256r1');
    const line = (await p11(['export', '--id', 'c11a02', '--format', 'openssh'])).stdout;
    assert.equal(line, `${opensshPublicKey(crypto.createPublicKey(ec.publicKey!), `${PREFIX}ec`)}\n`);
    assert.match(line, /^ecdsa-sha2-nistp256 /);
    if (!mechanisms.has(Mechanism.EC_EDWARDS_KEY_PAIR_GEN)) return;
    const ed = await keygen('ed25519', 'ed', '--id', 'c11a03');
    assert.match(
      (await p11(['export', '--id', 'c11a03', '--format', 'openssh'])).stdout,
      /^ssh-ed25519 \S+ cli-keys-ed\n$/,
    );
    assert.equal(crypto.createPublicKey(ed.publicKey!).asymmetricKeyType, 'ed25519');
  });

  test('secret keys: AES and generic, with the usage asked for', async (t) => {
    if (lacking(t, mechanisms, Mechanism.AES_KEY_GEN, Mechanism.GENERIC_SECRET_KEY_GEN)) return;
    const aes = await keygen('aes:192', 'aes', '--usage', 'encrypt,decrypt');
    const generic = await keygen('generic:384', 'hmac', '--id', 'c11a04');
    assert.deepEqual(
      [aes.objects[0]?.keyType, aes.objects[0]?.bits, generic.objects[0]?.keyType, generic.objects[0]?.bits],
      ['CKK_AES', 192, 'CKK_GENERIC_SECRET', 384],
    );
    const [listed] = await p11Json<{ usage: string[] }[]>(['objects', '--id', aes.id]);
    assert.ok(listed?.usage.includes('encrypt') && !listed.usage.includes('sign'), `usage ${listed?.usage}`);
  });
});

describe('p11 sign and verify', () => {
  test('RSA PKCS#1 v1.5 and PSS signatures verify with node:crypto, and with p11 verify', async (t) => {
    if (lacking(t, mechanisms, Mechanism.RSA_PKCS_KEY_PAIR_GEN, Mechanism.RSA_PKCS)) return;
    const made = await keygen('rsa:2048', 'rsa-sign', '--id', 'c11b01');
    const key = crypto.createPublicKey(made.publicKey!);
    await Promise.all([
      p11(['sign', '--id', 'c11b01', '--in', dataFile, '--out', file('rsa.sig')]),
      p11([
        'sign',
        '--id',
        'c11b01',
        '--in',
        dataFile,
        '--out',
        file('pss.sig'),
        '--pss',
        '--hash',
        'sha384',
      ]),
    ]);
    const pss = { key, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 48 };
    assert.equal(crypto.verify('sha256', data, key, readFileSync(file('rsa.sig'))), true);
    assert.equal(crypto.verify('sha384', data, pss, readFileSync(file('pss.sig'))), true);
    const [plain, withPss, wrongHash] = await Promise.all([
      p11Json<{ valid: boolean }>([
        'verify',
        '--id',
        'c11b01',
        '--in',
        dataFile,
        '--signature',
        file('rsa.sig'),
      ]),
      p11Json<{ valid: boolean }>([
        'verify',
        '--id',
        'c11b01',
        '--in',
        dataFile,
        '--signature',
        file('pss.sig'),
        '--pss',
        '--hash',
        'sha384',
      ]),
      p11(['verify', '--id', 'c11b01', '--in', dataFile, '--signature', file('pss.sig'), '--json']),
    ]);
    assert.deepEqual([plain.valid, withPss.valid], [true, true]);
    assert.equal(wrongHash.code, 1, 'an invalid signature exits with 1');
    assert.deepEqual(wrongHash.json(), { valid: false });
  });

  test('ECDSA signatures are DER (or raw with --format raw) and verify with node:crypto', async (t) => {
    if (lacking(t, mechanisms, Mechanism.EC_KEY_PAIR_GEN, Mechanism.ECDSA)) return;
    const made = await keygen('ec:secp384r1', 'ec-sign', '--id', 'c11b02');
    const key = crypto.createPublicKey(made.publicKey!);
    const [der, raw, viaMechanism] = await Promise.all([
      p11(['sign', '--id', 'c11b02', '--in', dataFile, '--hash', 'sha384', '--encoding', 'base64']),
      p11Json<{ signature: string }>(['sign', '--id', 'c11b02', '--in', dataFile, '--format', 'raw']),
      p11Json<{ signature: string }>([
        'sign',
        '--id',
        'c11b02',
        '--in',
        dataFile,
        '--mechanism',
        'ecdsa-sha256',
      ]),
    ]);
    assert.equal(crypto.verify('sha384', data, key, Buffer.from(der.stdout, 'base64')), true);
    const p1363 = { key, dsaEncoding: 'ieee-p1363' as const };
    assert.equal(crypto.verify('sha256', data, p1363, Buffer.from(raw.signature, 'hex')), true);
    assert.equal(crypto.verify('sha256', data, p1363, Buffer.from(viaMechanism.signature, 'hex')), true);
    // p11 verify of a hex r||s file; a raw signature cut short is not valid (exit 1), not an error.
    const verifyRaw = (name: string, hex: string) => {
      writeFileSync(file(name), hex);
      const args = ['--in', dataFile, '--signature', file(name), '--encoding', 'hex', '--format', 'raw'];
      return p11(['verify', '--id', 'c11b02', ...args, '--json']);
    };
    const checked = await verifyRaw('ec.sig.hex', raw.signature);
    assert.deepEqual([checked.code, checked.json()], [0, { valid: true }], checked.stderr);
    const short = await verifyRaw('ec.short.hex', raw.signature.slice(0, -2));
    assert.deepEqual([short.code, short.json()], [1, { valid: false }], short.stderr);
  });

  test('Ed25519 and HMAC', async (t) => {
    if (lacking(t, mechanisms, Mechanism.EC_EDWARDS_KEY_PAIR_GEN, Mechanism.EDDSA, Mechanism.SHA256_HMAC))
      return;
    const ed = await keygen('ed25519', 'ed-sign', '--id', 'c11b03');
    await keygen('generic:256', 'hmac-sign', '--id', 'c11b04');
    const [edSig, mac] = await Promise.all([
      p11Json<{ signature: string }>(['sign', '--id', 'c11b03', '--in', dataFile]),
      p11(['sign', '--id', 'c11b04', '--in', dataFile, '--out', file('mac')]),
    ]);
    assert.equal(
      crypto.verify(null, data, crypto.createPublicKey(ed.publicKey!), Buffer.from(edSig.signature, 'hex')),
      true,
    );
    assert.equal(mac.code, 0, mac.stderr);
    writeFileSync(file('other-data'), 'other data');
    const [good, bad] = await Promise.all([
      p11Json<{ valid: boolean }>(['verify', '--id', 'c11b04', '--in', dataFile, '--signature', file('mac')]),
      p11(['verify', '--id', 'c11b04', '--in', file('other-data'), '--signature', file('mac'), '--json']),
    ]);
    assert.equal(good.valid, true);
    assert.deepEqual([bad.code, bad.json()], [1, { valid: false }]);
  });
});

describe('p11 encrypt, decrypt and derive', () => {
  test('RSA-OAEP: node:crypto encrypts with the exported key, the token decrypts', async (t) => {
    if (lacking(t, mechanisms, Mechanism.RSA_PKCS_KEY_PAIR_GEN, Mechanism.RSA_PKCS_OAEP)) return;
    const made = await keygen('rsa:2048', 'rsa-crypt', '--id', 'c11c01');
    const oaep = {
      key: crypto.createPublicKey(made.publicKey!),
      padding: crypto.constants.RSA_PKCS1_OAEP_PADDING,
      oaepHash: 'sha1',
    };
    writeFileSync(file('host.ct'), crypto.publicEncrypt(oaep, data));
    await p11(['encrypt', '--id', 'c11c01', '--in', dataFile, '--out', file('token.ct')]);
    const [fromHost, fromToken] = await Promise.all([
      p11(['decrypt', '--id', 'c11c01', '--in', file('host.ct')]),
      p11Json<{ plaintext: string }>(['decrypt', '--id', 'c11c01', '--in', file('token.ct')]),
    ]);
    assert.equal(fromHost.stdout, data.toString());
    assert.equal(Buffer.from(fromToken.plaintext, 'hex').toString(), data.toString());
  });

  test('AES: CBC with PKCS#7 padding by default, and GCM', async (t) => {
    if (lacking(t, mechanisms, Mechanism.AES_KEY_GEN, Mechanism.AES_CBC_PAD, Mechanism.AES_GCM)) return;
    await keygen('aes:256', 'aes-crypt', '--id', 'c11c02');
    await Promise.all([
      p11(['encrypt', '--id', 'c11c02', '--in', dataFile, '--out', file('cbc.ct')]),
      p11(['encrypt', '--id', 'c11c02', '--in', dataFile, '--out', file('gcm.ct'), '--mechanism', 'AES_GCM']),
    ]);
    assert.equal(readFileSync(file('cbc.ct')).length, 16 + 32, 'the IV, then two blocks');
    const [cbc, gcm] = await Promise.all([
      p11(['decrypt', '--id', 'c11c02', '--in', file('cbc.ct')]),
      p11(['decrypt', '--id', 'c11c02', '--in', file('gcm.ct'), '--mechanism', 'CKM_AES_GCM']),
    ]);
    assert.deepEqual([cbc.stdout, gcm.stdout], [data.toString(), data.toString()]);
  });

  test("ECDH: the secret derived in the token equals node:crypto's, and a derived key can stay on the token", async (t) => {
    if (lacking(t, mechanisms, Mechanism.EC_KEY_PAIR_GEN, Mechanism.ECDH1_DERIVE)) return;
    const made = await keygen('ec:P-256', 'ecdh', '--id', 'c11c03');
    const peer = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(file('peer.pem'), peer.publicKey.export({ format: 'pem', type: 'spki' }));
    const [secret, kept] = await Promise.all([
      p11(['derive', '--id', 'c11c03', '--peer', file('peer.pem'), '--out', '-', '--encoding', 'hex']),
      p11Json<{ class: string; keyType: string; bits: number; label: string }>([
        'derive',
        '--id',
        'c11c03',
        '--peer',
        file('peer.pem'),
        '--key-type',
        'aes:128',
        '--new-label',
        `${PREFIX}derived`,
      ]),
    ]);
    const expected = crypto.diffieHellman({
      privateKey: peer.privateKey,
      publicKey: crypto.createPublicKey(made.publicKey!),
    });
    assert.equal(secret.stdout.trim(), expected.toString('hex'));
    assert.deepEqual(kept, {
      ...kept,
      class: 'CKO_SECRET_KEY',
      keyType: 'CKK_AES',
      bits: 128,
      label: `${PREFIX}derived`,
    });
  });
});

describe('p11 import, csr, selfsign and delete', () => {
  test('a PEM private key comes in with its public key, and signs what node:crypto verifies', async (t) => {
    if (lacking(t, mechanisms, Mechanism.SHA256_RSA_PKCS)) return;
    const pair = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(file('rsa.key'), pair.privateKey.export({ format: 'pem', type: 'pkcs8' }));
    const imported = await p11Json<Made>([
      'import',
      file('rsa.key'),
      '--label',
      `${PREFIX}imported`,
      '--id',
      'c11d01',
    ]);
    assert.deepEqual(
      imported.objects.map((o) => o.class),
      ['CKO_PRIVATE_KEY', 'CKO_PUBLIC_KEY'],
    );
    assert.equal(imported.objects[0]?.flags.sensitive, true);
    const signed = await p11Json<{ signature: string }>(['sign', '--id', 'c11d01', '--in', dataFile]);
    assert.equal(crypto.verify('sha256', data, pair.publicKey, Buffer.from(signed.signature, 'hex')), true);
  });

  test('an encrypted PEM key (passphrase from the environment), a JWK and raw AES bytes', async (t) => {
    if (lacking(t, mechanisms, Mechanism.AES_CBC_PAD)) return;
    const ec = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const passphrase = 'a passphrase for the test';
    writeFileSync(
      file('ec.key'),
      ec.privateKey.export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase }),
    );
    writeFileSync(file('ec.jwk'), JSON.stringify(ec.publicKey.export({ format: 'jwk' })));
    const aes = crypto.randomBytes(32);
    writeFileSync(file('aes.bin'), aes);
    const wrong = await p11(['import', file('ec.key'), '--label', `${PREFIX}x`], {
      env: { PKCS11_KEY_PASSPHRASE: 'not this one' },
    });
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /^p11: the key file cannot be read \(wrong passphrase\?\)/);
    const encrypted = await p11Json<Made>(['import', file('ec.key'), '--label', `${PREFIX}enc`], {
      env: { PKCS11_KEY_PASSPHRASE: passphrase },
    });
    const jwk = await p11Json<Made>(['import', file('ec.jwk'), '--label', `${PREFIX}jwk`]);
    const raw = await p11Json<Made>([
      'import',
      file('aes.bin'),
      '--type',
      'aes',
      '--label',
      `${PREFIX}raw`,
      '--id',
      'c11d02',
    ]);
    assert.deepEqual(
      [encrypted.objects.length, jwk.objects[0]?.class, raw.objects[0]?.keyType],
      [2, 'CKO_PUBLIC_KEY', 'CKK_AES'],
    );
    const ct = await p11Json<{ ciphertext: string }>(['encrypt', '--id', 'c11d02', '--in', dataFile]);
    const bytes = Buffer.from(ct.ciphertext, 'hex');
    const decipher = crypto.createDecipheriv('aes-256-cbc', aes, bytes.subarray(0, 16));
    assert.deepEqual(Buffer.concat([decipher.update(bytes.subarray(16)), decipher.final()]), data);
  });

  test('csr and selfsign are signed in the token; selfsign --store links the certificate to its key', async (t) => {
    if (lacking(t, mechanisms, Mechanism.EC_KEY_PAIR_GEN, Mechanism.ECDSA)) return;
    const made = await keygen('ec:P-256', 'x509', '--id', 'c11e01');
    const csr = await p11Json<{ pem: string }>([
      'csr',
      '--id',
      'c11e01',
      '--subject',
      'CN=cli test, O=pkcs11-ts',
    ]);
    const request = new x509.Pkcs10CertificateRequest(csr.pem);
    assert.equal(await request.verify(), true);
    assert.equal(request.subject, 'CN=cli test, O=pkcs11-ts');
    const cert = await p11Json<{ pem: string; stored: { id: string } }>([
      'selfsign',
      '--id',
      'c11e01',
      '--subject',
      'CN=cli test CA',
      '--days',
      '10',
      '--store',
    ]);
    const parsed = new crypto.X509Certificate(cert.pem);
    assert.equal(parsed.verify(crypto.createPublicKey(made.publicKey!)), true);
    assert.equal(parsed.subject, 'CN=cli test CA');
    assert.equal(cert.stored.id, 'c11e01');
    const exported = await p11(['export', '--cert', '--id', 'c11e01']);
    assert.equal(new crypto.X509Certificate(exported.stdout).fingerprint256, parsed.fingerprint256);
    writeFileSync(file('cert.pem'), cert.pem);
    const again = await p11Json<{ id: string; idSource: string }>([
      'import',
      file('cert.pem'),
      '--label',
      `${PREFIX}cert-again`,
    ]);
    assert.deepEqual([again.id, again.idSource], ['c11e01', 'key']);
  });

  test('delete needs --yes without a terminal, then removes every object with the id', async (t) => {
    if (lacking(t, mechanisms, Mechanism.EC_KEY_PAIR_GEN)) return;
    await keygen('ec:P-256', 'doomed', '--id', 'c11f01');
    const refused = await p11(['delete', '--id', 'c11f01']);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /pass --yes/);
    assert.equal((await p11Json<unknown[]>(['objects', '--id', 'c11f01'])).length, 2);
    const deleted = await p11Json<{ deleted: { class: string }[] }>(['delete', '--id', 'c11f01', '--yes']);
    assert.deepEqual(deleted.deleted.map((o) => o.class).sort(), ['CKO_PRIVATE_KEY', 'CKO_PUBLIC_KEY']);
    assert.deepEqual(await p11Json(['objects', '--id', 'c11f01']), []);
  });
});
