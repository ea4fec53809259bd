/**
 * `Session.digest`: hashing bytes, streams or a key's value inside the token.
 */
import { Mechanism } from '../sys/constants.js';
import { check } from '../core/errors.js';
import { encodeMechanism } from '../core/mechanism.js';
import { callWithOutput } from '../core/output.js';
import { Key } from './keys.js';
import {
  DIGEST,
  isStream,
  runAccumulate,
  runOneShot,
  toBytes,
  type BytesLike,
  type DataStream,
} from './operations.js';
import type { Session } from './session.js';

/** What can be digested: bytes, a stream of chunks, or a secret key (`C_DigestKey`). */
export type DigestInput = BytesLike | DataStream | Key;

/** Hashes `data` with `options.mechanism` (default SHA-256). */
export async function digest(
  session: Session,
  data: DigestInput,
  options: { mechanism?: number } = {},
): Promise<Uint8Array> {
  const mechanism = options.mechanism ?? Mechanism.SHA256;
  const op = { fns: DIGEST, mechanism, key: null };
  if (data instanceof Key) {
    const mech = encodeMechanism(mechanism);
    return session.exclusive('C_DigestInit', async ({ handle, invoke }) => {
      check('C_DigestInit', await invoke('C_DigestInit', handle, mech));
      const rv = await invoke('C_DigestKey', handle, data.handle);
      if (rv !== 0) {
        await callWithOutput(invoke, 'C_DigestFinal', [handle]).catch(() => undefined);
        check('C_DigestKey', rv);
      }
      return callWithOutput(invoke, 'C_DigestFinal', [handle]);
    });
  }
  if (isStream(data)) return (await runAccumulate(session, op, data)) as Uint8Array;
  return runOneShot(session, op, toBytes(data, 'data'));
}
