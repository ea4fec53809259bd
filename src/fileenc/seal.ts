/**
 * Sealing a file key for its recipient, on the host, with the recipient's public key only (the
 * SmartCard-HSM way: public-key work happens on the computer):
 *
 * - RSA: RSA-OAEP encryption of the file key (SHA-1 by default, SHA-256 on request);
 * - EC: an ephemeral key pair on the recipient's curve, ECDH with the recipient's public key, a
 *   key-encryption key by HKDF-SHA256 (kek.ts), and the file key wrapped under it.
 */
import { type KeyObject, constants, diffieHellman, generateKeyPairSync, publicEncrypt } from 'node:crypto';
import { KeyProtection } from './format.js';
import { deriveKek, wrapWithKek } from './kek.js';

/** The OAEP hashes the format knows. */
export type OaepHash = 'sha1' | 'sha256';

/** Whom a file is encrypted for: a public key and the CKA_ID of its token key. */
export interface Recipient {
  /** The RSA or EC public key. */
  readonly publicKey: KeyObject;
  /** CKA_ID of the token key pair, written to the header so decryption finds the private key. */
  readonly keyId: Uint8Array;
  /** RSA only: the OAEP hash, default `'sha1'` (the one OAEP every token does, SoftHSM2 included). */
  readonly oaepHash?: OaepHash;
}

/** The header fields that protect the file key. */
export interface SealedKey {
  readonly protection: KeyProtection;
  readonly ephemeralKey: Uint8Array;
  readonly wrappedKey: Uint8Array;
}

/** Checks a recipient before anything is encrypted; TypeError/RangeError naming the field. */
export function checkRecipient(recipient: Recipient): void {
  if (recipient === null || typeof recipient !== 'object') throw new TypeError('recipient must be an object');
  const { publicKey, keyId, oaepHash } = recipient;
  if (publicKey === null || typeof publicKey !== 'object' || publicKey.type !== 'public') {
    throw new TypeError('recipient.publicKey must be a public KeyObject');
  }
  if (publicKey.asymmetricKeyType !== 'rsa' && publicKey.asymmetricKeyType !== 'ec') {
    throw new RangeError(`recipient.publicKey must be an RSA or EC key, not ${publicKey.asymmetricKeyType}`);
  }
  if (!(keyId instanceof Uint8Array)) throw new TypeError('recipient.keyId must be a Uint8Array');
  if (oaepHash !== undefined && oaepHash !== 'sha1' && oaepHash !== 'sha256') {
    throw new RangeError("recipient.oaepHash must be 'sha1' or 'sha256'");
  }
}

/**
 * Protects `fileKey` for `recipient`. `nonce` is the header's base nonce (the HKDF salt for EC).
 *
 * @example
 * const sealed = sealFileKey({ publicKey, keyId }, fileKey, nonce); // { protection, ephemeralKey, wrappedKey }
 */
export function sealFileKey(recipient: Recipient, fileKey: Uint8Array, nonce: Uint8Array): SealedKey {
  checkRecipient(recipient);
  const { publicKey } = recipient;
  if (publicKey.asymmetricKeyType === 'rsa') {
    const hash = recipient.oaepHash ?? 'sha1';
    const wrappedKey = publicEncrypt(
      { key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash },
      fileKey,
    );
    const protection = hash === 'sha1' ? KeyProtection.RSA_OAEP_SHA1 : KeyProtection.RSA_OAEP_SHA256;
    return { protection, ephemeralKey: new Uint8Array(0), wrappedKey };
  }
  const namedCurve = publicKey.asymmetricKeyDetails?.namedCurve;
  if (namedCurve === undefined) throw new RangeError('recipient.publicKey must be on a named curve');
  const ephemeral = generateKeyPairSync('ec', { namedCurve });
  const ephemeralKey = ephemeral.publicKey.export({ format: 'der', type: 'spki' });
  const shared = diffieHellman({ privateKey: ephemeral.privateKey, publicKey });
  const kek = deriveKek(shared, nonce, ephemeralKey);
  try {
    return {
      protection: KeyProtection.ECDH_HKDF_SHA256,
      ephemeralKey,
      wrappedKey: wrapWithKek(kek, fileKey),
    };
  } finally {
    shared.fill(0);
    kek.fill(0);
  }
}
