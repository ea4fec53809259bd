/**
 * Token objects. The class of each object follows its `CKA_CLASS`: `PublicKey`, `PrivateKey`,
 * `SecretKey`, `DomainParameters`, `Certificate`, `Data`, or `PkcsObject` for anything else
 * (hardware features, vendor classes). Key classes carry the operations their kind of key is for.
 */
import { allocULong, readULong } from '../sys/abi.js';
import { Attribute, KeyType, ObjectClass } from '../sys/constants.js';
import { nameOf } from '../sys/names.js';
import { check } from '../core/errors.js';
import { readAttributes, readRest, type FirstRead } from '../core/attribute-read.js';
import { shortBuffersHonoured, shortBuffersKnown } from '../core/short-buffers.js';
import { checkHandle, encodeTemplate, type AttributeValue, type Template } from '../core/template.js';
import type { Session } from './session.js';
import { adoptObject } from './object-factory.js';

/** Attributes read once when an object is found, so `label`, `id`, `keyType`, `keyLength` are at hand. */
export const SUMMARY = [
  Attribute.CLASS,
  Attribute.KEY_TYPE,
  Attribute.LABEL,
  Attribute.ID,
  Attribute.MODULUS_BITS,
  Attribute.MODULUS,
  Attribute.VALUE_LEN,
  Attribute.EC_PARAMS,
  Attribute.CERTIFICATE_TYPE,
] as const;

const IS_PAIR: ReadonlySet<number> = new Set([ObjectClass.PUBLIC_KEY, ObjectClass.PRIVATE_KEY]);
const IS_KEY: ReadonlySet<number> = new Set([...IS_PAIR, ObjectClass.SECRET_KEY]);
const EC_KEY_TYPES: ReadonlySet<number> = new Set([KeyType.EC, KeyType.EC_EDWARDS, KeyType.EC_MONTGOMERY]);
/** A key type not known yet (a search names the class, not the key type): rules that need one answer yes. */
const ANY_KEY_TYPE = Symbol('any key type');

/**
 * Which classes (and key types) have each summary attribute that not every object has: the one
 * table both uses below read (`CLASS` and `LABEL` every object has).
 */
const HAS_ATTRIBUTE: ReadonlyMap<
  number,
  (objectClass: number, keyType: number | undefined | typeof ANY_KEY_TYPE) => boolean
> = new Map<number, (objectClass: number, keyType: number | undefined | typeof ANY_KEY_TYPE) => boolean>([
  [Attribute.KEY_TYPE, (c) => IS_KEY.has(c) || c === ObjectClass.DOMAIN_PARAMETERS],
  [Attribute.ID, (c) => IS_KEY.has(c) || c === ObjectClass.CERTIFICATE],
  [Attribute.MODULUS_BITS, (c, k) => IS_PAIR.has(c) && (k === ANY_KEY_TYPE || k === KeyType.RSA)],
  [Attribute.MODULUS, (c, k) => IS_PAIR.has(c) && (k === ANY_KEY_TYPE || k === KeyType.RSA)],
  [Attribute.VALUE_LEN, (c) => c === ObjectClass.SECRET_KEY],
  [
    Attribute.EC_PARAMS,
    (c, k) => IS_PAIR.has(c) && (k === ANY_KEY_TYPE || (k !== undefined && EC_KEY_TYPES.has(k))),
  ],
  [Attribute.CERTIFICATE_TYPE, (c) => c === ObjectClass.CERTIFICATE],
]);

/** Classes {@link HAS_ATTRIBUTE} speaks for; vendor classes are asked about everything. */
const KNOWN_CLASSES: ReadonlySet<number> = new Set([
  ...IS_KEY,
  ObjectClass.DATA,
  ObjectClass.CERTIFICATE,
  ObjectClass.DOMAIN_PARAMETERS,
]);

/**
 * Whether a summary read must still settle `type` after its first call found `found`: not when
 * the object's class (and key type) rules it out. A data object has no modulus; asking would cost
 * a second C call per object found, because a refused attribute and a value larger than its room
 * look alike in one call.
 */
export function summaryNeeds(
  type: number,
  found: ReadonlyMap<number, AttributeValue | undefined>,
  knownClass?: number,
): boolean {
  const objectClass = found.get(Attribute.CLASS) ?? knownClass;
  const has = HAS_ATTRIBUTE.get(type);
  if (typeof objectClass !== 'number' || !has || !KNOWN_CLASSES.has(objectClass)) return true;
  const keyType = found.get(Attribute.KEY_TYPE);
  return has(objectClass, typeof keyType === 'number' ? keyType : undefined);
}

/**
 * The summary attributes an object of a class can have, whatever its key type: what a search that
 * names the class reads of each object it finds (a data object has no key type, modulus or curve
 * to ask about). Key pairs read all of {@link SUMMARY}, as when the class is not known.
 */
const SUMMARY_OF_CLASS: ReadonlyMap<number, readonly number[]> = new Map(
  [ObjectClass.DATA, ObjectClass.CERTIFICATE, ObjectClass.SECRET_KEY, ObjectClass.DOMAIN_PARAMETERS].map(
    (objectClass) => [
      objectClass,
      SUMMARY.filter((type) => HAS_ATTRIBUTE.get(type)?.(objectClass, ANY_KEY_TYPE) ?? true),
    ],
  ),
);

/** The attributes to read of objects found by a search for `objectClass` (all of {@link SUMMARY} when unknown). */
export function summaryOf(objectClass: unknown): readonly number[] {
  return (typeof objectClass === 'number' && SUMMARY_OF_CLASS.get(objectClass)) || SUMMARY;
}

/**
 * {@link SUMMARY_OF_CLASS} without `CKA_CLASS`: what to read of an object whose class is already
 * known (a search that named it finds only objects of that class).
 */
const REST_OF_CLASS: ReadonlyMap<number, readonly number[]> = new Map(
  [...SUMMARY_OF_CLASS].map(([objectClass, types]) => [
    objectClass,
    types.filter((t) => t !== Attribute.CLASS),
  ]),
);

/** {@link summaryOf} less `CKA_CLASS`, for a class it has a list for; undefined otherwise. */
export function summaryBesidesClass(objectClass: unknown): readonly number[] | undefined {
  return typeof objectClass === 'number' ? REST_OF_CLASS.get(objectClass) : undefined;
}

/** The attributes read when the object was found. */
export type Summary = ReadonlyMap<number, AttributeValue | undefined>;

/** `value` as a `CK_ATTRIBUTE_TYPE`, or a TypeError naming `what`. */
function checkAttributeType(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)
    throw new TypeError(`${what} must be an attribute number`);
  return value;
}

/** Reads `types` of `object` in its session's turn. */
function readFrom(
  object: PkcsObject,
  types: readonly number[],
): Promise<Map<number, AttributeValue | undefined>> {
  const module = object.session.context.module;
  return object.session.exclusive('C_GetAttributeValue', async ({ handle, invoke }) => {
    const known = shortBuffersHonoured(module, invoke, handle, object.handle);
    const oneCall = typeof known === 'boolean' ? known : await known;
    return readAttributes(invoke, handle, object.handle, types, oneCall);
  });
}

/**
 * The first call of a read of `types`, made at once on this thread when the session is free, the
 * module honours short buffers and the call is allowed inline now (model/execution.ts): no queue
 * turn and no promise until the value is there. Undefined, with nothing called, otherwise.
 */
function readAtOnce(object: PkcsObject, types: readonly number[]): FirstRead | undefined {
  const { context } = object.session;
  if (shortBuffersKnown(context.module) !== true) return undefined;
  return object.session.now((handle) => context.readNow(handle, object.handle, types));
}

/** Any object on the token. */
export class PkcsObject {
  constructor(
    /** The session the object was found or made in; its operations run there. */
    readonly session: Session,
    /** The module's `CK_OBJECT_HANDLE` (bigint: any 64-bit value is possible). */
    readonly handle: bigint,
    /** Attributes read when the object was found (class, label, id, key type and size). */
    readonly summary: Summary,
  ) {
    this.handle = checkHandle(handle, 'handle');
  }

  /** `CKA_CLASS`. */
  get objectClass(): number {
    return this.summary.get(Attribute.CLASS) as number;
  }

  /** `CKA_LABEL` when the object was found ('' when it has none). */
  get label(): string {
    return (this.summary.get(Attribute.LABEL) as string | undefined) ?? '';
  }

  /** `CKA_ID` when the object was found (empty when it has none). */
  get id(): Uint8Array {
    return (this.summary.get(Attribute.ID) as Uint8Array | undefined) ?? new Uint8Array(0);
  }

  /** Reads one attribute; `undefined` when the token will not reveal it (sensitive, not present). */
  async get(attribute: number): Promise<AttributeValue | undefined> {
    const type = checkAttributeType(attribute, 'attribute');
    const first = readAtOnce(this, [type]);
    if (first === undefined) return (await readFrom(this, [type])).get(type);
    if (first.rest.length === 0) return first.result.get(type);
    // The value did not fit the first call (or was refused): the rest the standard way, in turn.
    const values = await this.session.exclusive('C_GetAttributeValue', ({ handle, invoke }) =>
      readRest(invoke, handle, this.handle, first),
    );
    return values.get(type);
  }

  /**
   * Reads several attributes in one go. Each refused attribute maps to `undefined`; the others are
   * still returned.
   */
  async getAttributes(attributes: readonly number[]): Promise<Record<number, AttributeValue | undefined>> {
    if (!Array.isArray(attributes)) throw new TypeError('attributes must be an array of attribute numbers');
    const types = attributes.map((a, i) => checkAttributeType(a, `attributes[${i}]`));
    return Object.fromEntries(await readFrom(this, types));
  }

  /** `C_SetAttributeValue`. */
  async set(template: Template): Promise<void> {
    const encoded = encodeTemplate(template);
    await this.session.exclusive('C_SetAttributeValue', async ({ handle, invoke }) =>
      check(
        'C_SetAttributeValue',
        await invoke('C_SetAttributeValue', handle, this.handle, encoded.buf, encoded.count),
      ),
    );
  }

  /** `C_CopyObject`: a copy with `template` applied to it. */
  async copy(template: Template = {}): Promise<PkcsObject> {
    const encoded = encodeTemplate(template);
    const h = await this.session.exclusive('C_CopyObject', async ({ handle, invoke }) => {
      const out = allocULong();
      check(
        'C_CopyObject',
        await invoke('C_CopyObject', handle, this.handle, encoded.buf, encoded.count, out),
      );
      return readULong(out, 0);
    });
    return adoptObject(this.session, h);
  }

  /** `C_DestroyObject`. */
  async destroy(): Promise<void> {
    await this.session.exclusive('C_DestroyObject', async ({ handle, invoke }) =>
      check('C_DestroyObject', await invoke('C_DestroyObject', handle, this.handle)),
    );
  }

  /** A short description without any attribute value that could be secret. */
  toString(): string {
    return `${this.constructor.name}(${nameOf(ObjectClass, this.objectClass)}, label=${JSON.stringify(this.label)})`;
  }
}
