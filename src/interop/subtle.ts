/**
 * A WebCrypto `Crypto` whose `subtle` sends token-backed keys (`TokenCryptoKey`) to the token and
 * everything else to node's own `webcrypto`, so code written for WebCrypto, @peculiar/x509 among
 * it, signs, verifies, encrypts, decrypts and agrees keys with keys that never leave the token.
 *
 * Token keys support: `sign`/`verify` with RSASSA-PKCS1-v1_5, RSA-PSS, ECDSA (raw r||s, as
 * WebCrypto and PKCS#11 both have it), Ed25519/Ed448 and HMAC; `encrypt`/`decrypt` with RSA-OAEP,
 * AES-GCM and AES-CBC; `deriveBits` with ECDH and X25519/X448 (the peer key may be node's or the
 * token's); `exportKey` of public keys as `'spki'`, `'jwk'` or `'raw'` (EC-family keys).
 * `deriveKey`, `wrapKey` and `unwrapKey` stay node-only. Errors of use are DOMExceptions with
 * WebCrypto's names (InvalidAccessError, NotSupportedError, OperationError), as node's are.
 */
import { webcrypto } from 'node:crypto';
import { Attribute, Mechanism } from '../sys/constants.js';
import { decodeEcPoint } from '../util/ec.js';
import { describe } from '../util/der.js';
import type { PrivateKey, PublicKey, SecretKey } from '../model/keys.js';
import { ecdhSecret } from '../model/ecdh.js';
import type { OperationOptions } from '../model/plan.js';
import { TokenCryptoKey, curveOfWebName } from './crypto-key.js';
import { hashInfo } from './hashes.js';
import { EC_FAMILY, exportPublicKey, publicKeyInfo } from './public-key.js';
import { type SignatureScheme, signWithToken, verifyWithToken } from './signature.js';

type CryptoKey = webcrypto.CryptoKey;
type BufferSource = webcrypto.BufferSource;
type AlgorithmIdentifier = webcrypto.AlgorithmIdentifier;
type SubtleCrypto = webcrypto.SubtleCrypto;

/** The parameters of any algorithm this file reads (a union of WebCrypto's dictionaries). */
interface AlgorithmParams {
  readonly name: string;
  readonly hash?: AlgorithmIdentifier;
  readonly saltLength?: number;
  readonly label?: BufferSource;
  readonly iv?: BufferSource;
  readonly additionalData?: BufferSource;
  readonly tagLength?: number;
  readonly public?: CryptoKey;
}

/** Node's globals that its type declarations leave out. */
const globals = globalThis as unknown as {
  DOMException: new (message: string, name: string) => Error;
  CryptoKey: webcrypto.CryptoKeyConstructor;
};
const DOMExceptionClass = globals.DOMException;

/** A DOMException with one of WebCrypto's error names. */
function webCryptoError(
  name: 'InvalidAccessError' | 'NotSupportedError' | 'OperationError',
  message: string,
) {
  return new DOMExceptionClass(message, name);
}

/** Bytes of a BufferSource (a view, not a copy); a TypeError naming `where` for anything else. */
function bytesOf(data: unknown, where: string): Uint8Array {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw new TypeError(`${where} must be an ArrayBuffer or a view of one, got ${describe(data)}`);
}

/** A fresh ArrayBuffer holding exactly `bytes`, as WebCrypto returns results. */
function arrayBufferOf(bytes: Uint8Array): ArrayBuffer {
  return Uint8Array.from(bytes).buffer;
}

function paramsOf(algorithm: unknown, where: string): AlgorithmParams {
  if (typeof algorithm === 'string') return { name: algorithm };
  if (
    algorithm !== null &&
    typeof algorithm === 'object' &&
    typeof (algorithm as { name?: unknown }).name === 'string'
  ) {
    return algorithm as AlgorithmParams;
  }
  throw new TypeError(`${where} must be an algorithm name or { name, ... }, got ${describe(algorithm)}`);
}

/** Checks that `key` may be used for `usage` with `algorithm` (same name as the key's, any case). */
function checkUse(key: TokenCryptoKey, algorithm: AlgorithmParams, usage: webcrypto.KeyUsage): void {
  if (algorithm.name.toLowerCase() !== key.algorithm.name.toLowerCase()) {
    throw webCryptoError(
      'InvalidAccessError',
      `the key is a ${key.algorithm.name} key, not ${algorithm.name}`,
    );
  }
  if (!key.usages.includes(usage)) {
    throw webCryptoError('InvalidAccessError', `the key's usages do not include ${usage}`);
  }
}

/** The hash a key is bound to (RSA, HMAC keys). */
function keyHash(key: TokenCryptoKey) {
  return hashInfo((key.algorithm as webcrypto.RsaHashedKeyAlgorithm).hash, 'key.algorithm.hash');
}

/** The signature scheme of a sign/verify call with a token key. */
function schemeOf(key: TokenCryptoKey, algorithm: AlgorithmParams): SignatureScheme {
  switch (key.algorithm.name) {
    case 'RSASSA-PKCS1-v1_5':
      return { kind: 'rsa-pkcs1', hash: keyHash(key) };
    case 'RSA-PSS': {
      const { saltLength } = algorithm;
      if (typeof saltLength !== 'number' || !Number.isSafeInteger(saltLength) || saltLength < 0) {
        throw new TypeError('algorithm.saltLength must be a whole number of bytes');
      }
      return { kind: 'rsa-pss', hash: keyHash(key), saltLength };
    }
    case 'ECDSA':
      return { kind: 'ecdsa', hash: hashInfo(algorithm.hash, 'algorithm.hash') };
    case 'Ed25519':
    case 'Ed448':
      return { kind: 'eddsa' };
    case 'HMAC':
      return { kind: 'hmac', hash: keyHash(key) };
    default:
      throw webCryptoError('NotSupportedError', `${key.algorithm.name} keys do not sign`);
  }
}

/** The mechanism of an encrypt/decrypt call with a token key. */
function cipherOf(key: TokenCryptoKey, algorithm: AlgorithmParams): OperationOptions {
  switch (key.algorithm.name) {
    case 'RSA-OAEP': {
      const hash = keyHash(key);
      const label = algorithm.label === undefined ? undefined : bytesOf(algorithm.label, 'algorithm.label');
      const mechanismParam = { hashAlg: hash.mechanism, mgf: hash.mgf!, sourceData: label };
      return { mechanism: Mechanism.RSA_PKCS_OAEP, mechanismParam };
    }
    case 'AES-GCM': {
      const tagBits = algorithm.tagLength ?? 128;
      if (![32, 64, 96, 104, 112, 120, 128].includes(tagBits)) {
        throw webCryptoError('OperationError', `algorithm.tagLength ${tagBits} is not a GCM tag length`);
      }
      const iv = bytesOf(algorithm.iv, 'algorithm.iv');
      const aad =
        algorithm.additionalData === undefined
          ? undefined
          : bytesOf(algorithm.additionalData, 'algorithm.additionalData');
      return { mechanism: Mechanism.AES_GCM, mechanismParam: { iv, aad, tagBits } };
    }
    case 'AES-CBC': {
      const iv = bytesOf(algorithm.iv, 'algorithm.iv');
      if (iv.length !== 16) throw webCryptoError('OperationError', 'algorithm.iv must be 16 bytes');
      return { mechanism: Mechanism.AES_CBC_PAD, mechanismParam: iv };
    }
    default:
      throw webCryptoError('NotSupportedError', `${key.algorithm.name} keys do not encrypt`);
  }
}

/**
 * Turns a failure of the token into the OperationError WebCrypto callers expect, keeping the
 * original as `cause`; DOMExceptions and argument errors pass through.
 */
async function onToken<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (cause) {
    if (cause instanceof TypeError || cause instanceof RangeError || cause instanceof DOMExceptionClass)
      throw cause;
    const error = webCryptoError(
      'OperationError',
      `${what} failed in the token: ${(cause as Error).message}`,
    );
    throw Object.assign(error, { cause });
  }
}

/**
 * SubtleCrypto with token-backed keys; see the file comment for what each method does with them.
 * Methods given only node keys behave exactly as `webcrypto.subtle`'s.
 */
/** The algorithm shapes encrypt and decrypt accept. */
type CipherAlgorithm =
  | AlgorithmIdentifier
  | webcrypto.RsaOaepParams
  | webcrypto.AesCtrParams
  | webcrypto.AesCbcParams
  | webcrypto.AesGcmParams;

export class TokenSubtle implements SubtleCrypto {
  readonly #base: SubtleCrypto;

  /** `base`: the SubtleCrypto for keys that are not the token's; default node's `webcrypto.subtle`. */
  constructor(base: SubtleCrypto = webcrypto.subtle) {
    this.#base = base;
    this.digest = base.digest.bind(base);
    this.generateKey = base.generateKey.bind(base);
    this.importKey = base.importKey.bind(base);
  }

  /** Node's own, unchanged. */
  readonly digest: SubtleCrypto['digest'];
  /** Node's own: new keys are made by node (make token keys with `session.generateKeypair`). */
  readonly generateKey: SubtleCrypto['generateKey'];
  /** Node's own: imported keys are node keys (put keys on the token with `importKey` of this package). */
  readonly importKey: SubtleCrypto['importKey'];

  /** Signs with a token key (RSASSA-PKCS1-v1_5, RSA-PSS, ECDSA, Ed25519/Ed448, HMAC) or a node key. */
  async sign(
    algorithm: AlgorithmIdentifier | webcrypto.RsaPssParams | webcrypto.EcdsaParams,
    key: CryptoKey,
    data: BufferSource,
  ): Promise<ArrayBuffer> {
    if (!(key instanceof TokenCryptoKey)) return this.#base.sign(algorithm, key, data);
    const params = paramsOf(algorithm, 'algorithm');
    checkUse(key, params, 'sign');
    const scheme = schemeOf(key, params);
    const bytes = bytesOf(data, 'data');
    const signature = await onToken('sign', () =>
      signWithToken(key.key as PrivateKey | SecretKey, scheme, bytes),
    );
    return arrayBufferOf(signature);
  }

  /** Verifies with a token key (public or HMAC) or a node key; false for a wrong signature. */
  async verify(
    algorithm: AlgorithmIdentifier | webcrypto.RsaPssParams | webcrypto.EcdsaParams,
    key: CryptoKey,
    signature: BufferSource,
    data: BufferSource,
  ): Promise<boolean> {
    if (!(key instanceof TokenCryptoKey)) return this.#base.verify(algorithm, key, signature, data);
    const params = paramsOf(algorithm, 'algorithm');
    checkUse(key, params, 'verify');
    const scheme = schemeOf(key, params);
    const sig = Uint8Array.from(bytesOf(signature, 'signature'));
    const bytes = bytesOf(data, 'data');
    return onToken('verify', () => verifyWithToken(key.key as PublicKey | SecretKey, scheme, bytes, sig));
  }

  /** Encrypts with a token key (RSA-OAEP public key, AES-GCM, AES-CBC) or a node key. */
  encrypt(algorithm: CipherAlgorithm, key: CryptoKey, data: BufferSource): Promise<ArrayBuffer> {
    if (!(key instanceof TokenCryptoKey)) return this.#base.encrypt(algorithm, key, data);
    return this.#cipher('encrypt', algorithm, key, data);
  }

  /** Decrypts with a token key (RSA-OAEP private key, AES-GCM, AES-CBC) or a node key. */
  decrypt(algorithm: CipherAlgorithm, key: CryptoKey, data: BufferSource): Promise<ArrayBuffer> {
    if (!(key instanceof TokenCryptoKey)) return this.#base.decrypt(algorithm, key, data);
    return this.#cipher('decrypt', algorithm, key, data);
  }

  /** Runs encrypt or decrypt on the token with the options the WebCrypto algorithm maps to. */
  async #cipher(
    usage: 'encrypt' | 'decrypt',
    algorithm: CipherAlgorithm,
    key: TokenCryptoKey,
    data: BufferSource,
  ): Promise<ArrayBuffer> {
    const params = paramsOf(algorithm, 'algorithm');
    checkUse(key, params, usage);
    const options = cipherOf(key, params);
    const bytes = bytesOf(data, 'data');
    const out = await onToken(usage, () =>
      usage === 'encrypt'
        ? (key.key as PublicKey | SecretKey).encrypt(bytes, options)
        : (key.key as PrivateKey | SecretKey).decrypt(bytes, options),
    );
    return arrayBufferOf(out);
  }

  /**
   * ECDH / X25519 / X448 with a token private key: `algorithm.public` is the peer's public key
   * (node's or the token's). The shared secret comes out of the token through a temporary,
   * extractable session key that is destroyed at once. `length` in bits (null: all of it).
   * A node base key with a token peer key runs in node.
   */
  async deriveBits(
    algorithm:
      AlgorithmIdentifier | webcrypto.EcdhKeyDeriveParams | webcrypto.HkdfParams | webcrypto.Pbkdf2Params,
    baseKey: CryptoKey,
    length: number | null,
  ): Promise<ArrayBuffer> {
    const params = paramsOf(algorithm, 'algorithm');
    if (!(baseKey instanceof TokenCryptoKey)) {
      const nodeAlgorithm =
        params.public instanceof TokenCryptoKey
          ? { ...params, public: await this.#nodeKey(params.public) }
          : algorithm;
      return this.#base.deriveBits(nodeAlgorithm as webcrypto.EcdhKeyDeriveParams, baseKey, length as number);
    }
    checkUse(baseKey, params, 'deriveBits');
    if (baseKey.type !== 'private')
      throw webCryptoError('NotSupportedError', `${baseKey.algorithm.name} keys do not derive`);
    const peer = params.public;
    if (peer === undefined || peer === null || typeof peer !== 'object')
      throw new TypeError('algorithm.public must be a CryptoKey');
    if (
      peer.type !== 'public' ||
      peer.algorithm.name !== baseKey.algorithm.name ||
      !sameCurve(peer, baseKey)
    ) {
      throw webCryptoError(
        'InvalidAccessError',
        `algorithm.public must be a ${baseKey.algorithm.name} public key on the same curve`,
      );
    }
    const point = new Uint8Array(await this.exportKey('raw', peer));
    const secret = await onToken('deriveBits', () => ecdhSecret(baseKey.key as PrivateKey, point));
    try {
      return arrayBufferOf(truncate(secret, length));
    } finally {
      secret.fill(0);
    }
  }

  /** Node's own; token keys cannot be used here (a DOMException NotSupportedError). */
  deriveKey(...args: Parameters<SubtleCrypto['deriveKey']>): Promise<CryptoKey> {
    const [algorithm, baseKey] = args;
    if (
      baseKey instanceof TokenCryptoKey ||
      (algorithm as AlgorithmParams).public instanceof TokenCryptoKey
    ) {
      return Promise.reject(
        webCryptoError('NotSupportedError', 'deriveKey with token keys: use deriveBits and importKey'),
      );
    }
    return this.#base.deriveKey(...args);
  }

  /** Node's own; token keys cannot be used here (a DOMException NotSupportedError). */
  wrapKey(...args: Parameters<SubtleCrypto['wrapKey']>): Promise<ArrayBuffer> {
    if (args[1] instanceof TokenCryptoKey || args[2] instanceof TokenCryptoKey) {
      return Promise.reject(
        webCryptoError('NotSupportedError', 'wrapKey with token keys: use the key objects of the token'),
      );
    }
    return this.#base.wrapKey(...args);
  }

  /** Node's own; token keys cannot be used here (a DOMException NotSupportedError). */
  unwrapKey(...args: Parameters<SubtleCrypto['unwrapKey']>): Promise<CryptoKey> {
    if (args[2] instanceof TokenCryptoKey) {
      return Promise.reject(
        webCryptoError('NotSupportedError', 'unwrapKey with token keys: use the key objects of the token'),
      );
    }
    return this.#base.unwrapKey(...args);
  }

  /**
   * Exports a token public key as `'spki'` (DER), `'jwk'` (with `key_ops` and `ext`) or `'raw'`
   * (the point of an EC, Edwards or Montgomery key: uncompressed 04||X||Y, or the RFC 8032/7748
   * bytes); private and secret token keys are not extractable. Node keys go to node.
   */
  exportKey(format: 'jwk', key: CryptoKey): Promise<webcrypto.JsonWebKey>;
  exportKey(format: Exclude<webcrypto.KeyFormat, 'jwk'>, key: CryptoKey): Promise<ArrayBuffer>;
  async exportKey(format: webcrypto.KeyFormat, key: CryptoKey): Promise<webcrypto.JsonWebKey | ArrayBuffer> {
    if (!(key instanceof TokenCryptoKey)) return this.#base.exportKey(format as 'spki', key);
    if (key.type !== 'public')
      throw webCryptoError('InvalidAccessError', 'token private and secret keys are not extractable');
    switch (format) {
      case 'spki':
        return arrayBufferOf(await publicKeyInfo(key.key, 'exportKey'));
      case 'jwk': {
        const jwk = await exportPublicKey(key.key, 'jwk');
        return { ...jwk, key_ops: [...key.usages], ext: true } as webcrypto.JsonWebKey;
      }
      case 'raw': {
        if (!EC_FAMILY.includes(key.key.keyType)) {
          throw webCryptoError('NotSupportedError', `${key.algorithm.name} public keys have no raw format`);
        }
        const values = await key.key.getAttributes([Attribute.EC_POINT, Attribute.EC_PARAMS]);
        const params = values[Attribute.EC_PARAMS];
        return arrayBufferOf(decodeEcPoint(values[Attribute.EC_POINT] as Uint8Array, params as Uint8Array));
      }
      default:
        throw webCryptoError(
          'NotSupportedError',
          `public keys cannot be exported as ${JSON.stringify(format)}`,
        );
    }
  }

  /** A token public key as node's own CryptoKey (for node operations that take a peer key). */
  async #nodeKey(key: TokenCryptoKey): Promise<CryptoKey> {
    if (key.type !== 'public')
      throw webCryptoError('InvalidAccessError', 'only token public keys can be used by node');
    const spki = await this.exportKey('spki', key);
    return this.#base.importKey('spki', spki, key.algorithm as webcrypto.EcKeyImportParams, true, []);
  }
}

/** Whether two EC-family keys are on the same curve (Edwards/Montgomery keys: same algorithm name). */
function sameCurve(a: CryptoKey, b: CryptoKey): boolean {
  const curveA = (a.algorithm as webcrypto.EcKeyAlgorithm).namedCurve;
  const curveB = (b.algorithm as webcrypto.EcKeyAlgorithm).namedCurve;
  if (curveA === undefined || curveB === undefined) return curveA === curveB;
  try {
    return curveOfWebName(curveA, 'namedCurve') === curveOfWebName(curveB, 'namedCurve');
  } catch {
    return false;
  }
}

/** The first `length` bits of `secret` (all of it for null); OperationError when it is too short. */
function truncate(secret: Uint8Array, length: number | null): Uint8Array {
  if (length === null || length === undefined) return secret;
  if (!Number.isSafeInteger(length) || length < 0)
    throw new TypeError('length must be a whole number of bits or null');
  if (length > secret.length * 8) {
    throw webCryptoError(
      'OperationError',
      `length ${length} exceeds the ${secret.length * 8} bits of the secret`,
    );
  }
  const out = secret.slice(0, Math.ceil(length / 8));
  const spare = out.length * 8 - length;
  if (spare > 0) out[out.length - 1]! &= 0xff << spare;
  return out;
}

/**
 * The WebCrypto `Crypto` of this package: `subtle` is a `TokenSubtle` over node's webcrypto,
 * the rest is node's (its `CryptoKey` is node's class: token keys are `TokenCryptoKey`s). Set it as @peculiar/x509's provider, or pass it where a `Crypto` is taken.
 *
 * @example
 * ```ts
 * import * as x509 from '@peculiar/x509';
 * x509.cryptoProvider.set(tokenCrypto);
 * const keys = await toCryptoKeyPair(pair, { name: 'ECDSA' });
 * const sig = await tokenCrypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, keys.privateKey, data);
 * ```
 */
export const tokenCrypto: webcrypto.Crypto = Object.freeze({
  subtle: new TokenSubtle(),
  getRandomValues: webcrypto.getRandomValues.bind(webcrypto),
  randomUUID: webcrypto.randomUUID.bind(webcrypto),
  CryptoKey: globals.CryptoKey,
});
