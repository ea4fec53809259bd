/**
 * Keys made outside the token (node:crypto `KeyObject`s, PEM files, JWKs) imported into it as
 * PKCS#11 objects: RSA, EC, EdDSA and Montgomery public and private keys, DSA public keys, and
 * secret keys (AES, generic secrets for HMAC, or any secret key type the caller names).
 */
import { type JsonWebKey, KeyObject, createPrivateKey, createPublicKey, createSecretKey } from 'node:crypto';
import { Attribute, KeyType, ObjectClass } from '../sys/constants.js';
import { nameOf } from '../sys/names.js';
import type { Template } from '../core/template.js';
import { describe } from '../util/der.js';
import { decodeEcPrivateKey } from '../util/ec.js';
import { decodeRsaPrivateKey } from '../util/rsa.js';
import { decodeX509PublicKey } from '../util/x509.js';
import type { PrivateKey, PublicKey, SecretKey } from '../model/keys.js';
import type { Session } from '../model/session.js';
import { type NewKeyOptions, newKeyTemplate, partOf } from '../model/templates.js';

/** What `importKey` accepts: a node:crypto key, PEM text, or a JSON Web Key. */
export type KeyInput = KeyObject | string | JsonWebKey;

/** Options of `importKey`: those of every new key, plus what only an import needs. */
export interface ImportKeyOptions extends NewKeyOptions {
  /**
   * The PKCS#11 key type of a secret key (`KeyType.AES`, `KeyType.GENERIC_SECRET` for HMAC, ...).
   * Required for secret keys unless a JWK's `alg` says it (`A256GCM`, `A128KW` ... give AES;
   * `HS256` ... a generic secret); for asymmetric keys it is read from the key and, if given, must match.
   */
  readonly keyType?: number;
  /**
   * Whether a private or secret key may later leave the token (CKA_EXTRACTABLE); default false,
   * and the key is SENSITIVE either way unless `template` says otherwise.
   */
  readonly extractable?: boolean;
  /** Passphrase of an encrypted PEM private key. */
  readonly passphrase?: string | Uint8Array;
}

/** The PKCS#11 key type of each of node's asymmetric key types (`KeyObject.asymmetricKeyType`). */
export const ASYMMETRIC_TYPES: Readonly<Record<string, number>> = {
  rsa: KeyType.RSA,
  'rsa-pss': KeyType.RSA,
  ec: KeyType.EC,
  ed25519: KeyType.EC_EDWARDS,
  ed448: KeyType.EC_EDWARDS,
  x25519: KeyType.EC_MONTGOMERY,
  x448: KeyType.EC_MONTGOMERY,
  dsa: KeyType.DSA,
};

const AES_SIZES = new Set([16, 24, 32]);
const PEM_LABEL = /-----BEGIN ([A-Z0-9 ]+)-----/;

/**
 * Creates a key object on the token from a node:crypto `KeyObject`, PEM text (`PRIVATE KEY`,
 * `RSA PRIVATE KEY`, `EC PRIVATE KEY`, `ENCRYPTED PRIVATE KEY` with `options.passphrase`,
 * `PUBLIC KEY`, `RSA PUBLIC KEY`) or a JWK. Private and secret keys are PRIVATE, SENSITIVE and not
 * EXTRACTABLE unless asked (`options.extractable`, `options.template`); usage flags follow the key
 * type's defaults (an EC private key may sign and derive, an AES key do everything) unless
 * `options.capabilities` says otherwise. A session object unless `options.store` is true.
 * Copies of key material made on the way are zeroed once the token has the key.
 *
 * @example
 * ```ts
 * const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
 * const key = await importKey(session, privateKey, { store: true, label: 'imported', id: Uint8Array.of(7) });
 * const aes = await importKey(session, crypto.createSecretKey(crypto.randomBytes(32)), { keyType: KeyType.AES });
 * ```
 */
export async function importKey(
  session: Session,
  input: KeyInput,
  options: ImportKeyOptions = {},
): Promise<PublicKey | PrivateKey | SecretKey> {
  checkOptions(options);
  const { keyObject, jwkAlg } = toKeyObject(input, options.passphrase);
  const material = keyMaterial(keyObject, options.keyType, jwkAlg);
  try {
    const objectClass = material[Attribute.CLASS] as number;
    const keyType = material[Attribute.KEY_TYPE] as number;
    const part = partOf(objectClass);
    const extractable =
      options.extractable === undefined || part === 'public'
        ? {}
        : { [Attribute.EXTRACTABLE]: options.extractable };
    const base = newKeyTemplate(objectClass, keyType, part, {
      ...options,
      template: { ...extractable, ...options.template },
    });
    const created = await session.createObject({ ...base, ...material } as Template);
    return created as PublicKey | PrivateKey | SecretKey;
  } finally {
    if (material[Attribute.CLASS] !== ObjectClass.PUBLIC_KEY) zero(material);
  }
}

/** Overwrites the byte values of a template of private or secret key material. */
function zero(material: Template): void {
  for (const value of Object.values(material)) if (value instanceof Uint8Array) value.fill(0);
}

function checkOptions(options: ImportKeyOptions): void {
  if (options === null || typeof options !== 'object')
    throw new TypeError('importKey: options must be an object');
  if (options.keyType !== undefined && (!Number.isSafeInteger(options.keyType) || options.keyType < 0)) {
    throw new TypeError('importKey: options.keyType must be a KeyType number');
  }
  if (options.extractable !== undefined && typeof options.extractable !== 'boolean') {
    throw new TypeError('importKey: options.extractable must be a boolean');
  }
  const { passphrase } = options;
  if (passphrase !== undefined && typeof passphrase !== 'string' && !(passphrase instanceof Uint8Array)) {
    throw new TypeError('importKey: options.passphrase must be a string or a Uint8Array');
  }
}

/** The KeyObject of the input, and the `alg` of a JWK (it can tell a secret key's type). */
function toKeyObject(
  input: unknown,
  passphrase: string | Uint8Array | undefined,
): { keyObject: KeyObject; jwkAlg?: string } {
  const where = 'importKey: input';
  if (input instanceof KeyObject) return { keyObject: input };
  if (typeof input === 'string') return { keyObject: fromPem(input, passphrase, where) };
  if (input !== null && typeof input === 'object' && typeof (input as JsonWebKey).kty === 'string') {
    const jwk = input as JsonWebKey;
    return { keyObject: fromJwk(jwk, where), jwkAlg: typeof jwk.alg === 'string' ? jwk.alg : undefined };
  }
  throw new TypeError(`${where} must be a KeyObject, PEM text or a JWK, got ${describe(input)}`);
}

function fromPem(pem: string, passphrase: string | Uint8Array | undefined, where: string): KeyObject {
  const label = PEM_LABEL.exec(pem)?.[1];
  if (label === undefined) throw new TypeError(`${where} is a string but not PEM text (no BEGIN line)`);
  const secret = passphrase === undefined ? undefined : Buffer.from(passphrase);
  try {
    if (label.includes('PRIVATE KEY'))
      return createPrivateKey({ key: pem, format: 'pem', passphrase: secret });
    return createPublicKey({ key: pem, format: 'pem' });
  } catch (cause) {
    throw new TypeError(`${where}: PEM ${label} could not be read as a key`, { cause });
  } finally {
    secret?.fill(0);
  }
}

function fromJwk(jwk: JsonWebKey, where: string): KeyObject {
  try {
    if (jwk.kty === 'oct') {
      if (typeof jwk.k !== 'string') throw new TypeError(`${where}: an "oct" JWK needs "k"`);
      return createSecretKey(Buffer.from(jwk.k, 'base64url'));
    }
    return jwk.d === undefined
      ? createPublicKey({ key: jwk, format: 'jwk' })
      : createPrivateKey({ key: jwk, format: 'jwk' });
  } catch (cause) {
    if (cause instanceof TypeError && cause.message.startsWith(where)) throw cause;
    throw new TypeError(`${where}: the ${JSON.stringify(jwk.kty)} JWK could not be read as a key`, { cause });
  }
}

/** The key's own attributes: CLASS, KEY_TYPE and the key material, decoded by util. */
function keyMaterial(key: KeyObject, keyType: number | undefined, jwkAlg: string | undefined): Template {
  if (key.type === 'secret') return secretMaterial(key, keyType ?? secretTypeOf(jwkAlg));
  const type = key.asymmetricKeyType ?? '';
  const expected = ASYMMETRIC_TYPES[type];
  if (expected === undefined) throw new RangeError(`importKey: ${type} keys cannot be imported`);
  if (keyType !== undefined && keyType !== expected) {
    throw new TypeError(
      `importKey: options.keyType is ${nameOf(KeyType, keyType)} but the key is ${nameOf(KeyType, expected)}`,
    );
  }
  if (key.type === 'public') {
    return decodeX509PublicKey(new Uint8Array(key.export({ format: 'der', type: 'spki' }))) as Template;
  }
  if (expected === KeyType.DSA) throw new RangeError('importKey: DSA private keys cannot be imported');
  const der = key.export({ format: 'der', type: 'pkcs8' });
  try {
    const view = new Uint8Array(der.buffer, der.byteOffset, der.length);
    return (expected === KeyType.RSA ? decodeRsaPrivateKey(view) : decodeEcPrivateKey(view)) as Template;
  } finally {
    der.fill(0);
  }
}

/** The key type a JWK's `alg` implies for a secret key, if any. */
function secretTypeOf(alg: string | undefined): number | undefined {
  if (alg === undefined) return undefined;
  if (/^A(128|192|256)(KW|GCM|GCMKW)$/.test(alg)) return KeyType.AES;
  if (/^HS(256|384|512)$/.test(alg)) return KeyType.GENERIC_SECRET;
  return undefined;
}

function secretMaterial(key: KeyObject, keyType: number | undefined): Template {
  if (keyType === undefined) {
    throw new TypeError(
      'importKey: options.keyType is required for a secret key (KeyType.AES, KeyType.GENERIC_SECRET, ...)',
    );
  }
  const value = key.export();
  if (keyType === KeyType.AES && !AES_SIZES.has(value.length)) {
    value.fill(0);
    throw new RangeError(`importKey: an AES key has 16, 24 or 32 bytes, not ${value.length}`);
  }
  return {
    [Attribute.CLASS]: ObjectClass.SECRET_KEY,
    [Attribute.KEY_TYPE]: keyType,
    [Attribute.VALUE]: new Uint8Array(value.buffer, value.byteOffset, value.length),
  };
}
