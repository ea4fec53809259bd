import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createHash, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Name } from '@peculiar/asn1-x509';
import { Attribute, CertificateType, KeyType, ObjectClass } from '../../src/sys/constants.js';
import {
  DerError,
  decodeDsaPublicKey,
  decodeEcPublicKey,
  decodeRsaPublicKey,
  decodeX509Certificate,
  decodeX509PublicKey,
} from '../../src/util/index.js';
import { readDer } from '../../src/util/der.js';
import { assertRejectsMalformed } from '../support/malformed-der.js';
import { openssl, selfSignedArgs } from '../support/openssl.js';

const dir = mkdtempSync(join(tmpdir(), 'pkcs11-ts-util-x509-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const run = (...args: string[]) => openssl(args, { cwd: dir });
const file = (name: string) => readFileSync(join(dir, name));
const sha1 = (bytes: Uint8Array) => new Uint8Array(createHash('sha1').update(bytes).digest());
const hexOf = (bytes: unknown) => Buffer.from(bytes as Uint8Array).toString('hex');

// A P-256 CA, an RSA leaf it signs (serial with the top bit set, so its INTEGER has a 00 pad), an Ed25519 self-signed one.
run(...selfSignedArgs('ec', '/CN=Test CA/O=pkcs11-ts', { keyOut: 'ca.key', out: 'ca.pem', days: 30 }));
run(
  'req',
  '-new',
  '-newkey',
  'rsa:2048',
  '-nodes',
  '-keyout',
  'leaf.key',
  '-out',
  'leaf.csr',
  '-subj',
  '/CN=leaf',
);
run(
  'x509',
  '-req',
  '-in',
  'leaf.csr',
  '-CA',
  'ca.pem',
  '-CAkey',
  'ca.key',
  '-set_serial',
  '0x8000000000000000000001',
  '-days',
  '10',
  '-out',
  'leaf.pem',
);
run(...selfSignedArgs('ed25519', '/CN=ed', { keyOut: 'ed.key', out: 'ed.pem', days: 5 }));
run('pkey', '-in', 'leaf.key', '-pubout', '-out', 'leaf.pub.pem');

const caPem = file('ca.pem').toString();
const leafPem = file('leaf.pem').toString();
const edPem = file('ed.pem').toString();
const derOf = (pem: string) => new Uint8Array(new X509Certificate(pem).raw);

/** A DER Name as node prints X509Certificate.subject: `CN=Test CA\nO=pkcs11-ts` (string values only). */
function nameText(der: unknown): string {
  const name = AsnConvert.parse(der as Uint8Array, Name);
  const short: Record<string, string> = { '2.5.4.3': 'CN', '2.5.4.10': 'O' };
  return name
    .flatMap((rdn) => rdn.map((atv) => `${short[atv.type] ?? atv.type}=${atv.value.toString()}`))
    .join('\n');
}

/** The subject key identifier as `openssl x509 -ext` prints it, lowercase hex without colons. */
function opensslSki(pem: string): string | undefined {
  const text = openssl(['x509', '-noout', '-ext', 'subjectKeyIdentifier'], { input: pem }).toString();
  const match = /^\s+([0-9A-F:]+)\s*$/m.exec(text);
  return match?.[1]!.replace(/:/g, '').toLowerCase();
}

describe('decodeX509Certificate', () => {
  for (const [label, pem] of [
    ['EC CA', caPem],
    ['RSA leaf', leafPem],
    ['Ed25519', edPem],
  ] as const) {
    test(`${label}: the template agrees with node's and openssl's reading`, () => {
      const node = new X509Certificate(pem);
      const t = decodeX509Certificate(pem);
      assert.equal(t[Attribute.CLASS], ObjectClass.CERTIFICATE);
      assert.equal(t[Attribute.CERTIFICATE_TYPE], CertificateType.X_509);
      assert.deepEqual(t[Attribute.VALUE], new Uint8Array(node.raw));
      assert.equal(nameText(t[Attribute.SUBJECT]), node.subject);
      assert.equal(nameText(t[Attribute.ISSUER]), node.issuer);
      const serial = readDer(t[Attribute.SERIAL_NUMBER] as Uint8Array, 'serial');
      assert.equal(serial.tag, 0x02);
      assert.equal(BigInt(`0x${hexOf(serial.content)}`), BigInt(`0x${node.serialNumber}`));
      assert.deepEqual(t[Attribute.START_DATE], new Date(node.validFrom));
      assert.deepEqual(t[Attribute.END_DATE], new Date(node.validTo));
      const spki = new Uint8Array(node.publicKey.export({ format: 'der', type: 'spki' }));
      assert.deepEqual(t[Attribute.PUBLIC_KEY_INFO], spki);
      const keyBits = readDer(spki, 'spki').children[1]!.content.subarray(1);
      assert.deepEqual(t[Attribute.HASH_OF_SUBJECT_PUBLIC_KEY], sha1(keyBits));
      assert.equal(Attribute.CHECK_VALUE in t, false, 'the token computes CKA_CHECK_VALUE itself');
      assert.equal(t[Attribute.ID] === undefined ? undefined : hexOf(t[Attribute.ID]), opensslSki(pem));
      assert.equal(t[Attribute.HASH_OF_ISSUER_PUBLIC_KEY], undefined);
    });
  }

  test('the serial keeps its DER sign byte, and the leaf names the CA as issuer', () => {
    const leaf = decodeX509Certificate(leafPem);
    assert.equal(hexOf(leaf[Attribute.SERIAL_NUMBER]), '020c00' + '8000000000000000000001');
    assert.deepEqual(leaf[Attribute.ISSUER], decodeX509Certificate(caPem)[Attribute.SUBJECT]);
  });

  test('with the issuer certificate, HASH_OF_ISSUER_PUBLIC_KEY is the issuer key hash', () => {
    const ca = decodeX509Certificate(caPem);
    assert.ok(ca[Attribute.ID] !== undefined, 'openssl req -x509 adds a subject key identifier');
    assert.deepEqual(
      ca[Attribute.ID],
      ca[Attribute.HASH_OF_SUBJECT_PUBLIC_KEY],
      "openssl's SKI is the SHA-1 of the key bits",
    );
    const leaf = decodeX509Certificate(file('leaf.pem'), { issuer: derOf(caPem) });
    assert.deepEqual(leaf[Attribute.HASH_OF_ISSUER_PUBLIC_KEY], ca[Attribute.HASH_OF_SUBJECT_PUBLIC_KEY]);
    const self = decodeX509Certificate(caPem, { issuer: caPem });
    assert.deepEqual(self[Attribute.HASH_OF_ISSUER_PUBLIC_KEY], ca[Attribute.HASH_OF_SUBJECT_PUBLIC_KEY]);
    assert.throws(() => decodeX509Certificate(leafPem, { issuer: edPem }), {
      name: 'TypeError',
      message: /options\.issuer: its subject is not the certificate's issuer/,
    });
  });

  test('reads DER, PEM strings, PEM bytes and `openssl x509 -text` output alike', () => {
    const expected = decodeX509Certificate(caPem);
    assert.deepEqual(decodeX509Certificate(derOf(caPem)), expected);
    assert.deepEqual(decodeX509Certificate(file('ca.pem')), expected);
    assert.deepEqual(decodeX509Certificate(run('x509', '-in', 'ca.pem', '-text')), expected);
  });

  test('refuses bundles, other PEM blocks, malformed DER and non-certificates', () => {
    assert.throws(() => decodeX509Certificate(caPem + leafPem), { name: 'DerError', message: /found 2/ });
    assert.throws(() => decodeX509Certificate(file('leaf.key').toString()), {
      name: 'DerError',
      message: /found 0/,
    });
    assertRejectsMalformed(derOf(leafPem), 'decodeX509Certificate', decodeX509Certificate);
    const spki = new Uint8Array(new X509Certificate(caPem).publicKey.export({ format: 'der', type: 'spki' }));
    assert.throws(() => decodeX509Certificate(spki), {
      name: 'DerError',
      message: /is not an X\.509 certificate/,
    });
    assert.throws(() => decodeX509Certificate(42 as never), TypeError);
  });
});

describe('decodeX509PublicKey', () => {
  const spkiOf = (pem: string) =>
    new Uint8Array(new X509Certificate(pem).publicKey.export({ format: 'der', type: 'spki' }));

  test('EC, RSA and Ed25519 certificates give the public-key templates of their keys', () => {
    assert.deepEqual(decodeX509PublicKey(caPem), decodeEcPublicKey(spkiOf(caPem)));
    assert.deepEqual(
      decodeX509PublicKey(derOf(caPem), { encodeEcPoint: false }),
      decodeEcPublicKey(spkiOf(caPem), { encodeEcPoint: false }),
    );
    assert.deepEqual(decodeX509PublicKey(leafPem), decodeRsaPublicKey(spkiOf(leafPem)));
    const ed = decodeX509PublicKey(edPem);
    assert.equal(ed[Attribute.KEY_TYPE], KeyType.EC_EDWARDS);
    assert.deepEqual(ed, decodeEcPublicKey(spkiOf(edPem)));
  });

  test('accepts a bare SubjectPublicKeyInfo, PEM or DER, DSA included', () => {
    const expected = decodeRsaPublicKey(spkiOf(leafPem));
    assert.deepEqual(decodeX509PublicKey(file('leaf.pub.pem').toString()), expected);
    assert.deepEqual(decodeX509PublicKey(spkiOf(leafPem)), expected);
    const dsa = generateKeyPairSync('dsa', { modulusLength: 1024, divisorLength: 160 }).publicKey;
    const dsaSpki = new Uint8Array(dsa.export({ format: 'der', type: 'spki' }));
    assert.deepEqual(
      decodeX509PublicKey(dsa.export({ format: 'pem', type: 'spki' }) as string),
      decodeDsaPublicKey(dsaSpki),
    );
  });

  test('refuses unsupported algorithms, ambiguous PEM and malformed DER', () => {
    const dh = generateKeyPairSync('dh' as 'x25519', { group: 'modp14' } as object).publicKey;
    assert.throws(() => decodeX509PublicKey(new Uint8Array(dh.export({ format: 'der', type: 'spki' }))), {
      name: 'RangeError',
      message: /unsupported public key algorithm 1\.2\.840\.113549\.1\.3\.1/,
    });
    assert.throws(() => decodeX509PublicKey(caPem + file('leaf.pub.pem').toString()), DerError);
    assertRejectsMalformed(derOf(caPem), 'decodeX509PublicKey', decodeX509PublicKey);
    assertRejectsMalformed(spkiOf(leafPem), 'decodeX509PublicKey', decodeX509PublicKey);
    assert.throws(() => decodeX509PublicKey(caPem, { encodeEcPoint: 1 as never }), TypeError);
  });
});
