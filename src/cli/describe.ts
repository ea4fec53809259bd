/**
 * How `p11` shows a token object: its class, key type, size or curve, label, id, storage and
 * protection flags, and what it may be used for; certificates also show their subject and expiry.
 * Never a key value.
 */
import { X509Certificate } from 'node:crypto';
import { Attribute, KeyType, ObjectClass } from '../sys/constants.js';
import { nameOf } from '../sys/names.js';
import { curveInfo } from '../util/curves.js';
import { Key } from '../model/keys.js';
import type { PkcsObject } from '../model/objects.js';
import { parseConstant } from './names.js';
import { type Column, hexOf, shortName } from './output.js';
import { CAPABILITY_ATTRIBUTE } from '../model/defaults.js';

/** An object as `--json` shows it. */
export interface ObjectJson {
  readonly handle: string;
  /** `CKO_...` */
  readonly class: string;
  /** `CKK_...`, for keys. */
  readonly keyType?: string;
  readonly label: string;
  /** CKA_ID in hex. */
  readonly id: string;
  /** Key size in bits (RSA modulus, EC field, secret key value). */
  readonly bits?: number;
  /** EC / EdDSA curve name. */
  readonly curve?: string;
  /** CKA_TOKEN, CKA_PRIVATE, CKA_SENSITIVE, CKA_EXTRACTABLE (when the token tells). */
  readonly flags: Readonly<Record<string, boolean>>;
  /** The usage attributes set: encrypt, decrypt, sign, verify, wrap, unwrap, derive. */
  readonly usage: readonly string[];
  /** Certificates: subject and end of validity. */
  readonly subject?: string;
  readonly notAfter?: string;
}

const FLAG_ATTRIBUTES = {
  token: Attribute.TOKEN,
  private: Attribute.PRIVATE,
  sensitive: Attribute.SENSITIVE,
  extractable: Attribute.EXTRACTABLE,
};

/** Names `--class` accepts besides the CKO_ names. */
const CLASS_ALIASES: Readonly<Record<string, number>> = {
  private: ObjectClass.PRIVATE_KEY,
  public: ObjectClass.PUBLIC_KEY,
  secret: ObjectClass.SECRET_KEY,
  cert: ObjectClass.CERTIFICATE,
  certificate: ObjectClass.CERTIFICATE,
  data: ObjectClass.DATA,
};

/** A `--class` value: `private`, `public`, `secret`, `cert`, `data`, or a CKO_ name. */
export function parseObjectClass(text: string): number {
  return CLASS_ALIASES[text.toLowerCase()] ?? parseConstant(ObjectClass, text, '--class');
}

/** The curve name of CKA_EC_PARAMS, or undefined when unknown. */
function curveOf(params: unknown): string | undefined {
  try {
    return params instanceof Uint8Array ? curveInfo(params).name : undefined;
  } catch {
    return undefined;
  }
}

/** Subject and expiry of a certificate object, when its value parses. */
async function certificateFields(object: PkcsObject): Promise<{ subject?: string; notAfter?: string }> {
  const value = await object.get(Attribute.VALUE);
  if (!(value instanceof Uint8Array)) return {};
  try {
    const cert = new X509Certificate(value);
    return { subject: cert.subject.replace(/\n/g, ', '), notAfter: new Date(cert.validTo).toISOString() };
  } catch {
    return {};
  }
}

/**
 * Reads what `p11` shows of an object, in one attribute call (plus the value of a certificate).
 *
 * @example
 * const shown = await describeObject(key); // { class: 'CKO_PRIVATE_KEY', keyType: 'CKK_EC', curve: 'secp256r1', ... }
 */
export async function describeObject(object: PkcsObject): Promise<ObjectJson> {
  const wanted = [...Object.values(FLAG_ATTRIBUTES), ...Object.values(CAPABILITY_ATTRIBUTE)];
  const values = await object.getAttributes(wanted);
  const flags: Record<string, boolean> = {};
  for (const [name, attribute] of Object.entries(FLAG_ATTRIBUTES)) {
    if (typeof values[attribute] === 'boolean') flags[name] = values[attribute] as boolean;
  }
  const usage = Object.entries(CAPABILITY_ATTRIBUTE)
    .filter(([, attribute]) => values[attribute] === true)
    .map(([name]) => name);
  const isKey = object instanceof Key;
  const isCertificate = object.objectClass === ObjectClass.CERTIFICATE;
  return {
    handle: String(object.handle),
    class: nameOf(ObjectClass, object.objectClass),
    ...(isKey ? { keyType: nameOf(KeyType, object.keyType), bits: object.keyLength } : {}),
    ...(isKey ? { curve: curveOf(object.summary.get(Attribute.EC_PARAMS)) } : {}),
    label: object.label,
    id: hexOf(object.id),
    flags,
    usage,
    ...(isCertificate ? await certificateFields(object) : {}),
  };
}

/** The table columns of objects. */
export const OBJECT_COLUMNS: readonly Column[] = [
  { key: 'class', title: 'CLASS' },
  { key: 'type', title: 'TYPE' },
  { key: 'size', title: 'SIZE' },
  { key: 'label', title: 'LABEL' },
  { key: 'id', title: 'ID' },
  { key: 'details', title: 'DETAILS' },
];

/** One table row of an object. */
export function objectRow(o: ObjectJson): Record<string, string> {
  const flags = Object.entries(o.flags)
    .filter(([name, set]) => set && name !== 'token')
    .map(([name]) => name);
  const details =
    o.subject !== undefined
      ? `${o.subject} (until ${o.notAfter?.slice(0, 10)})`
      : [...o.usage, ...flags].join(',');
  return {
    class: shortName(o.class),
    type: o.keyType === undefined ? '' : shortName(o.keyType),
    size: o.curve ?? (o.bits === undefined ? '' : String(o.bits)),
    label: o.label,
    id: o.id,
    details,
  };
}
