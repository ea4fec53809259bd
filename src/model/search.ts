/**
 * The search criteria of `Session.getKey`, python-pkcs11's keyword arguments camelCased.
 */
import { Attribute, KeyType, ObjectClass } from '../sys/constants.js';
import { nameOf } from '../sys/names.js';
import type { Template } from '../core/template.js';

/** What a key (or other object) must match. */
export interface KeyQuery {
  /** `CKA_CLASS`, e.g. `ObjectClass.PRIVATE_KEY`. */
  readonly objectClass?: number;
  /** `CKA_KEY_TYPE`, e.g. `KeyType.EC`. */
  readonly keyType?: number;
  /** `CKA_LABEL`. */
  readonly label?: string;
  /** `CKA_ID`. */
  readonly id?: Uint8Array;
  /** Any further attributes to match. */
  readonly template?: Template;
}

/** Builds the C_FindObjectsInit template of a query and a description of it for error messages. */
export function searchTemplate(query: KeyQuery): { template: Template; description: string } {
  if (query === null || typeof query !== 'object') throw new TypeError('query must be an object');
  const template: Template = {
    ...query.template,
    [Attribute.CLASS]: query.objectClass,
    [Attribute.KEY_TYPE]: query.keyType,
    [Attribute.LABEL]: query.label,
    [Attribute.ID]: query.id,
  };
  const parts: string[] = [];
  if (query.objectClass !== undefined) parts.push(nameOf(ObjectClass, query.objectClass));
  if (query.keyType !== undefined) parts.push(nameOf(KeyType, query.keyType));
  if (query.label !== undefined) parts.push(`label ${JSON.stringify(query.label)}`);
  if (query.id !== undefined) parts.push(`id ${Buffer.from(query.id).toString('hex')}`);
  if (query.template) parts.push(`${Object.keys(query.template).length} more attributes`);
  return { template, description: parts.length ? parts.join(', ') : 'an empty query' };
}
