/**
 * Unsealing a file key inside the token, with the recipient's private key (it never leaves the
 * token): RSA-OAEP decryption (`C_Decrypt` with CKM_RSA_PKCS_OAEP), or ECDH derivation
 * (`C_DeriveKey` with CKM_ECDH1_DERIVE, or the cofactor variant where the token offers only that)
 * with the file's ephemeral public key, then HKDF and key unwrap on the host (kek.ts).
 */
import { Attribute, KeyType, Mechanism, ReturnValue } from '../sys/constants.js';
import { nameOf } from '../sys/names.js';
import { Pkcs11Error } from '../core/errors.js';
import { equalBytes } from '../util/der.js';
import { lookupCurve } from '../util/curves.js';
import { decodeX509PublicKey } from '../util/x509.js';
import { PrivateKey } from '../model/keys.js';
import { ecdhSecret } from '../model/ecdh.js';
import { FileEncryptionError } from './errors.js';
import { type FileHeader, KeyProtection } from './format.js';
import { deriveKek, unwrapWithKek } from './kek.js';

/** Bytes of a file key (AES-256). */
export const FILE_KEY_SIZE = 32;

/**
 * Return codes of an OAEP decryption that mean "not encrypted for this key". SoftHSM2 2.6.1
 * reports a failed OAEP decoding as CKR_GENERAL_ERROR, so that one counts too (the message
 * still shows the code).
 */
const NOT_FOR_THIS_KEY = new Set<number>([
  ReturnValue.ENCRYPTED_DATA_INVALID,
  ReturnValue.ENCRYPTED_DATA_LEN_RANGE,
  ReturnValue.DATA_INVALID,
  ReturnValue.DATA_LEN_RANGE,
  ReturnValue.GENERAL_ERROR,
]);

/** The key type each protection needs. */
export function keyTypeFor(protection: KeyProtection): number {
  return protection === KeyProtection.ECDH_HKDF_SHA256 ? KeyType.EC : KeyType.RSA;
}

function wrongKey(detail: string, cause?: unknown): FileEncryptionError {
  return new FileEncryptionError(
    'wrong-key',
    `the file key could not be unwrapped with this key: ${detail}`,
    { cause },
  );
}

/**
 * The file key of `header`, recovered with the token private key `key`. A key of the wrong type
 * or curve, or one the file was not encrypted for, gives a `FileEncryptionError` with reason
 * `'wrong-key'`; other token failures stay `Pkcs11Error`s.
 *
 * @example
 * const fileKey = await unsealFileKey(header, await session.getKey({ objectClass: ObjectClass.PRIVATE_KEY, id: header.keyId }));
 */
export async function unsealFileKey(header: FileHeader, key: PrivateKey): Promise<Buffer> {
  if (!(key instanceof PrivateKey)) throw new TypeError('key must be a token PrivateKey');
  const wanted = keyTypeFor(header.protection);
  if (key.keyType !== wanted) {
    throw wrongKey(
      `the file is for a ${nameOf(KeyType, wanted)} key, this is a ${nameOf(KeyType, key.keyType)} key`,
    );
  }
  const fileKey =
    header.protection === KeyProtection.ECDH_HKDF_SHA256
      ? await unsealEcdh(header, key)
      : await unsealRsa(header, key);
  if (fileKey.length !== FILE_KEY_SIZE) {
    fileKey.fill(0);
    throw wrongKey(`it gives ${fileKey.length} bytes, not a ${FILE_KEY_SIZE}-byte file key`);
  }
  return fileKey;
}

async function unsealRsa(header: FileHeader, key: PrivateKey): Promise<Buffer> {
  const hashAlg = header.protection === KeyProtection.RSA_OAEP_SHA256 ? Mechanism.SHA256 : Mechanism.SHA_1;
  try {
    const plain = await key.decrypt(header.wrappedKey, {
      mechanism: Mechanism.RSA_PKCS_OAEP,
      mechanismParam: { hashAlg },
    });
    return Buffer.from(plain.buffer, plain.byteOffset, plain.byteLength);
  } catch (e) {
    if (e instanceof Pkcs11Error && NOT_FOR_THIS_KEY.has(e.rv))
      throw wrongKey(`${e.message} (another key, or a damaged header)`, e);
    throw e;
  }
}

async function unsealEcdh(header: FileHeader, key: PrivateKey): Promise<Buffer> {
  let ephemeral: Record<number, unknown>;
  try {
    ephemeral = decodeX509PublicKey(header.ephemeralKey, { encodeEcPoint: false });
  } catch (cause) {
    throw new FileEncryptionError('format', 'malformed header: the ephemeral public key cannot be read', {
      cause,
    });
  }
  const params = await key.get(Attribute.EC_PARAMS);
  if (!(params instanceof Uint8Array)) throw new TypeError('the EC key does not reveal its CKA_EC_PARAMS');
  const fileCurve = ephemeral[Attribute.EC_PARAMS] as Uint8Array;
  if (!equalBytes(fileCurve, params)) {
    throw wrongKey(`the file is for a key on ${curveName(fileCurve)}, this key is on ${curveName(params)}`);
  }
  const secret = await ecdhSecret(key, ephemeral[Attribute.EC_POINT] as Uint8Array, {
    byteLength: lookupCurve(params, 'key').fieldSize,
    mechanism: await ecdhMechanism(key),
  });
  const kek = deriveKek(secret, header.nonce, header.ephemeralKey);
  secret.fill(0);
  try {
    const fileKey = unwrapWithKek(kek, header.wrappedKey);
    if (fileKey === undefined)
      throw wrongKey('the key unwrap check failed (another key, or a damaged header)');
    return fileKey;
  } finally {
    kek.fill(0);
  }
}

/** A curve's name for messages. */
function curveName(params: Uint8Array): string {
  try {
    return lookupCurve(params, 'curve').name;
  } catch {
    return 'an unknown curve';
  }
}

/** The ECDH mechanism for `key`: plain ECDH1, or the cofactor variant where the token offers only that. */
async function ecdhMechanism(key: PrivateKey): Promise<number> {
  const offered = new Set(await key.session.token.slot.getMechanisms());
  return !offered.has(Mechanism.ECDH1_DERIVE) && offered.has(Mechanism.ECDH1_COFACTOR_DERIVE)
    ? Mechanism.ECDH1_COFACTOR_DERIVE
    : Mechanism.ECDH1_DERIVE;
}
