/**
 * Keys for the integration tests that node:crypto must be able to check: token public keys as
 * KeyObjects, node-made keys imported into the token (so node holds the private half, or knows the
 * secret, and can check both ways), and node-made ECDH peers with the secret node derives.
 *
 * @example
 * const key = await importSecretKey(session, KeyType.AES, value);
 * const peer = nodeEcdhPeer('prime256v1');
 * const derived = await pair.privateKey.deriveKey(KeyType.GENERIC_SECRET, 256, {
 *   mechanismParam: [KDF.NULL, null, peer.point], template: READABLE });
 * assert.deepEqual(await valueOf(derived), await peer.secretWith(pair.publicKey));
 */
import crypto from 'node:crypto';
import { Attribute, KeyType, ObjectClass } from '../../src/sys/constants.js';
import type { Template } from '../../src/core/template.js';
import type { Key, PrivateKey, PublicKey, SecretKey, Session } from '../../src/model/index.js';
import {
  decodeEcPrivateKey,
  decodeEcPublicKey,
  decodeRsaPrivateKey,
  decodeRsaPublicKey,
  encodeEcPublicKey,
  encodeRsaPublicKey,
} from '../../src/util/index.js';

/** Attributes that let a derived or imported secret be read back for comparison. */
export const READABLE: Template = { [Attribute.SENSITIVE]: false, [Attribute.EXTRACTABLE]: true };

/** A token public key as a node:crypto KeyObject (RSA through PKCS#1, EC and EdDSA through SPKI). */
export async function nodePublicKey(key: PublicKey): Promise<crypto.KeyObject> {
  if (key.keyType === KeyType.RSA) {
    return crypto.createPublicKey({
      key: Buffer.from(await encodeRsaPublicKey(key)),
      format: 'der',
      type: 'pkcs1',
    });
  }
  return crypto.createPublicKey({
    key: Buffer.from(await encodeEcPublicKey(key)),
    format: 'der',
    type: 'spki',
  });
}

/** Imports a node-made RSA or EC private key as a session object that can sign, decrypt, unwrap and derive. */
export async function importPrivateKey(session: Session, key: crypto.KeyObject): Promise<PrivateKey> {
  const der = key.export({ format: 'der', type: 'pkcs8' });
  const template = (
    key.asymmetricKeyType === 'rsa' ? decodeRsaPrivateKey(der) : decodeEcPrivateKey(der)
  ) as Template;
  const usage =
    key.asymmetricKeyType === 'rsa'
      ? { [Attribute.SIGN]: true, [Attribute.DECRYPT]: true, [Attribute.UNWRAP]: true }
      : { [Attribute.SIGN]: true, [Attribute.DERIVE]: true };
  return (await session.createObject({
    ...template,
    ...usage,
    [Attribute.TOKEN]: false,
    [Attribute.SENSITIVE]: true,
  })) as PrivateKey;
}

/** Imports a node-made RSA, EC or EdDSA public key as a session object that can verify (and, for RSA, encrypt and wrap). */
export async function importPublicKey(session: Session, key: crypto.KeyObject): Promise<PublicKey> {
  const spki = key.export({ format: 'der', type: 'spki' });
  const rsa = key.asymmetricKeyType === 'rsa';
  const template = (rsa ? decodeRsaPublicKey(spki) : decodeEcPublicKey(spki)) as Template;
  const usage = rsa ? { [Attribute.ENCRYPT]: true, [Attribute.WRAP]: true } : {};
  return (await session.createObject({
    ...template,
    ...usage,
    [Attribute.TOKEN]: false,
    [Attribute.VERIFY]: true,
  })) as PublicKey;
}

/** Imports known secret-key bytes as a session object with every usage, readable back. */
export async function importSecretKey(
  session: Session,
  keyType: number,
  value: Uint8Array,
): Promise<SecretKey> {
  const usage = [
    Attribute.ENCRYPT,
    Attribute.DECRYPT,
    Attribute.SIGN,
    Attribute.VERIFY,
    Attribute.WRAP,
    Attribute.UNWRAP,
    Attribute.DERIVE,
  ];
  return (await session.createObject({
    [Attribute.CLASS]: ObjectClass.SECRET_KEY,
    [Attribute.KEY_TYPE]: keyType,
    [Attribute.TOKEN]: false,
    [Attribute.VALUE]: value,
    ...Object.fromEntries(usage.map((a) => [a, true])),
    ...READABLE,
  })) as SecretKey;
}

/** The CKA_VALUE of a key made readable with {@link READABLE}. */
export async function valueOf(key: Key): Promise<Buffer> {
  const value = await key.get(Attribute.VALUE);
  if (!(value instanceof Uint8Array)) throw new Error('the key value could not be read');
  return Buffer.from(value);
}

/** A node-made key agreement peer: its public point as ECDH1_DERIVE takes it, and the secret node agrees. */
export interface EcdhPeer {
  /** The peer's public point, raw (not DER-wrapped). */
  readonly point: Uint8Array;
  /** The secret node:crypto derives with a token public key of the same curve. */
  secretWith(publicKey: PublicKey): Promise<Buffer>;
}

/** A fresh node:crypto ECDH peer on `namedCurve` (OpenSSL's name, e.g. 'prime256v1'; 'x25519' for X25519). */
export function nodeEcdhPeer(namedCurve: string): EcdhPeer {
  const peer =
    namedCurve === 'x25519'
      ? crypto.generateKeyPairSync('x25519')
      : crypto.generateKeyPairSync('ec', { namedCurve });
  const spki = peer.publicKey.export({ format: 'der', type: 'spki' });
  return {
    point: decodeEcPublicKey(spki, { encodeEcPoint: false })[Attribute.EC_POINT] as Uint8Array,
    secretWith: async (publicKey) =>
      crypto.diffieHellman({ privateKey: peer.privateKey, publicKey: await nodePublicKey(publicKey) }),
  };
}
