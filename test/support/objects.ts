/**
 * Objects for the tests that make and look for them: a template for a session data object, and
 * every object a search finds.
 *
 * @example
 * await session.createObject(dataTemplate('note', Buffer.from('text'), { [Attribute.PRIVATE]: true }));
 * const notes = await findAll(session, { [Attribute.LABEL]: 'note' });
 */
import { Attribute, ObjectClass } from '../../src/sys/constants.js';
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
