/**
 * Choosing objects on the command line: `--label` and `--id` (hex), matched against the classes
 * a command can use in the order it prefers them (`sign` wants a private key, else a secret key).
 */
import type { Command } from 'commander';
import { Attribute, ObjectClass } from '../sys/constants.js';
import { nameOf } from '../sys/names.js';
import { NoSuchKeyError } from '../core/errors.js';
import type { Template } from '../core/template.js';
import type { Key } from '../model/keys.js';
import type { PkcsObject } from '../model/objects.js';
import type { Session } from '../model/session.js';
import { UsageError } from './errors.js';
import { parseId } from './options.js';
import { shortName } from './output.js';

/** The selection options of a command. */
export interface Selection {
  readonly label?: string;
  readonly id?: string;
}

/** Adds `--label` and `--id` to a command; `what` says what they select. */
export function addSelection(command: Command, what = 'the key'): Command {
  return command
    .option('-l, --label <label>', `label of ${what}`)
    .option('-i, --id <hex>', `CKA_ID of ${what}, in hex`);
}

/** The label and id a selection asks for; a UsageError when it gives neither. */
export function selectionQuery(selection: Selection, what: string): { label?: string; id?: Uint8Array } {
  if (selection.label === undefined && selection.id === undefined) {
    throw new UsageError(`choose ${what} with --label or --id`);
  }
  return { label: selection.label, id: selection.id === undefined ? undefined : parseId(selection.id) };
}

/** The search template of a selection (CKA_LABEL, CKA_ID); a UsageError when it selects nothing. */
export function selectionTemplate(selection: Selection, what: string): Template {
  const { label, id } = selectionQuery(selection, what);
  return { [Attribute.LABEL]: label, [Attribute.ID]: id };
}

/** Describes a selection for messages: `label "x", id 01`. */
export function describeSelection(selection: Selection): string {
  return [
    selection.label !== undefined && `label ${JSON.stringify(selection.label)}`,
    selection.id !== undefined && `id ${selection.id}`,
  ]
    .filter(Boolean)
    .join(', ');
}

/**
 * The one object of the first class in `classes` that matches the selection.
 *
 * @throws NoSuchKeyError when none matches; MultipleObjectsError when several of one class do.
 * @example
 * const key = await findObject(session, opts, [ObjectClass.PRIVATE_KEY, ObjectClass.SECRET_KEY], 'the signing key');
 */
export async function findObject(
  session: Session,
  selection: Selection,
  classes: readonly number[],
  what: string,
): Promise<PkcsObject> {
  const query = selectionQuery(selection, what);
  for (const objectClass of classes) {
    try {
      return await session.getKey({ objectClass, ...query });
    } catch (error) {
      if (!(error instanceof NoSuchKeyError)) throw error;
    }
  }
  const kinds = classes.map((c) => shortName(nameOf(ObjectClass, c)).replace(/_/g, ' ')).join(' or ');
  throw new NoSuchKeyError(`no ${kinds} with ${describeSelection(selection)} on the token`);
}

/**
 * The public half of the selected key pair: the public key object that matches, else the
 * matching private key's public key object of the same CKA_ID, else that private key itself
 * (an RSA private key holds its public modulus and exponent).
 *
 * @example
 * const publicKey = await findPublicKey(session, { label: 'files' }, 'the recipient key');
 */
export async function findPublicKey(session: Session, selection: Selection, what: string): Promise<Key> {
  const found = (await findObject(
    session,
    selection,
    [ObjectClass.PUBLIC_KEY, ObjectClass.PRIVATE_KEY],
    what,
  )) as Key;
  if (found.objectClass === ObjectClass.PUBLIC_KEY || found.id.length === 0) return found;
  const pair = {
    [Attribute.CLASS]: ObjectClass.PUBLIC_KEY,
    [Attribute.KEY_TYPE]: found.keyType,
    [Attribute.ID]: found.id,
  };
  for await (const publicKey of session.getObjects(pair)) return publicKey as Key;
  return found;
}
