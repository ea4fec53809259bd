/**
 * The ECDH half of key protection, shared by sealing (host) and unsealing (token): the shared
 * secret becomes a key-encryption key through HKDF-SHA256, and the file key is wrapped under it
 * with AES-256 key wrap (RFC 3394), whose integrity check tells a wrong key at once.
 */
import { createCipheriv, createDecipheriv, hkdfSync } from 'node:crypto';

/** HKDF `info`: names the format and binds the ephemeral public key (SPKI DER) into the KEK. */
const INFO_LABEL = Buffer.from('pkcs11-ts fileenc v1 ECDH-HKDF-SHA256-A256KW\0', 'latin1');
/** RFC 3394's default initial value. */
const KEY_WRAP_IV = Buffer.from('a6a6a6a6a6a6a6a6', 'hex');

/**
 * The 32-byte key-encryption key of a file: HKDF-SHA256 with the ECDH shared secret (the x
 * coordinate) as input key material, the header's base nonce as salt, and the format label plus
 * the ephemeral public key as info.
 */
export function deriveKek(sharedSecret: Uint8Array, nonce: Uint8Array, ephemeralKey: Uint8Array): Buffer {
  const info = Buffer.concat([INFO_LABEL, ephemeralKey]);
  return Buffer.from(hkdfSync('sha256', sharedSecret, nonce, info, 32));
}

/** The file key wrapped under `kek` (RFC 3394: 8 bytes longer than the key). */
export function wrapWithKek(kek: Uint8Array, fileKey: Uint8Array): Buffer {
  const cipher = createCipheriv('id-aes256-wrap', kek, KEY_WRAP_IV);
  return Buffer.concat([cipher.update(fileKey), cipher.final()]);
}

/** The file key unwrapped from `wrapped`, or undefined when the integrity check fails (another KEK). */
export function unwrapWithKek(kek: Uint8Array, wrapped: Uint8Array): Buffer | undefined {
  const decipher = createDecipheriv('id-aes256-wrap', kek, KEY_WRAP_IV);
  try {
    return Buffer.concat([decipher.update(wrapped), decipher.final()]);
  } catch {
    return undefined;
  }
}
