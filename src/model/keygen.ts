/**
 * Key and domain-parameter generation: `generateKey`, `generateKeypair`, `createDomainParameters`,
 * `generateDomainParameters`, and key pairs from domain parameters.
 */
import { ULONG_SIZE, allocBuffer, allocULong, readULong } from '../sys/abi.js';
import { Attribute, KeyType, ObjectClass } from '../sys/constants.js';
import { nameOf } from '../sys/names.js';
import { check } from '../core/errors.js';
import { encodeMechanism } from '../core/mechanism.js';
import { describeType, type Template } from '../core/template.js';
import { encodeNamedCurveParameters } from '../util/curves.js';
import { KEY_GEN_MECHANISMS, PARAMETER_GEN_MECHANISMS } from './defaults.js';
import { DomainParameters, newObject, type Key, type PrivateKey, type PublicKey } from './keys.js';
import { adoptObject, adoptObjects } from './object-factory.js';
import { createObjects } from './quirks.js';
import type { Session } from './session.js';
import { newKeyTemplate, type NewKeyOptions } from './templates.js';

/** Options of key-pair generation. */
export interface KeyPairOptions extends NewKeyOptions {
  /** The generation mechanism; default per key type (defaults.ts). */
  readonly mechanism?: number;
  /** RSA public exponent, big-endian; default 65537. */
  readonly publicExponent?: Uint8Array;
  /** Extra attributes for the public key only (override `template`). */
  readonly publicTemplate?: Template;
  /** Extra attributes for the private key only (override `template`). */
  readonly privateTemplate?: Template;
}

/** A generated key pair; destructures as `{ publicKey, privateKey }` or, python-style, `[pub, priv]`. */
export class KeyPair {
  constructor(
    readonly publicKey: PublicKey,
    readonly privateKey: PrivateKey,
  ) {}

  *[Symbol.iterator](): Generator<PublicKey | PrivateKey> {
    yield this.publicKey;
    yield this.privateKey;
  }
}

/**
 * Domain parameters held in memory rather than on the token (python-pkcs11's `local=True`):
 * a key type and the attributes that define the group, ready to generate key pairs from.
 */
export class LocalDomainParameters {
  constructor(
    readonly session: Session,
    readonly keyType: number,
    /** The parameter attributes (EC_PARAMS; or PRIME, SUBPRIME, BASE). */
    readonly template: Template,
  ) {}

  /** Reads one parameter attribute. */
  get(attribute: number): Template[number] {
    return this.template[attribute];
  }

  /** Generates a key pair in these parameters. */
  generateKeypair(options: KeyPairOptions = {}): Promise<KeyPair> {
    return generateKeypairWith(this.session, this.keyType, this.template, options);
  }
}

const DOMAIN_ATTRIBUTES = [Attribute.EC_PARAMS, Attribute.PRIME, Attribute.SUBPRIME, Attribute.BASE];

function checkKeyType(keyType: unknown): number {
  if (!Number.isSafeInteger(keyType) || (keyType as number) < 0)
    throw new TypeError(`keyType must be a KeyType number, got ${describeType(keyType)}`);
  return keyType as number;
}

function generationMechanism(
  keyType: number,
  given: number | undefined,
  table: ReadonlyMap<number, number>,
): number {
  const m = given ?? table.get(keyType);
  if (m === undefined)
    throw new TypeError(
      `no default generation mechanism for ${nameOf(KeyType, keyType)}: pass options.mechanism`,
    );
  return m;
}

/**
 * The domain attributes of a key pair from the second argument of `generateKeypair`: RSA modulus
 * bits; an EC curve as name, OID or encoded EC_PARAMS; or domain parameters (local or on the token).
 */
async function domainOf(keyType: number, spec: unknown): Promise<Template> {
  if (spec instanceof LocalDomainParameters) return spec.template;
  if (spec instanceof DomainParameters) {
    const values = await spec.getAttributes(DOMAIN_ATTRIBUTES);
    return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as Template;
  }
  if (keyType === KeyType.RSA) {
    if (!Number.isSafeInteger(spec) || (spec as number) < 512 || (spec as number) > 65536) {
      throw new RangeError(
        `RSA key length must be a whole number of bits within 512..65536, got ${String(spec)}`,
      );
    }
    return { [Attribute.MODULUS_BITS]: spec as number };
  }
  if (keyType === KeyType.EC || keyType === KeyType.EC_EDWARDS || keyType === KeyType.EC_MONTGOMERY) {
    if (typeof spec === 'string') return { [Attribute.EC_PARAMS]: encodeNamedCurveParameters(spec) };
    if (spec instanceof Uint8Array) return { [Attribute.EC_PARAMS]: spec };
    throw new TypeError(
      `the curve must be a name, a dotted OID or encoded EC_PARAMS, got ${describeType(spec)}`,
    );
  }
  if (spec !== null && typeof spec === 'object' && !Array.isArray(spec)) return spec as Template;
  throw new TypeError(
    `${nameOf(KeyType, keyType)} key pairs need domain parameters (from createDomainParameters), got ${describeType(spec)}`,
  );
}

/** `C_GenerateKeyPair` for `keyType` with a domain given as in {@link domainOf}. */
export async function generateKeypair(
  session: Session,
  keyType: unknown,
  spec: unknown,
  options: KeyPairOptions = {},
): Promise<KeyPair> {
  const type = checkKeyType(keyType);
  return generateKeypairWith(session, type, await domainOf(type, spec), options);
}

async function generateKeypairWith(
  session: Session,
  keyType: number,
  domain: Template,
  options: KeyPairOptions,
): Promise<KeyPair> {
  const mechanism = encodeMechanism(generationMechanism(keyType, options.mechanism, KEY_GEN_MECHANISMS));
  if (options.publicExponent !== undefined && !(options.publicExponent instanceof Uint8Array)) {
    throw new TypeError('options.publicExponent must be a Uint8Array');
  }
  const exponent =
    keyType === KeyType.RSA
      ? { [Attribute.PUBLIC_EXPONENT]: options.publicExponent ?? Uint8Array.of(1, 0, 1) }
      : {};
  const pubTemplate: Template = {
    ...newKeyTemplate(ObjectClass.PUBLIC_KEY, keyType, 'public', options),
    ...domain,
    ...exponent,
    ...options.template,
    ...options.publicTemplate,
  };
  const privTemplate: Template = {
    ...newKeyTemplate(ObjectClass.PRIVATE_KEY, keyType, 'private', options),
    ...options.privateTemplate,
  };
  const [hPub, hPriv] = await createObjects(session, [pubTemplate, privTemplate], ([pub, priv]) =>
    session.exclusive('C_GenerateKeyPair', async ({ handle, invoke }) => {
      const out = allocBuffer(2 * ULONG_SIZE);
      const pubOut = out.subarray(0, ULONG_SIZE);
      const privOut = out.subarray(ULONG_SIZE);
      check(
        'C_GenerateKeyPair',
        await invoke(
          'C_GenerateKeyPair',
          handle,
          mechanism,
          pub!.buf,
          pub!.count,
          priv!.buf,
          priv!.count,
          pubOut,
          privOut,
        ),
      );
      return [readULong(out, 0), readULong(out, ULONG_SIZE)];
    }),
  );
  const [publicKey, privateKey] = (await adoptObjects(session, [hPub, hPriv])) as [PublicKey, PrivateKey];
  return new KeyPair(publicKey, privateKey);
}

/** `C_GenerateKey`: a secret key of `keyType` and `keyLength` bits (ignored for fixed-size types like DES3 when undefined). */
export function generateKey(
  session: Session,
  keyType: unknown,
  keyLength: number | undefined,
  options: NewKeyOptions & { mechanism?: number } = {},
): Promise<Key> {
  const type = checkKeyType(keyType);
  const mechanism = encodeMechanism(generationMechanism(type, options.mechanism, KEY_GEN_MECHANISMS));
  const template = newKeyTemplate(ObjectClass.SECRET_KEY, type, 'secret', {
    ...options,
    valueLength: keyLength,
  });
  return createObjects(session, [template], ([t]) =>
    newObject(session, 'C_GenerateKey', (h, out, invoke) =>
      invoke('C_GenerateKey', h, mechanism, t!.buf, t!.count, out),
    ),
  );
}

/**
 * Domain parameters from known values: kept in memory with `local: true` (python-pkcs11's default
 * for EC, and the only choice on tokens without domain-parameter objects), else created on the token.
 */
export async function createDomainParameters(
  session: Session,
  keyType: unknown,
  attributes: Template,
  options: { local?: boolean; store?: boolean; label?: string } = {},
): Promise<LocalDomainParameters | DomainParameters> {
  const type = checkKeyType(keyType);
  if (options.local) return new LocalDomainParameters(session, type, attributes);
  const obj = await session.createObject({
    [Attribute.CLASS]: ObjectClass.DOMAIN_PARAMETERS,
    [Attribute.KEY_TYPE]: type,
    [Attribute.TOKEN]: options.store ?? false,
    [Attribute.LABEL]: options.label,
    ...attributes,
  });
  return obj as DomainParameters;
}

/** `C_GenerateKey` with a parameter-generation mechanism: new DSA/DH/X9.42 domain parameters of `bits` bits. */
export async function generateDomainParameters(
  session: Session,
  keyType: unknown,
  bits: number,
  options: { mechanism?: number; store?: boolean; label?: string; template?: Template } = {},
): Promise<DomainParameters> {
  const type = checkKeyType(keyType);
  if (!Number.isSafeInteger(bits) || bits <= 0)
    throw new RangeError(`bits must be a positive whole number, got ${bits}`);
  const mechanism = encodeMechanism(generationMechanism(type, options.mechanism, PARAMETER_GEN_MECHANISMS));
  const template: Template = {
    [Attribute.CLASS]: ObjectClass.DOMAIN_PARAMETERS,
    [Attribute.KEY_TYPE]: type,
    [Attribute.TOKEN]: options.store ?? false,
    [Attribute.LABEL]: options.label,
    [Attribute.PRIME_BITS]: bits,
    ...options.template,
  };
  const h = await createObjects(session, [template], ([t]) =>
    session.exclusive('C_GenerateKey', async ({ handle, invoke }) => {
      const out = allocULong();
      check('C_GenerateKey', await invoke('C_GenerateKey', handle, mechanism, t!.buf, t!.count, out));
      return readULong(out, 0);
    }),
  );
  return (await adoptObject(session, h)) as DomainParameters;
}
