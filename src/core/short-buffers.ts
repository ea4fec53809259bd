/**
 * Whether a module keeps to the standard when C_GetAttributeValue is offered a value buffer
 * shorter than the value: it must then leave the buffer alone, set the length to
 * CK_UNAVAILABLE_INFORMATION and answer CKR_BUFFER_TOO_SMALL. The one-call attribute read
 * (attribute-read.ts) relies on that. NSS softokn 3.87 does not, for session objects: it copies
 * the whole value whatever room was offered, past the end of the buffer (a corrupted heap, then a
 * crash). So each module is asked once, in a way where that copy does no harm, before any read
 * offers it less room than a value may need.
 *
 * The question is put to a session data object made for it and destroyed at once (CKO_DATA,
 * neither stored nor private, 16 bytes of zeros): its value is offered a 16-byte buffer whose
 * length says 8. A token that will not make that object is asked about the object being read
 * instead, with its CKA_CLASS (a CK_ULONG) in a buffer of a CK_ULONG whose length says one byte
 * less. When neither answer settles it (another return code), the module is taken not to keep
 * to the standard: its reads size every value first, which is always safe.
 */
import { ULONG_SIZE, addressOf, allocBuffer, allocULong, readULong } from '../sys/abi.js';
import { Attribute, ObjectClass, ReturnValue } from '../sys/constants.js';
import type { Invoke } from './invoke.js';
import { CK_ATTRIBUTE, encodeTemplate, writeAttribute } from './template.js';

const { ulValueLen: LEN } = CK_ATTRIBUTE.fields;

/** The probe object's value: long enough that half of it is a short buffer. */
const PROBE_VALUE_LENGTH = 16;

/** The questions asked so far, by module (any object standing for one loaded module). */
const verdicts = new WeakMap<object, Promise<boolean>>();
/** The answers settled so far, by module. */
const answers = new WeakMap<object, boolean>();

/**
 * Reads `type` of `object` with room for `room` bytes while the length says `room - 1`: true when
 * the module refused (CKR_BUFFER_TOO_SMALL), false when it copied the value anyway, undefined when
 * the answer settles nothing.
 */
async function shortRead(
  invoke: Invoke,
  session: bigint,
  object: bigint,
  type: number,
  room: number,
): Promise<boolean | undefined> {
  const buf = allocBuffer(CK_ATTRIBUTE.size + room);
  writeAttribute(buf, 0, addressOf(buf), type, CK_ATTRIBUTE.size, room - 1);
  const rv = await invoke('C_GetAttributeValue', session, object, buf, 1);
  if (rv === ReturnValue.BUFFER_TOO_SMALL) return true;
  if (rv === ReturnValue.OK && readULong(buf, LEN.offset) === BigInt(room)) return false;
  return undefined;
}

/** Asks on a session data object made for the purpose; undefined when the token will not make one. */
async function askOnProbeObject(invoke: Invoke, session: bigint): Promise<boolean | undefined> {
  const template = encodeTemplate({
    [Attribute.CLASS]: ObjectClass.DATA,
    [Attribute.TOKEN]: false,
    [Attribute.PRIVATE]: false,
    [Attribute.VALUE]: new Uint8Array(PROBE_VALUE_LENGTH),
  });
  const out = allocULong();
  if ((await invoke('C_CreateObject', session, template.buf, template.count, out)) !== ReturnValue.OK)
    return undefined;
  const probe = readULong(out, 0);
  try {
    return await shortRead(invoke, session, probe, Attribute.VALUE, PROBE_VALUE_LENGTH);
  } finally {
    await invoke('C_DestroyObject', session, probe);
  }
}

/**
 * Whether the module `module` stands for answers a short value buffer as the standard says:
 * asked once per module (the first caller's session and object are used), then remembered. False
 * when the module copied past the room it was given or its answers settled nothing; a question
 * that failed (a closed session) is asked again by the next read. Once settled the answer comes
 * back as a plain boolean, so the reads that follow need not wait on a promise.
 *
 * @example
 * const known = shortBuffersHonoured(session.context.module, invoke, handle, object);
 * const oneCall = typeof known === 'boolean' ? known : await known;
 * const values = await readAttributes(invoke, handle, object, types, oneCall);
 */
export function shortBuffersHonoured(
  module: object,
  invoke: Invoke,
  session: bigint,
  object: bigint,
): boolean | Promise<boolean> {
  const settled = answers.get(module);
  if (settled !== undefined) return settled;
  let verdict = verdicts.get(module);
  if (!verdict) {
    verdict = (async () =>
      ((await askOnProbeObject(invoke, session)) ??
        (await shortRead(invoke, session, object, Attribute.CLASS, ULONG_SIZE))) === true)();
    verdicts.set(module, verdict);
    verdict.then(
      (answer) => answers.set(module, answer),
      () => verdicts.delete(module),
    );
  }
  return verdict;
}

/** The settled answer of {@link shortBuffersHonoured} for `module`, or undefined while it is not known. */
export function shortBuffersKnown(module: object): boolean | undefined {
  return answers.get(module);
}
