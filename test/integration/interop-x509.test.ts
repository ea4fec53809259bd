// interop, X.509: certificate requests and self-signed certificates signed inside the token, for
// RSA (PKCS#1 v1.5 and PSS), ECDSA on each seed curve and Ed25519, checked by node:crypto's
// X509Certificate and by openssl; and certificates stored next to their keys by CKA_ID.
import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type SigningAlgorithm,
  createCsr,
  createSelfSignedCertificate,
  importCertificate,
  storeCertificate,
  toCryptoKeyPair,
  toKeyObject,
  tokenCrypto,
} from '../../src/interop/index.js';
import * as x509 from '@peculiar/x509';
import { Attribute, CertificateType, Mechanism, ObjectClass } from '../../src/sys/constants.js';
import type { KeyPair } from '../../src/model/index.js';
import { type Fixture, lacks, openFixture } from '../support/token.js';
import { KEY_KINDS, type KeyKind, tokenKeyPair } from '../support/key-kinds.js';

/** One signature algorithm to make requests and certificates with. */
interface Case {
  readonly title: string;
  readonly kind: KeyKind;
  readonly signingAlgorithm?: SigningAlgorithm;
  /** What openssl calls the signature algorithm. */
  readonly openssl: RegExp;
  /** A mechanism the token must list (beyond key generation and the raw signature mechanism). */
  readonly needs?: number;
}

const CASES: readonly Case[] = [
  { title: 'RSA PKCS#1 v1.5', kind: KEY_KINDS[0]!, openssl: /sha256WithRSAEncryption/ },
  {
    title: 'RSA-PSS',
    kind: KEY_KINDS[0]!,
    signingAlgorithm: { name: 'RSA-PSS', hash: 'SHA-256', saltLength: 32 },
    openssl: /rsassaPss/i,
    needs: Mechanism.RSA_PKCS_PSS,
  },
  ...KEY_KINDS.filter((k) => k.title.startsWith('EC ')).map((kind) => ({
    title: `ECDSA ${kind.spec}`,
    kind,
    openssl: new RegExp(`ecdsa-with-${kind.hash!.toUpperCase()}`),
  })),
  { title: 'Ed25519', kind: KEY_KINDS.at(-1)!, openssl: /ED25519/ },
];

let opensslMissing: boolean | undefined;

/** Runs openssl in `cwd`; undefined (and the test skipped) when there is no openssl. */
function openssl(
  t: TestContext,
  cwd: string,
  args: string[],
): { status: number | null; output: string } | undefined {
  opensslMissing ??= spawnSync('openssl', ['version']).error !== undefined;
  if (opensslMissing) {
    t.skip('openssl is not installed');
    return undefined;
  }
  const run = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

describe('interop: X.509', () => {
  let fx: Fixture;
  let dir: string;
  before(async () => {
    fx = await openFixture();
    dir = mkdtempSync(join(tmpdir(), 'pkcs11-ts-x509-'));
  });
  after(async () => {
    await fx?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const c of CASES) {
    test(`${c.title}: CSR and self-signed certificate verify with node:crypto and openssl`, async (t) => {
      if (c.needs !== undefined && lacks(t, fx, c.needs)) return;
      const pair = await tokenKeyPair(t, fx, c.kind);
      if (!pair) return;
      const subject = `CN=${c.title}, O=pkcs11-ts`;
      const csr = await createCsr(pair.privateKey, pair.publicKey, {
        subject,
        signingAlgorithm: c.signingAlgorithm,
        extensions: [new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature)],
      });
      const spki = (await toKeyObject(pair.publicKey)).export({ format: 'der', type: 'spki' });
      assert.deepEqual(Buffer.from(csr.publicKey.rawData), spki);
      assert.equal(csr.subject, subject);

      const cert = await createSelfSignedCertificate(pair.privateKey, pair.publicKey, {
        subject,
        serialNumber: '0102',
        notBefore: new Date(Date.now() - 60_000),
        notAfter: new Date(Date.now() + 86_400_000),
        signingAlgorithm: c.signingAlgorithm,
        extensions: [
          new x509.BasicConstraintsExtension(true, undefined, true),
          new x509.KeyUsagesExtension(
            x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.digitalSignature,
            true,
          ),
        ],
      });
      const nodeCert = new crypto.X509Certificate(cert.toString('pem'));
      assert.equal(nodeCert.verify(await toKeyObject(pair.publicKey)), true);
      assert.equal(nodeCert.checkIssued(nodeCert), true);
      assert.equal(nodeCert.serialNumber, '0102');
      assert.match(nodeCert.subject, new RegExp(`CN=${c.title}`));
      const broken = Buffer.from(cert.rawData);
      broken[broken.length - 5]! ^= 0x40;
      assert.equal(new crypto.X509Certificate(broken).verify(await toKeyObject(pair.publicKey)), false);

      const name = c.title.replace(/\W+/g, '-');
      writeFileSync(join(dir, `${name}.csr`), csr.toString('pem'));
      writeFileSync(join(dir, `${name}.pem`), cert.toString('pem'));
      const req = openssl(t, dir, ['req', '-verify', '-in', `${name}.csr`, '-noout', '-text']);
      if (!req) return;
      assert.equal(req.status, 0, req.output);
      assert.match(req.output, /verify OK/i);
      assert.match(req.output, c.openssl);
      const verify = openssl(t, dir, ['verify', '-CAfile', `${name}.pem`, `${name}.pem`]);
      assert.equal(verify?.status, 0, verify?.output);
      assert.match(verify!.output, new RegExp(`${name}.pem: OK`));
    });
  }

  describe('certificates on the token', () => {
    const ec = KEY_KINDS.find((k) => k.spec === 'secp256r1')!;

    async function selfSigned(pair: KeyPair, subject: string): Promise<x509.X509Certificate> {
      return createSelfSignedCertificate(pair.privateKey, pair.publicKey, { subject });
    }

    test('storeCertificate puts the certificate next to its key, with its CKA_ID', async (t) => {
      const id = Uint8Array.of(0x11, 0x22, 0x33);
      const pair = await tokenKeyPair(t, fx, ec, { id });
      if (!pair) return;
      const cert = await selfSigned(pair, 'CN=stored');
      const stored = await storeCertificate(pair.privateKey, cert, { label: 'stored' });
      try {
        assert.equal(stored.idSource, 'key');
        assert.deepEqual(new Uint8Array(stored.id), id);
        const attrs = await stored.certificate.getAttributes([
          Attribute.CLASS,
          Attribute.CERTIFICATE_TYPE,
          Attribute.ID,
          Attribute.LABEL,
          Attribute.TOKEN,
          Attribute.VALUE,
          Attribute.SUBJECT,
          Attribute.CHECK_VALUE,
        ]);
        assert.equal(attrs[Attribute.CLASS], ObjectClass.CERTIFICATE);
        assert.equal(attrs[Attribute.CERTIFICATE_TYPE], CertificateType.X_509);
        assert.deepEqual(new Uint8Array(attrs[Attribute.ID] as Uint8Array), id);
        assert.equal(attrs[Attribute.LABEL], 'stored');
        assert.equal(attrs[Attribute.TOKEN], true);
        assert.deepEqual(Buffer.from(attrs[Attribute.VALUE] as Uint8Array), Buffer.from(cert.rawData));
        assert.deepEqual(
          Buffer.from(attrs[Attribute.SUBJECT] as Uint8Array),
          Buffer.from(cert.subjectName.toArrayBuffer()),
        );
        const found = await fx.session.getKey({ objectClass: ObjectClass.CERTIFICATE, id });
        assert.equal(found.handle, stored.certificate.handle);
      } finally {
        await stored.certificate.destroy();
      }
    });

    test('importCertificate takes the CKA_ID of the matching key, the caller’s, or the public key hash', async (t) => {
      const id = Uint8Array.of(0x44, 0x55);
      const pair = await tokenKeyPair(t, fx, ec, { id });
      if (!pair) return;
      const pem = (await selfSigned(pair, 'CN=imported')).toString('pem');
      const matched = await importCertificate(fx.session, pem, { store: false });
      assert.equal(matched.idSource, 'key');
      assert.deepEqual(new Uint8Array(matched.id), id);
      const given = await importCertificate(fx.session, pem, { store: false, id: Uint8Array.of(7) });
      assert.equal(given.idSource, 'option');
      assert.deepEqual(
        new Uint8Array((await given.certificate.get(Attribute.ID)) as Uint8Array),
        Uint8Array.of(7),
      );

      const loose = await tokenKeyPair(t, fx, ec);
      if (!loose) return;
      const orphan = await importCertificate(fx.session, (await selfSigned(loose, 'CN=orphan')).rawData, {
        store: false,
      });
      assert.equal(orphan.idSource, 'public-key-hash');
      // A P-256 SubjectPublicKeyInfo ends with the 65-byte point, the subjectPublicKey bits.
      const point = (await toKeyObject(loose.publicKey))
        .export({ format: 'der', type: 'spki' })
        .subarray(-65);
      assert.deepEqual(Buffer.from(orphan.id), crypto.createHash('sha1').update(point).digest());
      assert.deepEqual(
        new Uint8Array((await orphan.certificate.get(Attribute.ID)) as Uint8Array),
        new Uint8Array(orphan.id),
      );
    });

    test('storeCertificate gives a key without CKA_ID the public key hash, and refuses another key’s certificate', async (t) => {
      const pair = await tokenKeyPair(t, fx, ec);
      const other = await tokenKeyPair(t, fx, ec, { id: Uint8Array.of(0x66) });
      if (!pair || !other) return;
      const cert = await selfSigned(pair, 'CN=no id yet');
      await assert.rejects(storeCertificate(other.privateKey, cert, { store: false }), /another key/);
      await assert.rejects(storeCertificate(other.publicKey, cert, { store: false }), /another key/);
      const stored = await storeCertificate(pair.publicKey, cert, { store: false });
      assert.equal(stored.idSource, 'public-key-hash');
      assert.deepEqual(
        new Uint8Array((await pair.publicKey.get(Attribute.ID)) as Uint8Array),
        new Uint8Array(stored.id),
      );
      await assert.rejects(storeCertificate({} as never, cert), TypeError);
      await assert.rejects(importCertificate(fx.session, 42 as never), TypeError);
    });

    test('@peculiar/x509 itself, with tokenCrypto as its provider, signs with token keys', async (t) => {
      const pair = await tokenKeyPair(t, fx, ec);
      if (!pair) return;
      const previous = x509.cryptoProvider.get();
      x509.cryptoProvider.set(tokenCrypto);
      try {
        const keys = await toCryptoKeyPair(pair, 'ECDSA');
        const cert = await x509.X509CertificateGenerator.createSelfSigned({
          name: 'CN=provider',
          keys,
          signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' } as never,
          extensions: [await x509.SubjectKeyIdentifierExtension.create(keys.publicKey)],
        });
        assert.equal(
          new crypto.X509Certificate(cert.toString('pem')).verify(await toKeyObject(pair.publicKey)),
          true,
        );
        assert.equal(await cert.verify({ signatureOnly: true }), true);
      } finally {
        x509.cryptoProvider.set(previous);
      }
    });

    test('bad options are refused', async (t) => {
      const pair = await tokenKeyPair(t, fx, ec);
      if (!pair) return;
      await assert.rejects(createCsr(pair.privateKey, pair.publicKey, { subject: '' }), TypeError);
      await assert.rejects(
        createCsr(pair.publicKey as never, pair.publicKey, { subject: 'CN=x' }),
        TypeError,
      );
      await assert.rejects(
        createSelfSignedCertificate(pair.privateKey, pair.publicKey, {
          subject: 'CN=x',
          serialNumber: 'xyz',
        }),
        TypeError,
      );
      await assert.rejects(
        createSelfSignedCertificate(pair.privateKey, pair.publicKey, {
          subject: 'CN=x',
          signingAlgorithm: { name: 'RSA-PSS' },
        }),
        TypeError,
      );
    });
  });
});
