/**
 * Key classes and the operations each kind of key is for. The operations live in small mixins
 * (`Encrypts`, `Signs`, ...) so that a public key, a private key and a secret key share one
 * implementation of each operation.
 *
 * @example
 * const sig = await privateKey.sign(data, { mechanism: Mechanism.ECDSA_SHA256 });
 * const ok = await publicKey.verify(data, sig, { mechanism: Mechanism.ECDSA_SHA256 });
 */
import { allocULong, readULong } from '../sys/abi.js';
import { Attribute } from '../sys/constants.js';
import { check } from '../core/errors.js';
import { describeType } from '../core/template.js';
import { curveInfo } from '../util/curves.js';
import { PkcsObject } from './objects.js';
import { adoptObject } from './object-factory.js';
import { generateKeypair, type KeyPair, type KeyPairOptions } from './keygen.js';
import {
  DECRYPT,
  ENCRYPT,
  SIGN,
  VERIFY,
  isStream,
  toBytes,
  type BytesLike,
  type DataStream,
  type OperationFunctions,
} from './operations.js';
import type { OperationOptions, StreamOptions } from './plan.js';
import type { NewKeyOptions } from './templates.js';
import type { Session } from './session.js';
import { runDerive, runStreamed, runSingle, runUnwrap, runVerifyPlan, runWrap } from './run-plan.js';

/** Any key: adds the key type and size to {@link PkcsObject}. */
export class Key extends PkcsObject {
  /** `CKA_KEY_TYPE`. */
  get keyType(): number {
    return this.summary.get(Attribute.KEY_TYPE) as number;
  }

  /**
   * The key size in bits: the modulus for RSA, the curve's field for EC and EdDSA, the value for
   * secret keys; `undefined` when the token does not say.
   */
  get keyLength(): number | undefined {
    const s = this.summary;
    const bits = s.get(Attribute.MODULUS_BITS);
    if (typeof bits === 'number') return bits;
    const modulus = s.get(Attribute.MODULUS);
    if (modulus instanceof Uint8Array) return bitLength(modulus);
    const params = s.get(Attribute.EC_PARAMS);
    if (params instanceof Uint8Array) {
      try {
        return curveInfo(params).fieldBits;
      } catch {
        return undefined;
      }
    }
    const len = s.get(Attribute.VALUE_LEN);
    return typeof len === 'number' ? len * 8 : undefined;
  }
}

function bitLength(bigEndian: Uint8Array): number {
  const i = bigEndian.findIndex((b) => b !== 0);
  return i < 0 ? 0 : (bigEndian.length - i) * 8 - Math.clz32(bigEndian[i] as number) + 24;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the TypeScript mixin pattern requires `any[]` here
type KeyCtor = abstract new (...args: any[]) => Key;

/** Encrypt or decrypt: one-shot for bytes (a Promise of the output), streamed for iterables (an async generator of chunks). */
function transform(
  key: Key,
  fns: OperationFunctions,
  kind: 'encrypt' | 'decrypt',
  data: BytesLike | DataStream,
  options: StreamOptions,
): Promise<Uint8Array> | AsyncGenerator<Uint8Array> {
  return isStream(data)
    ? runStreamed(key, fns, kind, data, options)
    : runSingle(key, fns, kind, toBytes(data, 'data'), options);
}

/** Adds `encrypt`. */
function Encrypts<B extends KeyCtor>(Base: B) {
  abstract class Encrypting extends Base {
    /** Encrypts bytes (resolving to the ciphertext) or a stream of chunks (yielding ciphertext chunks). */
    encrypt(data: BytesLike, options?: OperationOptions): Promise<Uint8Array>;
    encrypt(data: DataStream, options?: StreamOptions): AsyncGenerator<Uint8Array>;
    encrypt(
      data: BytesLike | DataStream,
      options: StreamOptions = {},
    ): Promise<Uint8Array> | AsyncGenerator<Uint8Array> {
      return transform(this, ENCRYPT, 'encrypt', data, options);
    }
  }
  return Encrypting;
}

/** Adds `decrypt`. */
function Decrypts<B extends KeyCtor>(Base: B) {
  abstract class Decrypting extends Base {
    /** Decrypts bytes (resolving to the plaintext) or a stream of chunks (yielding plaintext chunks). */
    decrypt(data: BytesLike, options?: OperationOptions): Promise<Uint8Array>;
    decrypt(data: DataStream, options?: StreamOptions): AsyncGenerator<Uint8Array>;
    decrypt(
      data: BytesLike | DataStream,
      options: StreamOptions = {},
    ): Promise<Uint8Array> | AsyncGenerator<Uint8Array> {
      return transform(this, DECRYPT, 'decrypt', data, options);
    }
  }
  return Decrypting;
}

/** Adds `sign`. */
function Signs<B extends KeyCtor>(Base: B) {
  abstract class Signing extends Base {
    /** Signs (or MACs) bytes or a stream; resolves to the signature. */
    sign(data: BytesLike | DataStream, options: OperationOptions = {}): Promise<Uint8Array> {
      return runSingle(this, SIGN, 'sign', isStream(data) ? data : toBytes(data, 'data'), options);
    }
  }
  return Signing;
}

/** Adds `verify`. */
function Verifies<B extends KeyCtor>(Base: B) {
  abstract class Verifying extends Base {
    /** True when `signature` is valid for the bytes or stream, false when it is not; an error for anything else. */
    verify(
      data: BytesLike | DataStream,
      signature: Uint8Array,
      options: OperationOptions = {},
    ): Promise<boolean> {
      if (!(signature instanceof Uint8Array))
        throw new TypeError(`signature must be a Uint8Array, got ${describeType(signature)}`);
      return runVerifyPlan(this, VERIFY, isStream(data) ? data : toBytes(data, 'data'), signature, options);
    }
  }
  return Verifying;
}

/** Adds `wrapKey`. */
function Wraps<B extends KeyCtor>(Base: B) {
  abstract class Wrapping extends Base {
    /** `C_WrapKey`: `key` encrypted under this key, for export. */
    async wrapKey(key: Key, options: OperationOptions = {}): Promise<Uint8Array> {
      if (!(key instanceof Key)) throw new TypeError(`key must be a Key, got ${describeType(key)}`);
      return runWrap(this, key, options);
    }
  }
  return Wrapping;
}

/** Adds `unwrapKey`. */
function Unwraps<B extends KeyCtor>(Base: B) {
  abstract class Unwrapping extends Base {
    /** `C_UnwrapKey`: imports a wrapped key as a new object of `objectClass` and `keyType`. */
    async unwrapKey(
      objectClass: number,
      keyType: number,
      wrapped: Uint8Array,
      options: OperationOptions & NewKeyOptions = {},
    ): Promise<Key> {
      if (!(wrapped instanceof Uint8Array))
        throw new TypeError(`wrapped must be a Uint8Array, got ${describeType(wrapped)}`);
      return runUnwrap(this, objectClass, keyType, wrapped, options);
    }
  }
  return Unwrapping;
}

/** Adds `deriveKey`. */
function Derives<B extends KeyCtor>(Base: B) {
  abstract class Deriving extends Base {
    /**
     * `C_DeriveKey`: a new secret key of `keyType` and `keyLength` bits from this key.
     *
     * @example
     * // ECDH with a peer's raw public point; read the shared secret (ask for an extractable key to read it)
     * const shared = await ecPriv.deriveKey(KeyType.GENERIC_SECRET, 256, {
     *   mechanismParam: [KDF.NULL, null, peerPoint],
     *   template: { [Attribute.SENSITIVE]: false, [Attribute.EXTRACTABLE]: true },
     * });
     */
    async deriveKey(
      keyType: number,
      keyLength: number,
      options: OperationOptions & NewKeyOptions = {},
    ): Promise<Key> {
      return runDerive(this, keyType, keyLength, options);
    }
  }
  return Deriving;
}

/** Runs a call that writes one new object handle, and wraps the handle. */
export async function newObject(
  session: Session,
  fn: 'C_UnwrapKey' | 'C_DeriveKey' | 'C_GenerateKey',
  call: (handle: bigint, out: Buffer, invoke: (typeof session.context)['invoke']) => Promise<number>,
): Promise<Key> {
  const h = await session.exclusive(fn, async ({ handle, invoke }) => {
    const out = allocULong();
    check(fn, await call(handle, out, invoke));
    return readULong(out, 0);
  });
  return (await adoptObject(session, h)) as Key;
}

/** The public half of a key pair: encrypt, verify, wrap. */
export class PublicKey extends Wraps(Verifies(Encrypts(Key))) {}

/** The private half of a key pair: decrypt, sign, unwrap, derive. */
export class PrivateKey extends Derives(Unwraps(Signs(Decrypts(Key)))) {}

/** A symmetric key: every operation. */
export class SecretKey extends Derives(Unwraps(Wraps(Verifies(Signs(Decrypts(Encrypts(Key))))))) {}

/** Domain parameters (DSA, DH, X9.42 DH, EC): generate key pairs from them. */
export class DomainParameters extends PkcsObject {
  /** `CKA_KEY_TYPE` of the keys these parameters are for. */
  get keyType(): number {
    return this.summary.get(Attribute.KEY_TYPE) as number;
  }

  /** Generates a key pair in these parameters. */
  generateKeypair(options: KeyPairOptions = {}): Promise<KeyPair> {
    return generateKeypair(this.session, this.keyType, this, options);
  }
}

/** A certificate object. */
export class Certificate extends PkcsObject {
  /** `CKA_CERTIFICATE_TYPE`, e.g. `CertificateType.X_509`. */
  get certificateType(): number {
    return this.summary.get(Attribute.CERTIFICATE_TYPE) as number;
  }
}

/** A data object (`CKO_DATA`). */
export class Data extends PkcsObject {}
