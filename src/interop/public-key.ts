/**
 * Token public keys for node:crypto: SubjectPublicKeyInfo DER, PEM, JWK or a `KeyObject`, for RSA,
 * EC (every named curve OpenSSL knows), Ed25519/Ed448, X25519/X448 and DSA keys; and as an
 * OpenSSH `authorized_keys` line (openssh.ts) for RSA, NIST P-256/384/521 and Ed25519 keys.
 */
import { type JsonWebKey, type KeyObject, createPublicKey } from 'node:crypto';
import { Attribute, KeyType } from '../sys/constants.js';
import { nameOf } from '../sys/names.js';
import { describe } from '../util/der.js';
import { encodeDsaPublicKey } from '../util/dsa.js';
import { encodeEcPublicKey } from '../util/ec.js';
import { encodeRsaPublicKey } from '../util/rsa.js';
import { type KeySource, readAttributes } from '../util/source.js';
import { checkOpensshComment, opensshPublicKey } from './openssh.js';

/** The formats `exportPublicKey` writes. */
export type PublicKeyFormat = 'spki-der' | 'pem' | 'jwk' | 'keyobject' | 'openssh';

/** What `exportPublicKey` gives for each format. */
export interface PublicKeyExports {
  'spki-der': Uint8Array;
  pem: string;
  jwk: JsonWebKey;
  keyobject: KeyObject;
  openssh: string;
}

/** Options of `exportPublicKey`. */
export interface ExportPublicKeyOptions {
  /** `'openssh'` only: the comment at the end of the line (one line; none by default). */
  readonly comment?: string;
}

/** Key types whose CKA_EC_PARAMS name a curve: EC, Edwards (EdDSA) and Montgomery (X25519/X448). */
export const EC_FAMILY: readonly number[] = [KeyType.EC, KeyType.EC_EDWARDS, KeyType.EC_MONTGOMERY];

const FORMATS: readonly PublicKeyFormat[] = ['spki-der', 'pem', 'jwk', 'keyobject', 'openssh'];

const READ = [
  Attribute.KEY_TYPE,
  Attribute.PUBLIC_KEY_INFO,
  Attribute.MODULUS,
  Attribute.PUBLIC_EXPONENT,
  Attribute.EC_PARAMS,
  Attribute.EC_POINT,
  Attribute.PRIME,
  Attribute.SUBPRIME,
  Attribute.BASE,
  Attribute.VALUE,
];

/**
 * The SubjectPublicKeyInfo (DER) of a key: a token public key, an RSA private key (its modulus and
 * exponent are public), any key whose CKA_PUBLIC_KEY_INFO is filled in, or a plain template.
 * All attributes are read in one call. `fn` names the caller in errors.
 */
export async function publicKeyInfo(key: KeySource, fn: string): Promise<Uint8Array> {
  const values = await readAttributes(key, READ, fn);
  const info = values[Attribute.PUBLIC_KEY_INFO];
  if (info instanceof Uint8Array && info.length > 0) return info;
  const keyType = values[Attribute.KEY_TYPE];
  if (keyType === KeyType.RSA) {
    const pkcs1 = await encodeRsaPublicKey(values);
    return spkiOf(createPublicKey({ key: Buffer.from(pkcs1), format: 'der', type: 'pkcs1' }));
  }
  if (typeof keyType === 'number' && EC_FAMILY.includes(keyType)) {
    if (values[Attribute.EC_POINT] === undefined) {
      throw new TypeError(
        `${fn}: the key has no CKA_EC_POINT (a private EC key does not hold its public point): pass its public key`,
      );
    }
    return encodeEcPublicKey(values);
  }
  if (keyType === KeyType.DSA) return encodeDsaPublicKey(values);
  const what = typeof keyType === 'number' ? nameOf(KeyType, keyType) : describe(keyType);
  throw new RangeError(`${fn}: cannot export the public key of a ${what} key`);
}

/** The SPKI DER of a node:crypto public key. */
export function spkiOf(key: KeyObject): Uint8Array {
  return new Uint8Array(key.export({ format: 'der', type: 'spki' }));
}

/**
 * A token public key (or a template, see `publicKeyInfo`) as node:crypto understands it:
 * `'spki-der'` (Uint8Array), `'pem'` (a `PUBLIC KEY` block), `'jwk'` (RSA, EC on P-256/384/521 and
 * secp256k1, OKP for Ed25519/Ed448/X25519/X448; JWK has no names for other curves, such as
 * brainpool, which give a RangeError), `'keyobject'`, or `'openssh'` (an `authorized_keys` line:
 * RSA, NIST P-256/384/521 and Ed25519 only; `options.comment` ends it).
 *
 * @example
 * ```ts
 * const pub = await exportPublicKey(ecPub, 'keyobject');
 * crypto.verify('sha256', data, { key: pub, dsaEncoding: 'ieee-p1363' }, rawSignature); // true
 * const jwk = await exportPublicKey(rsaPub, 'jwk'); // { kty: 'RSA', n: '...', e: 'AQAB' }
 * const line = await exportPublicKey(ecPub, 'openssh', { comment: 'me@token' }); // 'ecdsa-sha2-nistp256 AAAA... me@token'
 * ```
 */
export async function exportPublicKey<F extends PublicKeyFormat>(
  key: KeySource,
  format: F,
  options: ExportPublicKeyOptions = {},
): Promise<PublicKeyExports[F]> {
  const fn = 'exportPublicKey';
  if (!FORMATS.includes(format)) {
    throw new RangeError(`${fn}: format must be one of ${FORMATS.join(', ')}, got ${JSON.stringify(format)}`);
  }
  if (options === null || typeof options !== 'object')
    throw new TypeError(`${fn}: options must be an object`);
  const { comment } = options;
  checkOpensshComment(comment, `${fn}: options.comment`);
  if (comment !== undefined && format !== 'openssh')
    throw new RangeError(`${fn}: options.comment is for the 'openssh' format only`);
  const spki = await publicKeyInfo(key, fn);
  if (format === 'spki-der') return spki as PublicKeyExports[F];
  const keyObject = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
  if (format === 'openssh') return opensshPublicKey(keyObject, comment) as PublicKeyExports[F];
  return convert(keyObject, format, fn) as PublicKeyExports[F];
}

function convert(
  key: KeyObject,
  format: 'pem' | 'jwk' | 'keyobject',
  fn: string,
): string | JsonWebKey | KeyObject {
  if (format === 'keyobject') return key;
  if (format === 'pem') return key.export({ format: 'pem', type: 'spki' }) as string;
  try {
    return key.export({ format: 'jwk' });
  } catch (cause) {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    const what = curve === undefined ? `${key.asymmetricKeyType} keys` : `curve ${curve}`;
    throw new RangeError(`${fn}: JWK has no representation for ${what}`, { cause });
  }
}

/**
 * A token public key as a node:crypto `KeyObject`: `exportPublicKey(key, 'keyobject')`.
 *
 * @example
 * ```ts
 * const keyObject = await toKeyObject(rsaPub);
 * crypto.publicEncrypt({ key: keyObject, padding: crypto.constants.RSA_PKCS1_PADDING }, data);
 * ```
 */
export function toKeyObject(key: KeySource): Promise<KeyObject> {
  return exportPublicKey(key, 'keyobject');
}
