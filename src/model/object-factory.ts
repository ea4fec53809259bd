/**
 * Turning a handle into the right object class, from the attributes read when it was found.
 */
import { Attribute, ObjectClass } from '../sys/constants.js';
import { kindOf } from '../core/attribute-kinds.js';
import { readAttributes, readRest } from '../core/attribute-read.js';
import type { AttributeValue, Template } from '../core/template.js';
import { shortBuffersHonoured } from '../core/short-buffers.js';
import { PkcsObject, summaryBesidesClass, summaryNeeds, summaryOf, type Summary } from './objects.js';
import { Certificate, Data, DomainParameters, PrivateKey, PublicKey, SecretKey } from './keys.js';
import type { Session } from './session.js';

type ObjectClassCtor = new (session: Session, handle: bigint, summary: Summary) => PkcsObject;

/**
 * Built on first use, not at load: keys.ts imports this file (for objectFor) and this file needs
 * keys.ts's classes, so whichever of the two is imported first must not find the other half-loaded.
 */
let classes: Map<number, ObjectClassCtor> | undefined;
function classFor(objectClass: number): ObjectClassCtor {
  classes ??= new Map<number, ObjectClassCtor>([
    [ObjectClass.PUBLIC_KEY, PublicKey],
    [ObjectClass.PRIVATE_KEY, PrivateKey],
    [ObjectClass.SECRET_KEY, SecretKey],
    [ObjectClass.DOMAIN_PARAMETERS, DomainParameters],
    [ObjectClass.CERTIFICATE, Certificate],
    [ObjectClass.DATA, Data],
  ]);
  return classes.get(objectClass) ?? PkcsObject;
}

/** Reads the summary of `handle` and wraps it in the class its `CKA_CLASS` calls for. */
export async function objectFor(session: Session, handle: bigint): Promise<PkcsObject> {
  const { objects, failure } = await objectsFor(session, [handle]);
  if (failure !== undefined) throw failure;
  return objects[0] as PkcsObject;
}

/**
 * {@link objectFor} for several handles, in one turn of the session (a search's results: one
 * queue turn for many objects instead of one each). `objectClass`, when a search named one, limits
 * what is read of each to what that class has (objects.ts `summaryOf`). Reading stops at the first failure, which is
 * answered with the objects read before it, so a caller can hand those out before throwing.
 */
export async function objectsFor(
  session: Session,
  handles: readonly bigint[],
  objectClass?: unknown,
): Promise<{ objects: PkcsObject[]; failure?: unknown }> {
  // A search that named the class finds only objects of that class: their class is not read.
  const besides = summaryBesidesClass(objectClass);
  const known = besides && (objectClass as number);
  const summary = besides ?? summaryOf(objectClass);
  const needs =
    known === undefined ? summaryNeeds : (type: number, found: Summary) => summaryNeeds(type, found, known);
  return session.exclusive('C_GetAttributeValue', async ({ handle: h, invoke }) => {
    const objects: PkcsObject[] = [];
    try {
      const honoured = shortBuffersHonoured(session.context.module, invoke, h, handles[0] as bigint);
      const oneCall = typeof honoured === 'boolean' ? honoured : await honoured;
      const { context } = session;
      for (const handle of handles) {
        // The first call made at once when it may run inline now: no promise per object.
        const first = oneCall ? context.readNow(h, handle, summary) : undefined;
        const values =
          first === undefined
            ? await readAttributes(invoke, h, handle, summary, oneCall, needs)
            : first.rest.length === 0
              ? first.result
              : await readRest(invoke, h, handle, first, needs);
        if (known !== undefined) values.set(Attribute.CLASS, known);
        const Ctor = classFor(values.get(Attribute.CLASS) as number);
        objects.push(new Ctor(session, handle, values));
      }
      return { objects };
    } catch (failure) {
      return { objects, failure };
    }
  });
}

/**
 * Wraps objects the caller has just made (created, copied, generated, unwrapped, derived). When
 * one of them cannot be read back, the caller would never get its handle, so every one of them is
 * destroyed (as far as the token lets us) before the error is thrown: a failed call leaves no
 * object behind, not even a stored one.
 */
export async function adoptObjects(session: Session, handles: readonly bigint[]): Promise<PkcsObject[]> {
  try {
    const objects: PkcsObject[] = [];
    for (const handle of handles) objects.push(await objectFor(session, handle));
    return objects;
  } catch (error) {
    for (const object of handles) {
      await session
        .exclusive('C_DestroyObject', ({ handle, invoke }) => invoke('C_DestroyObject', handle, object))
        .catch(() => undefined);
    }
    throw error;
  }
}

/** {@link adoptObjects} for one new object. */
export async function adoptObject(session: Session, handle: bigint): Promise<PkcsObject> {
  return (await adoptObjects(session, [handle]))[0] as PkcsObject;
}

/**
 * The summary values a created object's template gives, in the form a read decodes them to (a
 * number, a string, a boolean): the module made the object with exactly those. Values given in
 * another form (a bigint class, a label as bytes) are left to be read.
 */
function givenIn(template: Template, types: readonly number[]): Map<number, AttributeValue> {
  const given = new Map<number, AttributeValue>();
  for (const type of types) {
    const value = template[type];
    const kind = kindOf(type);
    if (
      (kind === 'string' && typeof value === 'string') ||
      (kind === 'bool' && typeof value === 'boolean') ||
      (kind === 'ulong' && typeof value === 'number' && Number.isSafeInteger(value) && value >= 0)
    )
      given.set(type, value);
  }
  return given;
}

/**
 * {@link adoptObject} for an object just created from `template`: when the template gives every
 * attribute of its class's summary, the object is not read back (a data object made with a
 * label: SoftHSM2 spends 10 µs of C on the creation and 6 µs more on the read); otherwise it is
 * read as any adopted object.
 */
export async function adoptCreated(
  session: Session,
  handle: bigint,
  template: Template,
): Promise<PkcsObject> {
  const objectClass = template[Attribute.CLASS];
  const summary = summaryOf(objectClass);
  const given = typeof objectClass === 'number' ? givenIn(template, summary) : undefined;
  if (given?.size !== summary.length) return adoptObject(session, handle);
  return new (classFor(objectClass as number))(session, handle, given);
}
