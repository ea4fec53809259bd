/**
 * Token objects. The class of each object follows its `CKA_CLASS`: `PublicKey`, `PrivateKey`,
 * `SecretKey`, `DomainParameters`, `Certificate`, `Data`, or `PkcsObject` for anything else
 * (hardware features, vendor classes). Key classes carry the operations their kind of key is for.
 */
import { ULONG_SIZE, allocBuffer, readULong } from '../sys/abi.js';
import { Attribute, ObjectClass } from '../sys/constants.js';
import { nameOf } from '../sys/names.js';
import { check } from '../core/errors.js';
import { readAttributes } from '../core/attribute-read.js';
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

/** The attributes read when the object was found. */
export type Summary = ReadonlyMap<number, AttributeValue | undefined>;

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
    return (await this.getAttributes([attribute]))[attribute];
  }

  /**
   * Reads several attributes in one go. Each refused attribute maps to `undefined`; the others are
   * still returned.
   */
  async getAttributes(attributes: readonly number[]): Promise<Record<number, AttributeValue | undefined>> {
    if (!Array.isArray(attributes)) throw new TypeError('attributes must be an array of attribute numbers');
    const types = attributes.map((a, i) => {
      if (!Number.isSafeInteger(a) || a < 0)
        throw new TypeError(`attributes[${i}] must be an attribute number`);
      return a;
    });
    const values = await this.session.exclusive('C_GetAttributeValue', ({ handle, invoke }) =>
      readAttributes(invoke, handle, this.handle, types),
    );
    return Object.fromEntries(values);
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
      const out = allocBuffer(ULONG_SIZE);
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
