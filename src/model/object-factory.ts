/**
 * Turning a handle into the right object class, from the attributes read when it was found.
 */
import { Attribute, ObjectClass } from '../sys/constants.js';
import { readAttributes } from '../core/attribute-read.js';
import { PkcsObject, SUMMARY, type Summary } from './objects.js';
import { Certificate, Data, DomainParameters, PrivateKey, PublicKey, SecretKey } from './keys.js';
import type { Session } from './session.js';

type ObjectClassCtor = new (session: Session, handle: bigint, summary: Summary) => PkcsObject;

const CLASSES = new Map<number, ObjectClassCtor>([
  [ObjectClass.PUBLIC_KEY, PublicKey],
  [ObjectClass.PRIVATE_KEY, PrivateKey],
  [ObjectClass.SECRET_KEY, SecretKey],
  [ObjectClass.DOMAIN_PARAMETERS, DomainParameters],
  [ObjectClass.CERTIFICATE, Certificate],
  [ObjectClass.DATA, Data],
]);

/** Reads the summary of `handle` and wraps it in the class its `CKA_CLASS` calls for. */
export async function objectFor(session: Session, handle: bigint): Promise<PkcsObject> {
  const summary = await session.exclusive('C_GetAttributeValue', ({ handle: h, invoke }) =>
    readAttributes(invoke, h, handle, SUMMARY),
  );
  const Ctor = CLASSES.get(summary.get(Attribute.CLASS) as number) ?? PkcsObject;
  return new Ctor(session, handle, summary);
}
