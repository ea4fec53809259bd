import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import {
  createDiffieHellman,
  createDiffieHellmanGroup,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { Attribute, KeyType, ObjectClass } from '../../src/sys/constants.js';
import {
  decodeDhDomainParameters,
  decodeDhPublicKey,
  decodeDsaDomainParameters,
  decodeDsaPublicKey,
  decodeDsaSignature,
  decodeX942DhDomainParameters,
  encodeDhDomainParameters,
  encodeDhPublicKey,
  encodeDsaDomainParameters,
  encodeDsaPublicKey,
  encodeDsaSignature,
  encodeX942DhDomainParameters,
} from '../../src/util/index.js';
import { encodeTlv } from '../../src/util/der.js';
import { derFromPem } from '../../src/util/pem.js';
import { encodeSpki, parseSpki } from '../../src/util/spki.js';
import { assertRejectsMalformed } from '../support/malformed-der.js';

const spkiOf = (key: KeyObject) => new Uint8Array(key.export({ format: 'der', type: 'spki' }));
const openssl = (...args: string[]) =>
  new Uint8Array(execFileSync('openssl', args, { stdio: ['ignore', 'pipe', 'ignore'] }));
const fixture = (name: string) => readFileSync(new URL(`../fixtures/util/${name}`, import.meta.url), 'utf8');
const intDer = (bytes: Uint8Array) =>
  encodeTlv(0x02, bytes[0]! >= 0x80 ? Uint8Array.from([0, ...bytes]) : bytes);
const seq = (...items: Uint8Array[]) => encodeTlv(0x30, Uint8Array.from(items.flatMap((i) => [...i])));

const dsa = generateKeyPairSync('dsa', { modulusLength: 2048, divisorLength: 256 });
const dsaSpki = spkiOf(dsa.publicKey);

describe('DSA', () => {
  test('SubjectPublicKeyInfo decodes to PRIME, SUBPRIME, BASE, VALUE and encodes back byte for byte', async () => {
    const t = decodeDsaPublicKey(dsaSpki);
    assert.equal(t[Attribute.CLASS], ObjectClass.PUBLIC_KEY);
    assert.equal(t[Attribute.KEY_TYPE], KeyType.DSA);
    assert.equal((t[Attribute.PRIME] as Uint8Array).length, 256);
    assert.equal((t[Attribute.SUBPRIME] as Uint8Array).length, 32);
    assert.deepEqual(await encodeDsaPublicKey(t), dsaSpki);
    const key = {
      getAttributes: async (a: readonly number[]) => Object.fromEntries(a.map((n) => [n, t[n]])),
    };
    assert.deepEqual(await encodeDsaPublicKey(key), dsaSpki);
    const loaded = createPublicKey({
      key: Buffer.from(await encodeDsaPublicKey(t)),
      format: 'der',
      type: 'spki',
    });
    assert.deepEqual(loaded.asymmetricKeyDetails, { modulusLength: 2048, divisorLength: 256 });
  });

  test('domain parameters round-trip with OpenSSL dsaparam output and with the key', async () => {
    const der = openssl('dsaparam', '-outform', 'DER', '1024');
    const t = decodeDsaDomainParameters(der);
    assert.equal(t[Attribute.CLASS], ObjectClass.DOMAIN_PARAMETERS);
    assert.equal(t[Attribute.KEY_TYPE], KeyType.DSA);
    assert.deepEqual(await encodeDsaDomainParameters(t), der);
    const key = decodeDsaPublicKey(dsaSpki);
    const params = decodeDsaDomainParameters(await encodeDsaDomainParameters(key));
    for (const a of [Attribute.PRIME, Attribute.SUBPRIME, Attribute.BASE])
      assert.deepEqual(params[a], key[a]);
  });

  test('signatures convert between node DER and IEEE P1363, padded to the size of q', () => {
    const q = decodeDsaPublicKey(dsaSpki)[Attribute.SUBPRIME] as Uint8Array;
    const data = Buffer.from('Data to sign');
    const derSig = new Uint8Array(sign('sha256', data, { key: dsa.privateKey, dsaEncoding: 'der' }));
    const raw = decodeDsaSignature(derSig, q);
    assert.equal(raw.length, 64);
    assert.ok(verify('sha256', data, { key: dsa.publicKey, dsaEncoding: 'ieee-p1363' }, raw));
    assert.deepEqual(encodeDsaSignature(raw), derSig);
    const p1363 = new Uint8Array(sign('sha256', data, { key: dsa.privateKey, dsaEncoding: 'ieee-p1363' }));
    assert.ok(verify('sha256', data, { key: dsa.publicKey, dsaEncoding: 'der' }, encodeDsaSignature(p1363)));
    assert.deepEqual(decodeDsaSignature(encodeDsaSignature(p1363), 32), p1363);
  });

  test('a signature whose r or s has a leading zero byte comes back at full size', () => {
    const found = { r: false, s: false };
    for (let i = 0; i < 20000 && !(found.r && found.s); i++) {
      const data = Buffer.from(`msg ${i}`);
      const p1363 = new Uint8Array(sign('sha256', data, { key: dsa.privateKey, dsaEncoding: 'ieee-p1363' }));
      const part = p1363[0] === 0 && !found.r ? 'r' : p1363[32] === 0 && !found.s ? 's' : undefined;
      if (part === undefined) continue;
      found[part] = true;
      const raw = decodeDsaSignature(encodeDsaSignature(p1363), 32);
      assert.deepEqual(raw, p1363);
      assert.ok(verify('sha256', data, { key: dsa.publicKey, dsaEncoding: 'ieee-p1363' }, raw));
    }
    assert.ok(found.r && found.s);
  });

  test('q is required to decode a signature; r and s must fit it', () => {
    const derSig = encodeDsaSignature(new Uint8Array(64).fill(0x11));
    assert.throws(() => decodeDsaSignature(derSig, undefined as never), {
      name: 'TypeError',
      message: /subprime is required/,
    });
    assert.throws(() => decodeDsaSignature(derSig, 20), {
      name: 'RangeError',
      message: /r is longer than 20 bytes/,
    });
    assert.throws(() => decodeDsaSignature(derSig, -1), RangeError);
    assertRejectsMalformed(derSig, 'decodeDsaSignature', (b) => decodeDsaSignature(b, 32));
  });

  test('refuses malformed DER, X9.42 parameters (g and q swapped), absent parameters and other keys', async () => {
    assertRejectsMalformed(dsaSpki, 'decodeDsaPublicKey', decodeDsaPublicKey);
    const dsaParams = await encodeDsaDomainParameters(decodeDsaPublicKey(dsaSpki));
    assertRejectsMalformed(dsaParams, 'decodeDsaDomainParameters', decodeDsaDomainParameters);
    const x942 = derFromPem(
      fixture('x942-dh-params-with-validation.pem'),
      ['X9.42 DH PARAMETERS'],
      'fixture',
    );
    const x = decodeX942DhDomainParameters(x942) as Record<number, Uint8Array>;
    const swapped = seq(
      intDer(x[Attribute.PRIME]!),
      intDer(x[Attribute.BASE]!),
      intDer(x[Attribute.SUBPRIME]!),
    );
    assert.throws(() => decodeDsaDomainParameters(swapped), {
      name: 'DerError',
      message: /q does not divide p - 1/,
    });
    const inherited = encodeSpki({ ...parseSpki(dsaSpki, 'test'), parameters: undefined });
    assert.throws(() => decodeDsaPublicKey(inherited), {
      name: 'RangeError',
      message: /has no domain parameters/,
    });
    const rsa = spkiOf(generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey);
    assert.throws(() => decodeDsaPublicKey(rsa), { name: 'RangeError', message: /is not a DSA key/ });
    await assert.rejects(
      encodeDsaPublicKey({ [Attribute.VALUE]: Uint8Array.of(1) }),
      /the key has no CKA_PRIME/,
    );
    await assert.rejects(
      encodeDsaDomainParameters({ [Attribute.KEY_TYPE]: KeyType.DH }),
      /expected a key of type CKK_DSA/,
    );
  });
});

describe('DH (PKCS#3)', () => {
  test('node DH keys: the SPKI parameters and public value decode to what node reports', async () => {
    // @types/node lists no 'dh' overload; node generates DH keys all the same.
    const { publicKey } = generateKeyPairSync('dh' as 'x25519', { group: 'modp14' } as object);
    const spki = parseSpki(spkiOf(publicKey), 'test');
    const params = decodeDhDomainParameters(spki.parameters!);
    assert.equal(params[Attribute.KEY_TYPE], KeyType.DH);
    const group = createDiffieHellmanGroup('modp14');
    assert.deepEqual(params[Attribute.PRIME], new Uint8Array(group.getPrime()));
    assert.deepEqual(params[Attribute.BASE], new Uint8Array(group.getGenerator()));
    assert.deepEqual(await encodeDhDomainParameters(params), spki.parameters);
    const y = decodeDhPublicKey(spki.publicKey);
    assert.deepEqual(await encodeDhPublicKey({ [Attribute.VALUE]: y }), spki.publicKey);
  });

  test('public values round-trip; leading zeros are dropped and a sign byte added', async () => {
    const dh = createDiffieHellman(512);
    dh.generateKeys();
    const y = new Uint8Array(dh.getPublicKey());
    const der = await encodeDhPublicKey({ [Attribute.KEY_TYPE]: KeyType.DH, [Attribute.VALUE]: y });
    assert.deepEqual(decodeDhPublicKey(der), y.subarray(y.findIndex((b) => b !== 0)));
    assert.deepEqual(
      await encodeDhPublicKey({ [Attribute.VALUE]: Uint8Array.of(0, 0, 0x80) }),
      Uint8Array.of(2, 2, 0, 0x80),
    );
    assertRejectsMalformed(der, 'decodeDhPublicKey', decodeDhPublicKey);
    assert.throws(() => decodeDhPublicKey(Uint8Array.of(2, 1, 0x80)), {
      name: 'DerError',
      message: /y must be a positive INTEGER/,
    });
  });

  test('OpenSSL dhparam output round-trips; privateValueLength is accepted but an X9.42 triple is refused', async () => {
    const p = new Uint8Array(createDiffieHellman(512).getPrime());
    const der = seq(intDer(p), intDer(Uint8Array.of(2)));
    assert.deepEqual(await encodeDhDomainParameters(decodeDhDomainParameters(der)), der);
    const withLength = seq(intDer(p), intDer(Uint8Array.of(2)), intDer(Uint8Array.of(1, 0)));
    assert.deepEqual(decodeDhDomainParameters(withLength), decodeDhDomainParameters(der));
    const x942 = openssl('dhparam', '-outform', 'DER', '-dsaparam', '512');
    assert.throws(() => decodeDhDomainParameters(x942), { name: 'DerError', message: /X9\.42 parameters\?/ });
    assert.equal(decodeX942DhDomainParameters(x942)[Attribute.KEY_TYPE], KeyType.X9_42_DH);
    // (An INTEGER appended to p, g would be a valid privateValueLength, so the variants start from three.)
    assertRejectsMalformed(withLength, 'decodeDhDomainParameters', decodeDhDomainParameters);
  });
});

describe('X9.42 DH', () => {
  test('RFC 5114 parameters from OpenSSL round-trip byte for byte', async () => {
    const pem = execFileSync('openssl', [
      'genpkey',
      '-genparam',
      '-algorithm',
      'DHX',
      '-pkeyopt',
      'dh_rfc5114:2',
    ]).toString();
    const der = derFromPem(pem, ['X9.42 DH PARAMETERS'], 'test');
    const t = decodeX942DhDomainParameters(der);
    assert.equal(t[Attribute.CLASS], ObjectClass.DOMAIN_PARAMETERS);
    assert.equal(t[Attribute.KEY_TYPE], KeyType.X9_42_DH);
    assert.equal((t[Attribute.SUBPRIME] as Uint8Array).length, 28);
    assert.deepEqual(await encodeX942DhDomainParameters(t), der);
  });

  test('validation parameters are accepted and left out; DSA parameters (q and g swapped) are refused', async () => {
    const der = derFromPem(fixture('x942-dh-params-with-validation.pem'), ['X9.42 DH PARAMETERS'], 'fixture');
    const t = decodeX942DhDomainParameters(der);
    const again = await encodeX942DhDomainParameters(t);
    assert.ok(again.length < der.length);
    assert.deepEqual(decodeX942DhDomainParameters(again), t);
    const dsaParams = await encodeDsaDomainParameters(decodeDsaPublicKey(dsaSpki));
    assert.throws(() => decodeX942DhDomainParameters(dsaParams), {
      name: 'DerError',
      message: /q does not divide p - 1/,
    });
    assertRejectsMalformed(der, 'decodeX942DhDomainParameters', decodeX942DhDomainParameters);
    await assert.rejects(
      encodeX942DhDomainParameters({ ...t, [Attribute.KEY_TYPE]: KeyType.DH }),
      /expected a key of type CKK_X9_42_DH/,
    );
  });
});
