/**
 * Public-key operations done on the host with node:crypto, from the key's exported public value:
 * the fallback for tokens that keep only private-key operations on the device (the SmartCard-HSM
 * verifies, encrypts and wraps nothing). The results are the bytes a capable token would give:
 * PKCS#1 v1.5, OAEP and raw RSA encryption; PKCS#1 v1.5, PSS, raw RSA, ECDSA, DSA and pure EdDSA
 * verification.
 *
 * node:crypto cannot verify an ECDSA or DSA signature over a digest it did not compute, so the raw
 * `ECDSA` and `DSA` mechanisms have no host form; their hashing variants (`ECDSA_SHA256` ...) do.
 */
import {
  constants,
  createHash,
  createPublicKey,
  createVerify,
  publicDecrypt,
  publicEncrypt,
  verify as nodeVerify,
  type KeyObject,
} from 'node:crypto';
import { KeyType, Mechanism } from '../sys/constants.js';
import { nameOf } from '../sys/names.js';
import { NotSupportedError } from '../core/errors.js';
import { parameterFields, type MechanismParameter } from '../core/params.js';
import { encodeDsaPublicKey } from '../util/dsa.js';
import { encodeEcPublicKey } from '../util/ec.js';
import { encodeRsaPublicKey } from '../util/rsa.js';
import type { KeyOperation } from './defaults.js';
import {
  HASHED_SIGNATURES,
  HASHES,
  digestInfo,
  hashOfMgf,
  hostDigest,
  type HashAlgorithm,
} from './hashes.js';
import type { Key } from './keys.js';
import { toBytes, type DataStream } from './operations.js';
import { collectBytes } from './streams.js';

const ENCRYPTIONS = new Set<number>([Mechanism.RSA_PKCS, Mechanism.RSA_PKCS_OAEP, Mechanism.RSA_X_509]);
const RAW_VERIFICATIONS = new Set<number>([
  Mechanism.RSA_PKCS,
  Mechanism.RSA_X_509,
  Mechanism.RSA_PKCS_PSS,
  Mechanism.EDDSA,
]);

/** Whether the host can do `operation` with `mechanism` from a public key (parameters are checked when it runs). */
export function hostCanDo(operation: KeyOperation, mechanism: number): boolean {
  if (operation === 'encrypt' || operation === 'wrap') return ENCRYPTIONS.has(mechanism);
  if (operation !== 'verify') return false;
  return RAW_VERIFICATIONS.has(mechanism) || HASHED_SIGNATURES.has(mechanism);
}

const exported = new WeakMap<Key, Promise<KeyObject>>();

async function exportPublicKey(key: Key): Promise<KeyObject> {
  switch (key.keyType) {
    case KeyType.RSA:
      return createPublicKey({
        key: Buffer.from(await encodeRsaPublicKey(key)),
        format: 'der',
        type: 'pkcs1',
      });
    case KeyType.EC:
    case KeyType.EC_EDWARDS:
    case KeyType.EC_MONTGOMERY:
      return createPublicKey({ key: Buffer.from(await encodeEcPublicKey(key)), format: 'der', type: 'spki' });
    case KeyType.DSA:
      return createPublicKey({
        key: Buffer.from(await encodeDsaPublicKey(key)),
        format: 'der',
        type: 'spki',
      });
    default:
      throw new NotSupportedError(`a ${nameOf(KeyType, key.keyType)} public key cannot be used on the host`);
  }
}

/** The key's public value as a node:crypto KeyObject, read from the token once per key object. */
export function hostPublicKey(key: Key): Promise<KeyObject> {
  let pending = exported.get(key);
  if (!pending) {
    pending = exportPublicKey(key);
    exported.set(key, pending);
    pending.catch(() => exported.delete(key));
  }
  return pending;
}

function unsupported(what: string): never {
  throw new NotSupportedError(`node:crypto cannot ${what}`);
}

/** The modulus size of an RSA KeyObject in bytes. */
function modulusBytes(key: KeyObject): number {
  const bits = key.asymmetricKeyDetails?.modulusLength;
  if (bits === undefined) throw new TypeError('the key is not an RSA key');
  return Math.ceil(bits / 8);
}

/**
 * `data` when it is at most `limit` bytes, the most `mechanism` can encrypt with the key; a
 * RangeError otherwise, where the token would answer CKR_DATA_LEN_RANGE.
 */
function within(data: Uint8Array, limit: number, mechanism: number): Uint8Array {
  if (limit < 0)
    throw new RangeError(`the RSA key is too short for ${nameOf(Mechanism, mechanism)} with this hash`);
  if (data.byteLength > limit)
    throw new RangeError(
      `data must be at most ${limit} bytes for ${nameOf(Mechanism, mechanism)} with this RSA key, got ${data.byteLength}`,
    );
  return data;
}

/** `data` left-padded with zeros to `size` bytes, as RSA_X_509 treats short input. */
function leftPad(data: Uint8Array, size: number): Buffer {
  within(data, size, Mechanism.RSA_X_509);
  const out = Buffer.alloc(size);
  out.set(data, size - data.byteLength);
  return out;
}

/** Raw RSA of a whole block; a number not below the modulus is refused as the token refuses it. */
function rawEncrypt(key: KeyObject, data: Uint8Array): Buffer {
  try {
    return publicEncrypt({ key, padding: constants.RSA_NO_PADDING }, leftPad(data, modulusBytes(key)));
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'ERR_OSSL_RSA_DATA_TOO_LARGE_FOR_MODULUS') throw error;
    throw new RangeError('data must be a number below the RSA key’s modulus for RSA_X_509', {
      cause: error,
    });
  }
}

/**
 * Encrypts with a public key as the token would with `mechanism` (RSA_PKCS, RSA_PKCS_OAEP whose
 * MGF1 uses the OAEP hash, RSA_X_509). `parameter` is the completed one (mechanism-defaults.ts).
 */
export function hostEncrypt(
  key: KeyObject,
  mechanism: number,
  parameter: MechanismParameter,
  data: Uint8Array,
): Uint8Array {
  switch (mechanism) {
    case Mechanism.RSA_PKCS:
      // PKCS#1 v1.5 padding takes at least 11 bytes of the block (RFC 8017 7.2.1).
      return publicEncrypt(
        { key, padding: constants.RSA_PKCS1_PADDING },
        within(data, modulusBytes(key) - 11, mechanism),
      );
    case Mechanism.RSA_X_509:
      return rawEncrypt(key, data);
    case Mechanism.RSA_PKCS_OAEP: {
      const f = parameterFields(mechanism, parameter);
      const hash = HASHES.get(Number(f?.hashAlg));
      if (!hash || hash.mgf !== Number(f?.mgf))
        unsupported('do OAEP with an MGF1 hash other than the OAEP hash');
      const label =
        f?.sourceData instanceof Uint8Array && f.sourceData.byteLength > 0 ? f.sourceData : undefined;
      // OAEP takes two hashes and two bytes of the block (RFC 8017 7.1.1).
      return publicEncrypt(
        { key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash.node, oaepLabel: label },
        within(data, modulusBytes(key) - 2 * hash.size - 2, mechanism),
      );
    }
    default:
      return unsupported(`encrypt with ${nameOf(Mechanism, mechanism)}`);
  }
}

/** PKCS#1 v1.5 verification of a raw RSA_PKCS signature over `expected` (a DigestInfo, usually). */
function pkcs1Verify(key: KeyObject, expected: Uint8Array, signature: Uint8Array): boolean {
  let recovered: Buffer;
  try {
    recovered = publicDecrypt({ key, padding: constants.RSA_PKCS1_PADDING }, signature);
  } catch {
    return false; // not a PKCS#1 v1.5 block under this key: a bad signature
  }
  return recovered.equals(expected);
}

/** Raw RSA (RSA_X_509) verification: the signature raised to e equals the zero-padded data. */
function rawRsaVerify(key: KeyObject, data: Uint8Array, signature: Uint8Array): boolean {
  const size = modulusBytes(key);
  if (signature.byteLength !== size || data.byteLength > size) return false;
  try {
    return publicDecrypt({ key, padding: constants.RSA_NO_PADDING }, signature).equals(leftPad(data, size));
  } catch {
    return false; // the signature is not below the modulus
  }
}

/** MGF1 (RFC 8017 B.2.1) with `hash`: `length` bytes from `seed`. */
function mgf1(hash: HashAlgorithm, seed: Uint8Array, length: number): Buffer {
  const out = Buffer.alloc(length);
  const counter = Buffer.alloc(4);
  for (let i = 0, at = 0; at < length; i++, at += hash.size) {
    counter.writeUInt32BE(i);
    createHash(hash.node).update(seed).update(counter).digest().copy(out, at);
  }
  return out;
}

/** The hash, MGF1 hash and salt length of a completed PSS parameter. */
function pssParameters(parameter: MechanismParameter): {
  hash: HashAlgorithm;
  mgfHash: HashAlgorithm;
  saltLength: number;
} {
  const f = parameterFields(Mechanism.RSA_PKCS_PSS, parameter);
  const hash = HASHES.get(Number(f?.hashAlg));
  const mgfHash = hashOfMgf(Number(f?.mgf));
  if (!hash || !mgfHash) return unsupported('verify PSS with a hash or MGF it does not know');
  return { hash, mgfHash, saltLength: Number(f?.saltLength) };
}

/**
 * RSASSA-PSS verification of a signature over a digest (EMSA-PSS-VERIFY of RFC 8017 9.1.2 on the
 * RSA public operation): node:crypto only verifies PSS over a message it hashes itself.
 */
function pssVerify(
  key: KeyObject,
  digest: Uint8Array,
  signature: Uint8Array,
  parameter: MechanismParameter,
): boolean {
  const { hash, mgfHash, saltLength } = pssParameters(parameter);
  const k = modulusBytes(key);
  const emBits = (key.asymmetricKeyDetails?.modulusLength ?? 0) - 1;
  const emLen = Math.ceil(emBits / 8);
  const hLen = hash.size;
  if (signature.byteLength !== k || digest.byteLength !== hLen || emLen < hLen + saltLength + 2) return false;
  let block: Buffer;
  try {
    block = publicDecrypt({ key, padding: constants.RSA_NO_PADDING }, signature);
  } catch {
    return false;
  }
  if (k > emLen && block[0] !== 0) return false;
  const em = block.subarray(k - emLen);
  if (em[emLen - 1] !== 0xbc) return false;
  const maskedDb = em.subarray(0, emLen - hLen - 1);
  const h = em.subarray(emLen - hLen - 1, emLen - 1);
  const topBits = 0xff >> (8 * emLen - emBits);
  if (((maskedDb[0] as number) & ~topBits) !== 0) return false;
  const db = mgf1(mgfHash, h, maskedDb.length);
  for (let i = 0; i < db.length; i++) db[i] = (db[i] as number) ^ (maskedDb[i] as number);
  db[0] = (db[0] as number) & topBits;
  const separator = emLen - hLen - saltLength - 2;
  if (!db.subarray(0, separator).every((b) => b === 0) || db[separator] !== 0x01) return false;
  const salt = db.subarray(db.length - saltLength);
  const expected = createHash(hash.node).update(Buffer.alloc(8)).update(digest).update(salt).digest();
  return expected.equals(h);
}

/** Pure Ed25519 / Ed448 verification; contexts and pre-hashing are beyond node:crypto. */
function eddsaVerify(
  key: KeyObject,
  parameter: MechanismParameter,
  data: Uint8Array,
  signature: Uint8Array,
): boolean {
  const f = parameterFields(Mechanism.EDDSA, parameter);
  const context = f?.contextData;
  // PKCS#11 3.0: no parameter is pure EdDSA; for Ed448, phFlag false with no context is pure Ed448 too.
  const pure =
    parameter === undefined ||
    parameter === null ||
    (key.asymmetricKeyType === 'ed448' &&
      f?.phFlag === false &&
      (context == null || (context as Uint8Array).byteLength === 0));
  if (!pure) unsupported('verify Ed25519ctx, Ed25519ph, Ed448 with a context or Ed448ph');
  return nodeVerify(null, data, key, signature);
}

/** ECDSA / DSA over a message hashed as it streams in; the signature is raw r||s as PKCS#11 gives it. */
async function dsaStyleVerify(
  hash: HashAlgorithm,
  key: KeyObject,
  data: Uint8Array | DataStream,
  signature: Uint8Array,
): Promise<boolean> {
  const verifier = createVerify(hash.node);
  if (data instanceof Uint8Array) verifier.update(data);
  else for await (const chunk of data) verifier.update(toBytes(chunk, 'stream chunk'));
  try {
    return verifier.verify({ key, dsaEncoding: 'ieee-p1363' }, signature);
  } catch (error) {
    // A streaming Verify throws when r||s is not twice the group order's size (the one-shot
    // crypto.verify answers false); the token answers CKR_SIGNATURE_LEN_RANGE, false here too.
    if ((error as { code?: unknown }).code === 'ERR_CRYPTO_OPERATION_FAILED') return false;
    throw error;
  }
}

/**
 * Verifies as the token would with `mechanism`: true for a good signature, false for a bad one;
 * `NotSupportedError` for what node:crypto cannot check. `parameter` is the completed one.
 */
export async function hostVerify(
  key: KeyObject,
  mechanism: number,
  parameter: MechanismParameter,
  data: Uint8Array | DataStream,
  signature: Uint8Array,
): Promise<boolean> {
  const hashed = HASHED_SIGNATURES.get(mechanism);
  if (hashed?.scheme === 'ecdsa' || hashed?.scheme === 'dsa')
    return dsaStyleVerify(hashed.hash, key, data, signature);
  if (hashed) {
    const digest = await hostDigest(hashed.hash, data);
    return hashed.scheme === 'pkcs1'
      ? pkcs1Verify(key, digestInfo(hashed.hash, digest), signature)
      : pssVerify(key, digest, signature, parameter);
  }
  const bytes = await collectBytes(data);
  switch (mechanism) {
    case Mechanism.RSA_PKCS:
      return pkcs1Verify(key, bytes, signature);
    case Mechanism.RSA_X_509:
      return rawRsaVerify(key, bytes, signature);
    case Mechanism.RSA_PKCS_PSS:
      return pssVerify(key, bytes, signature, parameter);
    case Mechanism.EDDSA:
      return eddsaVerify(key, parameter, bytes, signature);
    default:
      return unsupported(`verify with ${nameOf(Mechanism, mechanism)}`);
  }
}
