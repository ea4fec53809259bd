/**
 * `TokenSigner`: a token private key used the way node:crypto signs, `sign(data, algorithm)`
 * giving what `crypto.sign(algorithm, data, key)` would give for the same key, so the result
 * verifies with `crypto.verify` and drops into code written for node keys.
 */
import { constants } from 'node:crypto';
import { KeyType } from '../sys/constants.js';
import { nameOf } from '../sys/names.js';
import { describe } from '../util/der.js';
import { encodeEcdsaSignature } from '../util/ec.js';
import { PrivateKey } from '../model/index.js';
import { type BytesLike, toBytes } from '../model/operations.js';
import type { HashAlgorithm } from '../model/hashes.js';
import { hashInfo } from './hashes.js';
import { type SignatureScheme, signWithToken } from './signature.js';

/** How to sign, in node:crypto's terms (`crypto.sign` and its key options). */
export interface NodeSignOptions {
  /** The hash: `'sha256'` (default), `'sha384'`, `'SHA-512'` ...; must be absent or null for EdDSA keys. */
  readonly hash?: string | null;
  /** RSA padding: `'pkcs1'` (default) or `'pss'`, or node's `RSA_PKCS1_PADDING` / `RSA_PKCS1_PSS_PADDING`. */
  readonly padding?: 'pkcs1' | 'pss' | number;
  /**
   * PSS salt length in bytes, or node's `RSA_PSS_SALTLEN_DIGEST` / `RSA_PSS_SALTLEN_MAX_SIGN`.
   * Default: the digest's length (node's own default is the maximum; `crypto.verify` accepts either).
   */
  readonly saltLength?: number;
  /** ECDSA output: `'der'` (default, as node:crypto) or `'ieee-p1363'` (raw r||s, as WebCrypto and JOSE). */
  readonly dsaEncoding?: 'der' | 'ieee-p1363';
}

const DEFAULT_HASH = 'sha256';

/**
 * Signs with a token private key (RSA, EC or EdDSA) the way node:crypto would with a private
 * `KeyObject`: DER ECDSA signatures unless `dsaEncoding: 'ieee-p1363'`, PKCS#1 v1.5 unless
 * `padding: 'pss'`, pure Ed25519/Ed448. The key never leaves the token; ECDSA data is hashed on the
 * host and only the digest is sent (see `signature.ts`).
 *
 * @example
 * ```ts
 * const signer = new TokenSigner(privateKey);
 * const sig = await signer.sign(data, 'sha256');
 * crypto.verify('sha256', data, await toKeyObject(publicKey), sig); // true
 * await signer.sign(data, { hash: 'sha256', padding: 'pss' }); // RSA-PSS, salt = 32 bytes
 * ```
 */
export class TokenSigner {
  /** The token key that signs. */
  readonly privateKey: PrivateKey;

  constructor(privateKey: PrivateKey) {
    if (!(privateKey instanceof PrivateKey)) {
      throw new TypeError(`TokenSigner: privateKey must be a PrivateKey, got ${describe(privateKey)}`);
    }
    this.privateKey = privateKey;
  }

  /**
   * The signature of `data` (bytes, or a string taken as UTF-8). `algorithm` is a hash name as in
   * `crypto.sign(algorithm, ...)` (null or omitted for EdDSA, and for the default SHA-256
   * otherwise), or `NodeSignOptions`.
   */
  async sign(data: BytesLike, algorithm?: string | null | NodeSignOptions): Promise<Uint8Array> {
    const bytes = toBytes(data, 'TokenSigner.sign: data');
    const options = optionsOf(algorithm);
    const encoding = options.dsaEncoding ?? 'der';
    if (encoding !== 'der' && encoding !== 'ieee-p1363') {
      throw new RangeError("TokenSigner.sign: algorithm.dsaEncoding must be 'der' or 'ieee-p1363'");
    }
    const scheme = this.#scheme(options);
    const signature = await signWithToken(this.privateKey, scheme, bytes);
    return scheme.kind === 'ecdsa' && encoding === 'der' ? encodeEcdsaSignature(signature) : signature;
  }

  #scheme(options: NodeSignOptions): SignatureScheme {
    const where = 'TokenSigner.sign: algorithm';
    const { keyType } = this.privateKey;
    if (keyType === KeyType.EC_EDWARDS) {
      if (options.hash !== undefined && options.hash !== null) {
        throw new TypeError(`${where}: EdDSA keys take no hash (pass null)`);
      }
      return { kind: 'eddsa' };
    }
    const hash = hashInfo(options.hash ?? DEFAULT_HASH, `${where}.hash`);
    if (keyType === KeyType.EC) return { kind: 'ecdsa', hash };
    if (keyType === KeyType.RSA) {
      if (!isPss(options.padding, `${where}.padding`)) return { kind: 'rsa-pkcs1', hash };
      return { kind: 'rsa-pss', hash, saltLength: this.#saltLength(options.saltLength, hash) };
    }
    throw new RangeError(`TokenSigner.sign: ${nameOf(KeyType, keyType)} keys are not supported`);
  }

  #saltLength(given: number | undefined, hash: HashAlgorithm): number {
    const where = 'TokenSigner.sign: algorithm.saltLength';
    if (given === undefined || given === constants.RSA_PSS_SALTLEN_DIGEST) return hash.size;
    if (given === constants.RSA_PSS_SALTLEN_MAX_SIGN) {
      const bits = this.privateKey.keyLength;
      if (bits === undefined) throw new RangeError(`${where}: the token does not tell the key size`);
      return Math.ceil((bits - 1) / 8) - hash.size - 2;
    }
    if (!Number.isSafeInteger(given) || given < 0) {
      throw new RangeError(`${where} must be a whole number of bytes, got ${given}`);
    }
    return given;
  }
}

function optionsOf(algorithm: unknown): NodeSignOptions {
  if (algorithm === undefined || algorithm === null) return {};
  if (typeof algorithm === 'string') return { hash: algorithm };
  if (typeof algorithm === 'object') return algorithm as NodeSignOptions;
  throw new TypeError(
    `TokenSigner.sign: algorithm must be a hash name or options, got ${describe(algorithm)}`,
  );
}

function isPss(padding: unknown, where: string): boolean {
  if (padding === undefined || padding === 'pkcs1' || padding === constants.RSA_PKCS1_PADDING) return false;
  if (padding === 'pss' || padding === constants.RSA_PKCS1_PSS_PADDING) return true;
  throw new RangeError(`${where} must be 'pkcs1' or 'pss'`);
}
