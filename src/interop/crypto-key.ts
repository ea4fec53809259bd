/**
 * Token keys shaped as WebCrypto `CryptoKey`s: the same `type`, `extractable`, `algorithm` and
 * `usages` a key imported into WebCrypto would have, plus the token object behind it. Only
 * `tokenCrypto.subtle` (subtle.ts) can use them; node's own `webcrypto.subtle` cannot.
 */
import type { webcrypto } from 'node:crypto';
import { Attribute, KeyType, ObjectClass } from '../sys/constants.js';
import { nameOf } from '../sys/names.js';
import { type CurveInfo, lookupCurve } from '../util/curves.js';
import { describe } from '../util/der.js';
import { Key, type PrivateKey, type PublicKey, type SecretKey } from '../model/index.js';
import { hashInfo } from './hashes.js';
import { EC_FAMILY } from './public-key.js';

type KeyUsage = webcrypto.KeyUsage;

/** A token key as a WebCrypto key: public, private or secret. */
export type TokenKey = PublicKey | PrivateKey | SecretKey;

/** How the algorithm of `toCryptoKey` may be given: a name, or WebCrypto's import parameters. */
export type CryptoKeyAlgorithmInput =
  | string
  | {
      readonly name: string;
      /** RSA and HMAC keys: the hash the key is bound to (default SHA-256). */
      readonly hash?: string | { readonly name: string };
      /** EC keys: checked against the key's own curve when given. */
      readonly namedCurve?: string;
    };

/** The usages an algorithm allows for each kind of key, and the key types it fits. */
interface AlgorithmRule {
  readonly name: string;
  readonly keyTypes: readonly number[];
  readonly private?: readonly KeyUsage[];
  readonly public?: readonly KeyUsage[];
  readonly secret?: readonly KeyUsage[];
}

const SIGNATURE = { private: ['sign'], public: ['verify'] } as const;
const AGREEMENT = { private: ['deriveBits'], public: [] } as const;
const CIPHER = { secret: ['encrypt', 'decrypt'] } as const;

const RULES: readonly AlgorithmRule[] = [
  { name: 'RSASSA-PKCS1-v1_5', keyTypes: [KeyType.RSA], ...SIGNATURE },
  { name: 'RSA-PSS', keyTypes: [KeyType.RSA], ...SIGNATURE },
  { name: 'RSA-OAEP', keyTypes: [KeyType.RSA], private: ['decrypt'], public: ['encrypt'] },
  { name: 'ECDSA', keyTypes: [KeyType.EC], ...SIGNATURE },
  { name: 'ECDH', keyTypes: [KeyType.EC], ...AGREEMENT },
  { name: 'Ed25519', keyTypes: [KeyType.EC_EDWARDS], ...SIGNATURE },
  { name: 'Ed448', keyTypes: [KeyType.EC_EDWARDS], ...SIGNATURE },
  { name: 'X25519', keyTypes: [KeyType.EC_MONTGOMERY], ...AGREEMENT },
  { name: 'X448', keyTypes: [KeyType.EC_MONTGOMERY], ...AGREEMENT },
  { name: 'AES-GCM', keyTypes: [KeyType.AES], ...CIPHER },
  { name: 'AES-CBC', keyTypes: [KeyType.AES], ...CIPHER },
  { name: 'HMAC', keyTypes: [KeyType.GENERIC_SECRET], secret: ['sign', 'verify'] },
];
const RULE_BY_NAME = new Map(RULES.map((r) => [r.name.toLowerCase(), r] as const));

/** The algorithm a key gets when `toCryptoKey` is given none (Edwards and Montgomery keys: their curve's). */
const DEFAULT_ALGORITHM = new Map<number, string>([
  [KeyType.RSA, 'RSASSA-PKCS1-v1_5'],
  [KeyType.EC, 'ECDSA'],
  [KeyType.AES, 'AES-GCM'],
  [KeyType.GENERIC_SECRET, 'HMAC'],
]);

const KEY_CLASSES = new Map<number, webcrypto.KeyType>([
  [ObjectClass.PUBLIC_KEY, 'public'],
  [ObjectClass.PRIVATE_KEY, 'private'],
  [ObjectClass.SECRET_KEY, 'secret'],
]);

/** WebCrypto's names of the NIST curves, and the one @peculiar/x509 uses for secp256k1. */
const WEB_CURVE_NAMES: Readonly<Record<string, string>> = {
  secp256r1: 'P-256',
  secp384r1: 'P-384',
  secp521r1: 'P-521',
  secp256k1: 'K-256',
};

/** The name WebCrypto (or, beyond it, @peculiar/x509 and this library) gives `curve`. */
export function webCurveName(curve: CurveInfo): string {
  return WEB_CURVE_NAMES[curve.name] ?? curve.name;
}

/** The curve of a WebCrypto `namedCurve` (`'P-256'`, `'K-256'`, `'brainpoolP256r1'` ...). */
export function curveOfWebName(name: unknown, where: string): CurveInfo {
  const canonical = Object.keys(WEB_CURVE_NAMES).find((k) => WEB_CURVE_NAMES[k] === name);
  return lookupCurve(canonical ?? name, where);
}

/**
 * A token key in the shape of a WebCrypto `CryptoKey`. Private and secret keys are never
 * extractable; public keys are (`exportKey` reads them from the token). Made by `toCryptoKey`.
 */
export class TokenCryptoKey implements webcrypto.CryptoKey {
  /** @internal Use `toCryptoKey`. */
  constructor(
    /** The token object that does the work. */
    readonly key: TokenKey,
    /** `'public'`, `'private'` or `'secret'`. */
    readonly type: webcrypto.KeyType,
    /** The WebCrypto algorithm, with its key parameters (modulusLength, namedCurve, hash, length). */
    readonly algorithm: webcrypto.KeyAlgorithm,
    /** What the key may be used for through `tokenCrypto.subtle`. */
    readonly usages: KeyUsage[],
  ) {
    Object.freeze(algorithm);
    Object.freeze(usages);
  }

  /** Public keys only: they can be exported; private and secret ones stay in the token. */
  get extractable(): boolean {
    return this.type === 'public';
  }

  /** `Object.prototype.toString` says `[object CryptoKey]`, as for WebCrypto's own keys. */
  get [Symbol.toStringTag](): string {
    return 'CryptoKey';
  }
}

/**
 * A token key as a WebCrypto-shaped key for `tokenCrypto.subtle` (and @peculiar/x509 through it).
 * `algorithm` picks what the key is for, as WebCrypto binds a key to one algorithm:
 * - RSA: `'RSASSA-PKCS1-v1_5'` (default), `'RSA-PSS'` or `'RSA-OAEP'`, with `hash` (default SHA-256)
 * - EC: `'ECDSA'` (default) or `'ECDH'`; `namedCurve` comes from the key (P-256, P-384, P-521,
 *   K-256 for secp256k1, the canonical name for others, e.g. brainpoolP256r1)
 * - Ed25519 / Ed448 and X25519 / X448 keys: their curve's name (the default)
 * - AES: `'AES-GCM'` (default) or `'AES-CBC'`; generic secrets: `'HMAC'` with `hash`
 *
 * `usages` defaults to everything the algorithm allows for this kind of key; a usage it does not
 * allow is a RangeError. The token's own CKA_SIGN/CKA_DECRYPT ... flags still apply on use.
 *
 * @example
 * ```ts
 * const key = await toCryptoKey(privateKey, { name: 'RSA-PSS', hash: 'SHA-256' });
 * const sig = await tokenCrypto.subtle.sign({ name: 'RSA-PSS', saltLength: 32 }, key, data);
 * ```
 */
export async function toCryptoKey(
  key: TokenKey,
  algorithm?: CryptoKeyAlgorithmInput,
  usages?: readonly KeyUsage[],
): Promise<TokenCryptoKey> {
  if (!(key instanceof Key))
    throw new TypeError(`toCryptoKey: key must be a token key, got ${describe(key)}`);
  const type = KEY_CLASSES.get(key.objectClass);
  if (type === undefined) throw new TypeError('toCryptoKey: key must be a public, private or secret key');
  const curve = await curveOf(key);
  const rule = ruleFor(key.keyType, algorithm, curve);
  const allowed = rule[type] ?? [];
  const chosen = usages === undefined ? [...allowed] : checkUsages(usages, allowed, rule.name, type);
  const keyAlgorithm = await keyAlgorithmOf(key, rule.name, algorithm, curve);
  return new TokenCryptoKey(key, type, keyAlgorithm, chosen);
}

/**
 * Both halves of a token key pair as WebCrypto-shaped keys (a `CryptoKeyPair`), with one
 * algorithm; what `X509CertificateGenerator.createSelfSigned` and friends take as `keys`.
 *
 * @example
 * ```ts
 * const keys = await toCryptoKeyPair(await session.generateKeypair(KeyType.EC, 'P-256'), 'ECDSA');
 * ```
 */
export async function toCryptoKeyPair(
  pair: { readonly publicKey: PublicKey; readonly privateKey: PrivateKey },
  algorithm?: CryptoKeyAlgorithmInput,
): Promise<{ publicKey: TokenCryptoKey; privateKey: TokenCryptoKey }> {
  if (pair === null || typeof pair !== 'object') {
    throw new TypeError('toCryptoKeyPair: pair must be { publicKey, privateKey }');
  }
  const [publicKey, privateKey] = await Promise.all([
    toCryptoKey(pair.publicKey, algorithm),
    toCryptoKey(pair.privateKey, algorithm),
  ]);
  if (publicKey.type !== 'public' || privateKey.type !== 'private') {
    throw new TypeError('toCryptoKeyPair: pair must hold a public and a private key');
  }
  return { publicKey, privateKey };
}

/** The curve of an EC-family key, from the EC_PARAMS read when it was found; else undefined. */
async function curveOf(key: TokenKey): Promise<CurveInfo | undefined> {
  if (!EC_FAMILY.includes(key.keyType)) return undefined;
  const params = key.summary.get(Attribute.EC_PARAMS) ?? (await key.get(Attribute.EC_PARAMS));
  return lookupCurve(params, 'toCryptoKey: the key CKA_EC_PARAMS');
}

function ruleFor(
  keyType: number,
  algorithm: CryptoKeyAlgorithmInput | undefined,
  curve: CurveInfo | undefined,
) {
  const where = 'toCryptoKey: algorithm';
  const given = typeof algorithm === 'object' && algorithm !== null ? algorithm.name : algorithm;
  const name = given ?? DEFAULT_ALGORITHM.get(keyType) ?? curve?.name;
  if (typeof name !== 'string') {
    throw new TypeError(`${where} is required for a ${nameOf(KeyType, keyType)} key`);
  }
  const rule = RULE_BY_NAME.get(name.toLowerCase());
  if (rule === undefined) throw new RangeError(`${where}: unsupported algorithm ${JSON.stringify(name)}`);
  const curveBound = keyType === KeyType.EC_EDWARDS || keyType === KeyType.EC_MONTGOMERY;
  if (!rule.keyTypes.includes(keyType) || (curveBound && rule.name !== curve?.name)) {
    const what = curveBound ? `${curve?.name ?? 'unknown-curve'} key` : `${nameOf(KeyType, keyType)} key`;
    throw new TypeError(`${where}: ${rule.name} does not fit a ${what}`);
  }
  return rule;
}

function checkUsages(
  usages: readonly KeyUsage[],
  allowed: readonly KeyUsage[],
  name: string,
  type: string,
): KeyUsage[] {
  if (!Array.isArray(usages)) throw new TypeError('toCryptoKey: usages must be an array');
  for (const usage of usages) {
    if (!allowed.includes(usage)) {
      throw new RangeError(
        `toCryptoKey: usage ${JSON.stringify(usage)} is not allowed for a ${type} ${name} key`,
      );
    }
  }
  return [...new Set(usages)];
}

async function keyAlgorithmOf(
  key: TokenKey,
  name: string,
  algorithm: CryptoKeyAlgorithmInput | undefined,
  curve: CurveInfo | undefined,
): Promise<webcrypto.KeyAlgorithm> {
  const params: Exclude<CryptoKeyAlgorithmInput, string> =
    typeof algorithm === 'object' && algorithm !== null ? algorithm : { name };
  const hash = () => ({ name: hashInfo(params.hash ?? 'SHA-256', 'toCryptoKey: algorithm.hash').name });
  const bits = key.keyLength;
  switch (name) {
    case 'RSASSA-PKCS1-v1_5':
    case 'RSA-PSS':
    case 'RSA-OAEP': {
      const exponent = await key.get(Attribute.PUBLIC_EXPONENT);
      const publicExponent = exponent instanceof Uint8Array ? Uint8Array.from(exponent) : new Uint8Array(0);
      return { name, modulusLength: bits, publicExponent, hash: hash() } as webcrypto.RsaHashedKeyAlgorithm;
    }
    case 'ECDSA':
    case 'ECDH': {
      const namedCurve = webCurveName(curve!);
      if (params.namedCurve !== undefined) {
        const wanted = curveOfWebName(params.namedCurve, 'toCryptoKey: algorithm.namedCurve');
        if (wanted !== curve)
          throw new TypeError(`toCryptoKey: algorithm.namedCurve is not the key's curve ${namedCurve}`);
      }
      return { name, namedCurve } as webcrypto.EcKeyAlgorithm;
    }
    case 'AES-GCM':
    case 'AES-CBC':
      return { name, length: bits } as webcrypto.AesKeyAlgorithm;
    case 'HMAC':
      return { name, hash: hash(), length: bits } as webcrypto.HmacKeyAlgorithm;
    default:
      return { name };
  }
}
