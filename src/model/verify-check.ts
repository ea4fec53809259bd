/**
 * A second opinion on a verification the token failed with an error instead of a verdict. NSS
 * softokn 3.87 answers an HMAC that does not match, and a CKM_RSA_PKCS signature over the wrong
 * DigestInfo, with whatever error code an earlier call left behind (CKR_DEVICE_ERROR,
 * CKR_ARGUMENTS_BAD) rather than CKR_SIGNATURE_INVALID, and an ECDSA signature of the wrong
 * length with CKR_DATA_LEN_RANGE rather than CKR_SIGNATURE_LEN_RANGE. Such a code cannot tell a
 * wrong signature from a failing device (or data of a length the mechanism refuses), so before it
 * is thrown the answer is worked out another way, where there is one:
 *
 * - a MAC (the key is a secret key): the MAC of the same data is computed on the token (C_Sign
 *   with the same key and mechanism) and compared in constant time;
 * - a signature node:crypto can check (host-crypto.ts): checked on the host with the key's
 *   public value.
 *
 * A different MAC or a failed host check gives `false`; a MAC that matches, or a host check that
 * passes, means the error was the token's own, and it is thrown. Only one-shot data can be looked
 * at twice; for streams, a token once seen to answer a wrong MAC with an error (quirks.ts) has
 * its later streamed MAC verifications made as MAC-and-compare from the start.
 */
import { timingSafeEqual } from 'node:crypto';
import { ObjectClass, ReturnValue } from '../sys/constants.js';
import { Pkcs11Error } from '../core/errors.js';
import type { Key } from './keys.js';
import { learnMacMismatchAsError, tokenQuirks } from './quirks.js';

/** The return codes of C_Verify that a second opinion is asked about. */
const UNCLEAR = new Set<number>([
  ReturnValue.DEVICE_ERROR,
  ReturnValue.ARGUMENTS_BAD,
  ReturnValue.GENERAL_ERROR,
  ReturnValue.FUNCTION_FAILED,
  ReturnValue.DATA_LEN_RANGE,
]);

/** How the answer can be found without the token's C_Verify. */
export interface SecondOpinion {
  /** The MAC of the data, computed on the token: for secret keys. */
  readonly mac?: () => Promise<Uint8Array>;
  /** The verdict of node:crypto: for public keys and mechanisms it can check. */
  readonly host?: () => Promise<boolean>;
}

/** Whether `key` makes MACs (its sign and verify are the same computation). */
export function isMacKey(key: Key): boolean {
  return key.objectClass === ObjectClass.SECRET_KEY;
}

/** Whether a MAC `computed` by the token equals the one `given`, in time that does not depend on where they differ. */
export function sameMac(computed: Uint8Array, given: Uint8Array): boolean {
  return computed.byteLength === given.byteLength && timingSafeEqual(computed, given);
}

/**
 * Whether streamed verifications with `key` are made as MAC-and-compare: it makes MACs and its
 * token has been seen to answer a wrong MAC with an error.
 */
export function verifiesByComparison(key: Key): boolean {
  return isMacKey(key) && tokenQuirks(key.session.token).macMismatchAsError;
}

/**
 * Runs `verify` (the token's verdict); when it fails with an unclear code, asks `opinion`.
 *
 * @example
 * return withSecondOpinion(key, () => runVerify(session, op, data, mac), mac, { mac: () => runOneShot(...) });
 */
export async function withSecondOpinion(
  key: Key,
  verify: () => Promise<boolean>,
  signature: Uint8Array,
  opinion: SecondOpinion,
): Promise<boolean> {
  try {
    return await verify();
  } catch (error) {
    if (!(error instanceof Pkcs11Error) || !UNCLEAR.has(error.rv)) throw error;
    let verdict: boolean;
    try {
      if (opinion.mac) verdict = sameMac(await opinion.mac(), signature);
      else if (opinion.host) verdict = await opinion.host();
      else throw error;
    } catch {
      throw error;
    }
    if (verdict) throw error;
    if (opinion.mac) learnMacMismatchAsError(key.session.token);
    return false;
  }
}
