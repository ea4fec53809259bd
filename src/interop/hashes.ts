/**
 * Hash names as WebCrypto (`'SHA-256'`) and node:crypto (`'sha256'`) write them, resolved to the
 * model's hash table, and the PKCS#11 mechanisms the interop layer signs with for each hash.
 */
import { Mechanism } from '../sys/constants.js';
import { nameOf } from '../sys/names.js';
import { describe } from '../util/der.js';
import { HASHED_SIGNATURES, HASHES, type HashAlgorithm, type SignatureScheme } from '../model/hashes.js';

/** Hashes by every name they go by (MD5 is left out: nothing here should sign with it). */
const BY_NAME = new Map(
  [...HASHES.values()]
    .filter((h) => h.mechanism !== Mechanism.MD5)
    .flatMap((h) => [h.name.toLowerCase(), h.node.toLowerCase()].map((n) => [n, h] as const)),
);

const HMAC = new Map<number, number>([
  [Mechanism.SHA_1, Mechanism.SHA_1_HMAC],
  [Mechanism.SHA224, Mechanism.SHA224_HMAC],
  [Mechanism.SHA256, Mechanism.SHA256_HMAC],
  [Mechanism.SHA384, Mechanism.SHA384_HMAC],
  [Mechanism.SHA512, Mechanism.SHA512_HMAC],
  [Mechanism.SHA3_224, Mechanism.SHA3_224_HMAC],
  [Mechanism.SHA3_256, Mechanism.SHA3_256_HMAC],
  [Mechanism.SHA3_384, Mechanism.SHA3_384_HMAC],
  [Mechanism.SHA3_512, Mechanism.SHA3_512_HMAC],
]);

/**
 * The hash named by `name`: a WebCrypto name or algorithm object (`'SHA-256'`, `{ name: 'SHA-384' }`)
 * or a node:crypto name (`'sha256'`, `'sha3-256'`), in any letter case; a TypeError or RangeError
 * naming `where` for anything else.
 *
 * @example
 * ```ts
 * hashInfo({ name: 'SHA-384' }, 'algorithm.hash').mgf; // MGF.SHA384
 * ```
 */
export function hashInfo(name: unknown, where: string): HashAlgorithm {
  const text = typeof name === 'object' && name !== null ? (name as { name?: unknown }).name : name;
  if (typeof text !== 'string') {
    throw new TypeError(`${where} must be a hash name such as 'SHA-256', got ${describe(name)}`);
  }
  const hash = BY_NAME.get(text.toLowerCase());
  if (hash === undefined) throw new RangeError(`${where}: unsupported hash ${JSON.stringify(text)}`);
  return hash;
}

/**
 * The hash-then-sign mechanism of `scheme` with `hash` (`ECDSA_SHA256`, `SHA256_RSA_PKCS`,
 * `SHA256_RSA_PKCS_PSS` ...). The model hashes on the host when the token has only the raw one.
 */
export function hashedMechanism(scheme: SignatureScheme, hash: HashAlgorithm): number {
  for (const s of HASHED_SIGNATURES.values()) if (s.scheme === scheme && s.hash === hash) return s.mechanism;
  throw new RangeError(`${scheme} signatures with ${hash.name} have no PKCS#11 mechanism`);
}

/** The HMAC mechanism of `hash` (`SHA256_HMAC` ...). */
export function hmacMechanism(hash: HashAlgorithm): number {
  const mechanism = HMAC.get(hash.mechanism);
  if (mechanism === undefined)
    throw new RangeError(`HMAC with ${nameOf(Mechanism, hash.mechanism)} is not supported`);
  return mechanism;
}
