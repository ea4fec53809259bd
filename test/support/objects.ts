/**
 * Objects for the tests that make and look for them: a template for a session data object, every
 * object a search finds, and whether the token takes objects with nested templates at all.
 *
 * @example
 * await session.createObject(dataTemplate('note', Buffer.from('text'), { [Attribute.PRIVATE]: true }));
 * const notes = await findAll(session, { [Attribute.LABEL]: 'note' });
 */
import { Attribute, KeyType, ObjectClass, ReturnValue } from '../../src/sys/constants.js';
import { Pkcs11Error } from '../../src/core/errors.js';
import type { Template } from '../../src/core/template.js';
import type { PkcsObject, Session } from '../../src/model/index.js';

/** A template for a session data object (CKO_DATA, not a token object) with this label and value; `extra` adds or overrides. */
export function dataTemplate(label: string, value: Uint8Array, extra: Template = {}): Template {
  return {
    [Attribute.CLASS]: ObjectClass.DATA,
    [Attribute.TOKEN]: false,
    [Attribute.LABEL]: label,
    [Attribute.VALUE]: value,
    ...extra,
  };
}

/** The objects a search finds (all of them, through `getObjects`), as a list. */
export async function findAll(session: Session, template: Template = {}): Promise<PkcsObject[]> {
  const found: PkcsObject[] = [];
  for await (const obj of session.getObjects(template)) found.push(obj);
  return found;
}

/**
 * What a token answers for a template holding a nested template (CKA_WRAP_TEMPLATE) it cannot take:
 * p11-kit's remoting protocol (0.24) cannot carry one and answers CKR_DEVICE_ERROR; a module without
 * array attributes answers CKR_ATTRIBUTE_TYPE_INVALID.
 */
const NESTED_TEMPLATE_REFUSED: readonly number[] = [
  ReturnValue.DEVICE_ERROR,
  ReturnValue.ATTRIBUTE_TYPE_INVALID,
];

/** Creates a session object and destroys it again: the error the token refuses it with, or undefined. */
async function refusal(session: Session, template: Template): Promise<Pkcs11Error | undefined> {
  try {
    await (await session.createObject(template)).destroy();
    return undefined;
  } catch (error) {
    if (error instanceof Pkcs11Error) return error;
    throw error;
  }
}

/**
 * Why a test of nested templates cannot run on this token (`the token refuses nested templates
 * (C_CreateObject: CKR_DEVICE_ERROR)`), or false when it can. Probes with a session AES key imported
 * with and without a CKA_WRAP_TEMPLATE: only a refusal of the nested one, with a code from
 * NESTED_TEMPLATE_REFUSED, is a reason to skip, or a nested template taken but not given back
 * (NSS softokn keeps the bytes of the array, pointers and all: the library reads it as undefined);
 * anything else is left for the test to meet.
 *
 * @example
 * const refused = await nestedTemplatesRefused(session);
 * if (refused) return t.skip(refused);
 */
export async function nestedTemplatesRefused(session: Session): Promise<string | false> {
  const key: Template = {
    [Attribute.CLASS]: ObjectClass.SECRET_KEY,
    [Attribute.KEY_TYPE]: KeyType.AES,
    [Attribute.TOKEN]: false,
    [Attribute.VALUE]: new Uint8Array(16),
  };
  let made: PkcsObject;
  try {
    made = await session.createObject({
      ...key,
      [Attribute.WRAP_TEMPLATE]: { [Attribute.EXTRACTABLE]: true },
    });
  } catch (nested) {
    if (!(nested instanceof Pkcs11Error)) throw nested;
    if (!NESTED_TEMPLATE_REFUSED.includes(nested.rv) || (await refusal(session, key)) !== undefined)
      return false;
    return `the token refuses nested templates (${nested.fn}: ${nested.code})`;
  }
  const readBack = await made.get(Attribute.WRAP_TEMPLATE);
  await made.destroy();
  return readBack === undefined ? 'the token takes nested templates but does not give them back' : false;
}

/** What a token answers for an object it does not keep: the value, or the whole template, is refused. */
const OBJECT_REFUSED: readonly number[] = [
  ReturnValue.ATTRIBUTE_VALUE_INVALID,
  ReturnValue.TEMPLATE_INCONSISTENT,
  ReturnValue.KEY_TYPE_INCONSISTENT,
];

/**
 * Why a test cannot make this object on this token (`the token refuses token data objects
 * (C_CreateObject: CKR_ATTRIBUTE_VALUE_INVALID)`), or false when it makes it. The object is made
 * and destroyed again; only a refusal with a code from OBJECT_REFUSED is a reason to skip
 * (NSS softokn keeps no stored or private CKO_DATA and no DH domain parameters).
 *
 * @example
 * const refused = await objectRefused(session, 'token data objects', { ...data, [Attribute.TOKEN]: true });
 * if (refused) return t.skip(refused);
 */
export async function objectRefused(
  session: Session,
  what: string,
  template: Template,
): Promise<string | false> {
  const error = await refusal(session, template);
  if (error === undefined || !OBJECT_REFUSED.includes(error.rv)) return false;
  return `the token refuses ${what} (${error.fn}: ${error.code})`;
}
