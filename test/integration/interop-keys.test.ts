// interop, keys: token public keys out to node:crypto (SPKI, PEM, JWK, KeyObject), node:crypto keys
// into the token (KeyObject, PEM, JWK; RSA, EC, Ed25519, AES, HMAC), and token private keys as
// node-style signers. Every result is checked by node:crypto, for RSA and each seed curve.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { Attribute, KeyType, Mechanism } from '../../src/sys/constants.js';
import { curveInfo } from '../../src/util/index.js';
import { PrivateKey, PublicKey, SecretKey } from '../../src/model/index.js';
import { TokenSigner, exportPublicKey, importKey, toKeyObject } from '../../src/interop/index.js';
import { type Fixture, PARAMETER_REFUSED, lacks, openFixture, unlessRefused } from '../support/token.js';
import { type ImportKind, cannotImport } from '../support/key-capabilities.js';
import {
  KEY_KINDS,
  type KeyKind,
  familyOf,
  lacksKind,
  nodeKeyPair,
  tokenKeyPair,
  withKind,
} from '../support/key-kinds.js';

const data = Buffer.from('interop: signed in the token, checked by node:crypto');
const tampered = Buffer.from('interop: signed in the token, checked by node:crypto!');

/** The mechanism that verifies a signature of `kind` over `data` on the token (hashed on the host if need be). */
function verifyMechanism(kind: KeyKind): number {
  if (kind.keyType === KeyType.EC_EDWARDS) return Mechanism.EDDSA;
  const ecdsa = {
    sha256: Mechanism.ECDSA_SHA256,
    sha384: Mechanism.ECDSA_SHA384,
    sha512: Mechanism.ECDSA_SHA512,
  };
  return kind.keyType === KeyType.RSA ? Mechanism.SHA256_RSA_PKCS : ecdsa[kind.hash as keyof typeof ecdsa];
}

describe('interop: keys', () => {
  let fx: Fixture;
  before(async () => {
    fx = await openFixture();
  });
  after(() => fx?.close());

  for (const kind of KEY_KINDS) {
    test(`${kind.title}: the exported public key loads in node:crypto and verifies the token's signature`, async (t) => {
      const pair = await tokenKeyPair(t, fx, kind);
      if (!pair) return;
      const spki = await exportPublicKey(pair.publicKey, 'spki-der');
      assert.ok(spki instanceof Uint8Array);
      const fromDer = crypto.createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
      const pem = await exportPublicKey(pair.publicKey, 'pem');
      assert.match(pem, /^-----BEGIN PUBLIC KEY-----\n/);
      const keyObject = await toKeyObject(pair.publicKey);
      assert.ok(keyObject.equals(fromDer) && keyObject.equals(crypto.createPublicKey(pem)));
      assert.equal(keyObject.type, 'public');
      if (kind.keyType === KeyType.EC) {
        const namedCurve = keyObject.asymmetricKeyDetails?.namedCurve;
        assert.equal(curveInfo(namedCurve!).oid, curveInfo(kind.spec as string).oid);
      }
      if (kind.spec === 'brainpoolP256r1') {
        await assert.rejects(exportPublicKey(pair.publicKey, 'jwk'), RangeError);
      } else {
        const jwk = await exportPublicKey(pair.publicKey, 'jwk');
        assert.ok(crypto.createPublicKey({ key: jwk, format: 'jwk' }).equals(keyObject));
      }

      const signer = new TokenSigner(pair.privateKey);
      const signature = await signer.sign(data, kind.hash);
      assert.equal(crypto.verify(kind.hash, data, keyObject, signature), true);
      assert.equal(crypto.verify(kind.hash, tampered, keyObject, signature), false);
      if (kind.keyType === KeyType.EC) {
        const raw = await signer.sign(data, { hash: kind.hash, dsaEncoding: 'ieee-p1363' });
        assert.equal(raw.length, 2 * curveInfo(kind.spec as string).orderSize);
        assert.equal(
          crypto.verify(kind.hash, data, { key: keyObject, dsaEncoding: 'ieee-p1363' }, raw),
          true,
        );
      }
    });

    test(`${kind.title}: a node:crypto key imports into the token, signs there and verifies there`, async (t) => {
      const family = familyOf(kind);
      if (lacksKind(t, fx, kind)) return;
      if (await cannotImport(t, fx.session, `${family} private`, `${family} public`)) return;
      const node = nodeKeyPair(kind);
      const priv = await withKind(t, fx, kind, () =>
        importKey(fx.session, node.privateKey, { label: 'imported' }),
      );
      if (!priv) return;
      assert.ok(priv instanceof PrivateKey);
      const secretPart = kind.keyType === KeyType.RSA ? Attribute.PRIVATE_EXPONENT : Attribute.VALUE;
      const attrs = await priv.getAttributes([
        Attribute.KEY_TYPE,
        Attribute.SENSITIVE,
        Attribute.EXTRACTABLE,
        Attribute.PRIVATE,
        Attribute.TOKEN,
        Attribute.SIGN,
        Attribute.LABEL,
        secretPart,
      ]);
      assert.equal(attrs[Attribute.KEY_TYPE], kind.keyType);
      assert.equal(attrs[Attribute.SENSITIVE], true);
      assert.equal(attrs[Attribute.EXTRACTABLE], false);
      assert.equal(attrs[Attribute.PRIVATE], true);
      assert.equal(attrs[Attribute.TOKEN], false);
      assert.equal(attrs[Attribute.SIGN], true);
      assert.equal(attrs[Attribute.LABEL], 'imported');
      assert.equal(attrs[secretPart], undefined, 'the private value must not be readable');

      const signature = await new TokenSigner(priv).sign(data, kind.hash);
      assert.equal(crypto.verify(kind.hash, data, node.publicKey, signature), true);

      const pub = await importKey(fx.session, node.publicKey);
      assert.ok(pub instanceof PublicKey);
      assert.ok((await toKeyObject(pub)).equals(node.publicKey));
      const nodeSignature = crypto.sign(kind.hash, data, { key: node.privateKey, dsaEncoding: 'ieee-p1363' });
      const mechanism = verifyMechanism(kind);
      assert.equal(await pub.verify(data, nodeSignature, { mechanism }), true);
      assert.equal(await pub.verify(tampered, nodeSignature, { mechanism }), false);
    });
  }

  test('RSA: PSS signatures verify with node:crypto, with the digest-length and the maximum salt', async (t) => {
    const kind = KEY_KINDS[0]!;
    if (lacks(t, fx, Mechanism.SHA256_RSA_PKCS_PSS)) return;
    const pair = await tokenKeyPair(t, fx, kind);
    if (!pair) return;
    const keyObject = await toKeyObject(pair.publicKey);
    const signer = new TokenSigner(pair.privateKey);
    const pss = crypto.constants.RSA_PKCS1_PSS_PADDING;
    const digestSalt = await signer.sign(data, { hash: 'SHA-256', padding: 'pss' });
    const verifyWith = (saltLength: number, sig: Uint8Array) =>
      crypto.verify('sha256', data, { key: keyObject, padding: pss, saltLength }, sig);
    assert.equal(verifyWith(32, digestSalt), true);
    const maxSalt = await unlessRefused(t, PARAMETER_REFUSED, 'the token refuses the maximum PSS salt', () =>
      signer.sign(data, {
        hash: 'sha256',
        padding: pss,
        saltLength: crypto.constants.RSA_PSS_SALTLEN_MAX_SIGN,
      }),
    );
    if (!maxSalt) return;
    assert.equal(verifyWith(256 - 32 - 2, maxSalt), true);
    assert.equal(verifyWith(32, maxSalt), false);
  });

  test('RSA: node:crypto encrypts with the exported key (PKCS#1 v1.5), the token decrypts', async (t) => {
    if (lacks(t, fx, Mechanism.RSA_PKCS)) return;
    const pair = await tokenKeyPair(t, fx, KEY_KINDS[0]!);
    if (!pair) return;
    const key = await toKeyObject(pair.publicKey);
    const crypttext = crypto.publicEncrypt({ key, padding: crypto.constants.RSA_PKCS1_PADDING }, data);
    assert.deepEqual(
      Buffer.from(await pair.privateKey.decrypt(crypttext, { mechanism: Mechanism.RSA_PKCS })),
      data,
    );
  });

  test('PEM input: PKCS#8, PKCS#1, SEC1, encrypted PKCS#8 and public keys', async (t) => {
    const rsa = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const ec = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pems: [string, crypto.KeyObject, string, ImportKind][] = [
      [
        'PKCS#8',
        rsa.publicKey,
        rsa.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string,
        'RSA private',
      ],
      [
        'PKCS#1',
        rsa.publicKey,
        rsa.privateKey.export({ format: 'pem', type: 'pkcs1' }) as string,
        'RSA private',
      ],
      ['SEC1', ec.publicKey, ec.privateKey.export({ format: 'pem', type: 'sec1' }) as string, 'EC private'],
    ];
    for (const [title, publicKey, pem, kind] of pems) {
      await t.test(title, async (st) => {
        if (await cannotImport(st, fx.session, kind)) return;
        const key = await importKey(fx.session, pem);
        assert.ok(key instanceof PrivateKey);
        const sig = await new TokenSigner(key).sign(data);
        assert.equal(crypto.verify('sha256', data, publicKey, sig), true);
      });
    }
    await t.test('encrypted PKCS#8 with its passphrase', async (st) => {
      if (await cannotImport(st, fx.session, 'EC private')) return;
      const encrypted = ec.privateKey.export({
        format: 'pem',
        type: 'pkcs8',
        cipher: 'aes-256-cbc',
        passphrase: 'secret words',
      }) as string;
      const key = await importKey(fx.session, encrypted, { passphrase: 'secret words' });
      assert.equal(
        crypto.verify('sha256', data, ec.publicKey, await new TokenSigner(key as PrivateKey).sign(data)),
        true,
      );
      await assert.rejects(importKey(fx.session, encrypted, { passphrase: 'wrong' }), (e: Error) => {
        assert.ok(e instanceof TypeError);
        assert.doesNotMatch(e.message, /wrong/);
        return true;
      });
    });
    await t.test('public key PEM', async (st) => {
      if (await cannotImport(st, fx.session, 'RSA public')) return;
      const key = await importKey(
        fx.session,
        rsa.publicKey.export({ format: 'pem', type: 'spki' }) as string,
      );
      assert.ok(key instanceof PublicKey);
      assert.ok((await toKeyObject(key)).equals(rsa.publicKey));
    });
  });

  test('JWK input: EC private and public keys', async (t) => {
    if (await cannotImport(t, fx.session, 'EC private', 'EC public')) return;
    const ec = crypto.generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const priv = await importKey(fx.session, ec.privateKey.export({ format: 'jwk' }));
    const sig = await new TokenSigner(priv as PrivateKey).sign(data, 'sha384');
    assert.equal(crypto.verify('sha384', data, ec.publicKey, sig), true);
    const pub = await importKey(fx.session, ec.publicKey.export({ format: 'jwk' }));
    assert.deepEqual(await exportPublicKey(pub, 'jwk'), ec.publicKey.export({ format: 'jwk' }));
  });

  test('store and extractable options reach the token', async (t) => {
    if (await cannotImport(t, fx.session, 'EC private')) return;
    const ec = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const key = await importKey(fx.session, ec.privateKey, {
      store: true,
      extractable: true,
      id: Uint8Array.of(9, 9),
    });
    try {
      const attrs = await key.getAttributes([
        Attribute.TOKEN,
        Attribute.EXTRACTABLE,
        Attribute.SENSITIVE,
        Attribute.ID,
      ]);
      assert.equal(attrs[Attribute.TOKEN], true);
      assert.equal(attrs[Attribute.EXTRACTABLE], true);
      assert.equal(attrs[Attribute.SENSITIVE], true);
      assert.deepEqual(new Uint8Array(attrs[Attribute.ID] as Uint8Array), Uint8Array.of(9, 9));
    } finally {
      await key.destroy();
    }
  });

  test('AES: a secret KeyObject and an A256GCM JWK import as AES keys; node decrypts what the token encrypts', async (t) => {
    if (lacks(t, fx, Mechanism.AES_CBC_PAD, Mechanism.AES_GCM)) return;
    if (await cannotImport(t, fx.session, 'AES')) return;
    const value = crypto.randomBytes(32);
    const aes = await importKey(fx.session, crypto.createSecretKey(value), { keyType: KeyType.AES });
    assert.ok(aes instanceof SecretKey);
    assert.equal(aes.keyType, KeyType.AES);
    assert.equal(await aes.get(Attribute.VALUE), undefined, 'an imported secret stays sensitive');
    const iv = crypto.randomBytes(16);
    const cbc = await aes.encrypt(data, { mechanism: Mechanism.AES_CBC_PAD, mechanismParam: iv });
    const decipher = crypto.createDecipheriv('aes-256-cbc', value, iv);
    assert.deepEqual(Buffer.concat([decipher.update(cbc), decipher.final()]), data);

    const jwk = { kty: 'oct', k: value.toString('base64url'), alg: 'A256GCM' };
    const fromJwk = (await importKey(fx.session, jwk)) as SecretKey;
    assert.equal(fromJwk.keyType, KeyType.AES);
    const nonce = crypto.randomBytes(12);
    const gcm = await fromJwk.encrypt(data, {
      mechanism: Mechanism.AES_GCM,
      mechanismParam: { iv: nonce, tagBits: 128 },
    });
    const gcmDecipher = crypto.createDecipheriv('aes-256-gcm', value, nonce);
    gcmDecipher.setAuthTag(gcm.subarray(gcm.length - 16));
    assert.deepEqual(
      Buffer.concat([gcmDecipher.update(gcm.subarray(0, gcm.length - 16)), gcmDecipher.final()]),
      data,
    );
  });

  test('HMAC: a generic secret (from a KeyObject or an HS256 JWK) MACs as node:crypto does', async (t) => {
    if (lacks(t, fx, Mechanism.SHA256_HMAC)) return;
    if (await cannotImport(t, fx.session, 'GENERIC_SECRET')) return;
    const value = crypto.randomBytes(32);
    const expected = crypto.createHmac('sha256', value).update(data).digest();
    const key = await importKey(fx.session, crypto.createSecretKey(value), {
      keyType: KeyType.GENERIC_SECRET,
    });
    assert.deepEqual(
      Buffer.from(await (key as SecretKey).sign(data, { mechanism: Mechanism.SHA256_HMAC })),
      expected,
    );
    const jwk = await importKey(fx.session, { kty: 'oct', k: value.toString('base64url'), alg: 'HS256' });
    assert.equal((jwk as SecretKey).keyType, KeyType.GENERIC_SECRET);
    assert.deepEqual(
      Buffer.from(await (jwk as SecretKey).sign(data, { mechanism: Mechanism.SHA256_HMAC })),
      expected,
    );
  });

  test('bad input is refused before the token sees it', async (t) => {
    const secret = crypto.createSecretKey(crypto.randomBytes(32));
    await assert.rejects(importKey(fx.session, secret), /options\.keyType is required/);
    await assert.rejects(
      importKey(fx.session, crypto.createSecretKey(crypto.randomBytes(20)), { keyType: KeyType.AES }),
      RangeError,
    );
    await assert.rejects(importKey(fx.session, 42 as never), TypeError);
    await assert.rejects(importKey(fx.session, 'not a key'), /not PEM text/);
    await assert.rejects(importKey(fx.session, { kty: 'oct' }), /needs "k"/);
    const ec = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    await assert.rejects(importKey(fx.session, ec.privateKey, { keyType: KeyType.RSA }), /options\.keyType/);
    await assert.rejects(importKey(fx.session, ec.privateKey, { extractable: 'yes' as never }), TypeError);
    // Keys of the token, of the wrong kind for what they are given to.
    if (lacks(t, fx, Mechanism.EC_KEY_PAIR_GEN)) return;
    const { publicKey: pub, privateKey: priv } = await fx.session.generateKeypair(KeyType.EC, 'secp256r1');
    await assert.rejects(exportPublicKey(pub, 'der' as never), RangeError);
    await assert.rejects(exportPublicKey('key' as never, 'pem'), TypeError);
    assert.throws(() => new TokenSigner(pub as never), TypeError);
    // A private key exports its public key only when it holds the public part (some tokens keep the
    // point with the private half); else the caller is told to pass the public key.
    const held = await priv.getAttributes([Attribute.EC_POINT, Attribute.PUBLIC_KEY_INFO]);
    if (Object.values(held).some((v) => v instanceof Uint8Array && v.length > 0))
      assert.equal(await exportPublicKey(priv, 'pem'), await exportPublicKey(pub, 'pem'));
    else await assert.rejects(exportPublicKey(priv, 'pem'), /pass its public key/);
    await assert.rejects(new TokenSigner(priv).sign(data, 'md5'), RangeError);
    await assert.rejects(new TokenSigner(priv).sign(data, { dsaEncoding: 'raw' as never }), RangeError);
  });
});
