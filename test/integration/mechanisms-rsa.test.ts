// RSA mechanisms against node:crypto: PKCS#1 v1.5 encryption and signatures, OAEP, PSS (hashed and
// raw, with the defaults that match the hash). A node-made key imported into the token lets node
// hold the private half, so token encryption is checked by node decryption and signatures byte for byte.
import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { ULONG_SIZE, writeULong } from '../../src/sys/abi.js';
import { KeyType, MGF, Mechanism, ReturnValue } from '../../src/sys/constants.js';
import type { PrivateKey, PublicKey } from '../../src/model/index.js';
import { HASHED_SIGNATURES } from '../../src/model/hashes.js';
import { cannotImport, importRefused } from '../support/key-capabilities.js';
import { importPrivateKey, importPublicKey, nodePublicKey } from '../support/keys.js';
import {
  type Fixture,
  lacks,
  lacksAll,
  openFixture,
  PARAMETER_REFUSED,
  unlessRefused,
} from '../support/token.js';

const data = Buffer.from('RSA mechanisms, checked by node:crypto');
const PKCS1 = [...HASHED_SIGNATURES.values()].filter(
  (s) => s.scheme === 'pkcs1' && s.hash.name.startsWith('SHA-'),
);
const PSS = [...HASHED_SIGNATURES.values()].filter(
  (s) => s.scheme === 'pss' && s.hash.name.startsWith('SHA-'),
);

describe('RSA mechanisms', () => {
  let fx: Fixture;
  let pub: PublicKey;
  let priv: PrivateKey;
  let nodePub: crypto.KeyObject;
  /**
   * A node-made pair: node keeps the private key, the token gets a copy of each half where it takes
   * one (a test that needs a copy checks with `cannotImport` first).
   */
  const nodePair = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  let imported: PrivateKey | undefined;
  let importedPub: PublicKey | undefined;

  before(async () => {
    fx = await openFixture();
    ({ publicKey: pub, privateKey: priv } = await fx.session.generateKeypair(KeyType.RSA, 2048));
    nodePub = await nodePublicKey(pub);
    if (!(await importRefused(fx.session, 'RSA private')))
      imported = await importPrivateKey(fx.session, nodePair.privateKey);
    if (!(await importRefused(fx.session, 'RSA public')))
      importedPub = await importPublicKey(fx.session, nodePair.publicKey);
  });
  after(() => fx?.close());

  test('PKCS#1 v1.5: node encrypts with the exported key, the token decrypts; and back through the token', async (t) => {
    if (lacks(t, fx, Mechanism.RSA_PKCS)) return;
    const crypttext = crypto.publicEncrypt(
      { key: nodePub, padding: crypto.constants.RSA_PKCS1_PADDING },
      data,
    );
    assert.deepEqual(Buffer.from(await priv.decrypt(crypttext, { mechanism: Mechanism.RSA_PKCS })), data);
    const own = await pub.encrypt(data, { mechanism: Mechanism.RSA_PKCS });
    assert.equal(own.byteLength, 256);
    assert.deepEqual(Buffer.from(await priv.decrypt(own, { mechanism: Mechanism.RSA_PKCS })), data);
  });

  test('PKCS#1 v1.5 signatures with SHA-1 to SHA-512 equal node’s, byte for byte, and verify both ways', async (t) => {
    for (const s of PKCS1) {
      await t.test(s.hash.name, async (st) => {
        if (lacksAll(st, fx, s.mechanism, Mechanism.RSA_PKCS)) return;
        const tokenSig = await priv.sign(data, { mechanism: s.mechanism });
        assert.equal(tokenSig.byteLength, 256);
        assert.equal(crypto.verify(s.hash.node, data, nodePub, tokenSig), true);
        assert.equal(await pub.verify(data, tokenSig, { mechanism: s.mechanism }), true);
        assert.equal(
          await pub.verify(data, crypto.sign(s.hash.node, data, nodePair.privateKey), {
            mechanism: s.mechanism,
          }),
          false,
        );
        // Byte for byte: node's key, copied into the token, signs there as node does.
        if (await cannotImport(st, fx.session, 'RSA private', 'RSA public')) return;
        const sig = await (imported as PrivateKey).sign(data, { mechanism: s.mechanism });
        assert.deepEqual(Buffer.from(sig), crypto.sign(s.hash.node, data, nodePair.privateKey));
        assert.equal(await (importedPub as PublicKey).verify(data, sig, { mechanism: s.mechanism }), true);
      });
    }
  });

  test('OAEP: the default is SHA-1 / MGF1-SHA-1, and node decrypts it', async (t) => {
    if (lacks(t, fx, Mechanism.RSA_PKCS_OAEP)) return;
    if (await cannotImport(t, fx.session, 'RSA public')) return;
    const crypttext = await (importedPub as PublicKey).encrypt(data);
    assert.deepEqual(crypto.privateDecrypt({ key: nodePair.privateKey, oaepHash: 'sha1' }, crypttext), data);
    const fromNode = crypto.publicEncrypt({ key: nodePub, oaepHash: 'sha1' }, data);
    assert.deepEqual(Buffer.from(await priv.decrypt(fromNode)), data);
  });

  /** OAEP encryption by the token checked by node's decryption, and node's encryption decrypted by the token. */
  async function oaepBothWays(t: TestContext, hashAlg: number, node: string, label?: Buffer): Promise<void> {
    const options = { mechanism: Mechanism.RSA_PKCS_OAEP, mechanismParam: { hashAlg, sourceData: label } };
    // One OAEP entry in the mechanism list says nothing about the hashes and labels it takes:
    // SoftHSM2 2.6.1 does SHA-1 without a label only and refuses the rest with CKR_ARGUMENTS_BAD;
    // other tokens say CKR_MECHANISM_PARAM_INVALID, or CKR_MECHANISM_INVALID for a hash they lack
    // (tpm2-pkcs11). What the token refuses is not its to test.
    const what = `OAEP with ${node}${label ? ' and a label' : ''}`;
    if (await cannotImport(t, fx.session, 'RSA public')) return;
    const refused = [...PARAMETER_REFUSED, ReturnValue.MECHANISM_INVALID];
    const crypttext = await unlessRefused(t, refused, `the token refuses ${what}`, () =>
      (importedPub as PublicKey).encrypt(data, options),
    );
    if (crypttext === undefined) return;
    assert.deepEqual(
      crypto.privateDecrypt({ key: nodePair.privateKey, oaepHash: node, oaepLabel: label }, crypttext),
      data,
    );
    const fromNode = crypto.publicEncrypt({ key: nodePub, oaepHash: node, oaepLabel: label }, data);
    // A token may encrypt with a label and still not decrypt with one: tpm2-pkcs11 1.9 encrypts (on
    // the host) and then fails the decryption in the TPM with CKR_GENERAL_ERROR.
    const decryptRefused = label ? [...refused, ReturnValue.GENERAL_ERROR] : refused;
    const decrypted = await unlessRefused(t, decryptRefused, `the token cannot decrypt ${what}`, () =>
      priv.decrypt(fromNode, options),
    );
    if (decrypted !== undefined) assert.deepEqual(Buffer.from(decrypted), data);
  }

  test('OAEP with SHA-1 to SHA-512, where the token supports the hash', async (t) => {
    if (lacks(t, fx, Mechanism.RSA_PKCS_OAEP)) return;
    for (const [hashAlg, node] of [
      [Mechanism.SHA_1, 'sha1'],
      [Mechanism.SHA224, 'sha224'],
      [Mechanism.SHA256, 'sha256'],
      [Mechanism.SHA384, 'sha384'],
      [Mechanism.SHA512, 'sha512'],
    ] as const) {
      await t.test(node, (st) => oaepBothWays(st, hashAlg, node));
    }
  });

  test('OAEP with a label, where the token supports labels', async (t) => {
    if (lacks(t, fx, Mechanism.RSA_PKCS_OAEP)) return;
    await oaepBothWays(t, Mechanism.SHA_1, 'sha1', Buffer.from('context label'));
  });

  test('PSS with SHA-1 to SHA-512: the defaults match the hash (salt = digest length)', async (t) => {
    for (const s of PSS) {
      await t.test(s.hash.name, async (st) => {
        if (lacksAll(st, fx, s.mechanism, Mechanism.RSA_PKCS_PSS)) return;
        const pss = { padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: s.hash.size };
        // With RSA_PKCS_PSS alone, the hash is the host's and the token is told which in the parameter.
        const sig = await unlessRefused(
          st,
          PARAMETER_REFUSED,
          `the token refuses PSS with ${s.hash.name}`,
          () => priv.sign(data, { mechanism: s.mechanism }),
        );
        if (!sig) return;
        assert.equal(crypto.verify(s.hash.node, data, { key: nodePub, ...pss }, sig), true);
        // A salt of another length proves the default was the digest length, not whatever node would accept.
        assert.equal(
          crypto.verify(s.hash.node, data, { key: nodePub, ...pss, saltLength: s.hash.size + 1 }, sig),
          false,
        );
        if (await cannotImport(st, fx.session, 'RSA public')) return;
        const nodeSig = crypto.sign(s.hash.node, data, { key: nodePair.privateKey, ...pss });
        const nodeKey = importedPub as PublicKey;
        assert.equal(await nodeKey.verify(data, nodeSig, { mechanism: s.mechanism }), true);
        assert.equal(
          await nodeKey.verify(Buffer.from('tampered'), nodeSig, { mechanism: s.mechanism }),
          false,
        );
      });
    }
  });

  test('raw RSA_PKCS_PSS takes its hash from the digest length', async (t) => {
    if (lacks(t, fx, Mechanism.RSA_PKCS_PSS)) return;
    for (const node of ['sha1', 'sha256', 'sha384', 'sha512']) {
      const digest = crypto.createHash(node).update(data).digest();
      const sig = await priv.sign(digest, { mechanism: Mechanism.RSA_PKCS_PSS });
      const pss = {
        key: nodePub,
        padding: crypto.constants.RSA_PKCS1_PSS_PADDING,
        saltLength: digest.length,
      };
      assert.equal(crypto.verify(node, data, pss, sig), true, node);
      assert.equal(await pub.verify(digest, sig, { mechanism: Mechanism.RSA_PKCS_PSS }), true);
    }
  });

  test('a PSS parameter given as raw bytes reaches the token unchanged', async (t) => {
    if (lacks(t, fx, Mechanism.SHA256_RSA_PKCS_PSS)) return;
    // CK_RSA_PKCS_PSS_PARAMS { hashAlg, mgf, sLen } written by hand, with a 5-byte salt.
    const raw = Buffer.alloc(3 * ULONG_SIZE);
    writeULong(raw, 0, Mechanism.SHA256);
    writeULong(raw, ULONG_SIZE, MGF.SHA256);
    writeULong(raw, 2 * ULONG_SIZE, 5);
    const sig = await unlessRefused(t, PARAMETER_REFUSED, 'the token refuses a 5-byte PSS salt', () =>
      priv.sign(data, { mechanism: Mechanism.SHA256_RSA_PKCS_PSS, mechanismParam: raw }),
    );
    if (!sig) return;
    const pss = { key: nodePub, padding: crypto.constants.RSA_PKCS1_PSS_PADDING };
    assert.equal(crypto.verify('sha256', data, { ...pss, saltLength: 5 }, sig), true);
    assert.equal(crypto.verify('sha256', data, { ...pss, saltLength: 32 }, sig), false);
  });
});
