/**
 * Token keys as the two ends of file encryption: a token public key as the recipient a file is
 * sealed for, and the private key on the token that a file's header names.
 */
import { ObjectClass } from '../sys/constants.js';
import { NoSuchKeyError } from '../core/errors.js';
import type { Key, PrivateKey } from '../model/keys.js';
import type { Session } from '../model/session.js';
import { exportPublicKey } from '../interop/public-key.js';
import type { FileHeader } from './format.js';
import type { OaepHash, Recipient } from './seal.js';
import { keyTypeFor } from './unseal.js';

/**
 * The recipient for a token key: its public key (exported to the host, where the sealing runs)
 * and its CKA_ID. `key` is an RSA or EC public key, or an RSA private key (whose modulus and
 * exponent are public).
 *
 * @example
 * const recipient = await tokenRecipient(await session.getKey({ objectClass: ObjectClass.PUBLIC_KEY, label: 'files' }));
 * await encryptFile('report.pdf', 'report.pdf.p11', recipient);
 */
export async function tokenRecipient(key: Key, options: { oaepHash?: OaepHash } = {}): Promise<Recipient> {
  const publicKey = await exportPublicKey(key, 'keyobject');
  return { publicKey, keyId: key.id, oaepHash: options.oaepHash };
}

/**
 * The private key a file was encrypted for: the one on the token with the header's CKA_ID and the
 * key type its protection needs.
 *
 * @throws NoSuchKeyError when the header names no key, or no such key is on the token
 *   (MultipleObjectsError when several are).
 */
export async function findFileKey(session: Session, header: FileHeader): Promise<PrivateKey> {
  if (header.keyId.length === 0) {
    throw new NoSuchKeyError(
      'the file names no key (its key had no CKA_ID): choose the private key yourself',
    );
  }
  const key = await session.getKey({
    objectClass: ObjectClass.PRIVATE_KEY,
    keyType: keyTypeFor(header.protection),
    id: header.keyId,
  });
  return key as PrivateKey;
}
