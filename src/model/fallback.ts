/**
 * Where an operation runs: on the token as asked, on the token with the hashing done on the host,
 * or entirely on the host. Decided from the token's own mechanism list and `MechanismFlag` bits,
 * never by trying and failing:
 *
 * 1. The token lists the mechanism with the operation's flag: the token does it (`'token'`).
 * 2. A hash-then-sign mechanism (`ECDSA_SHA256`, `SHA256_RSA_PKCS`, `SHA256_RSA_PKCS_PSS`, ...)
 *    the token lacks, whose raw mechanism (`ECDSA`, `RSA_PKCS`, `RSA_PKCS_PSS`) it has: the host
 *    hashes and the token signs or verifies the digest (`'hash'`). Same bytes as a capable token.
 * 3. A public-key operation (verify, encrypt, wrap) the token cannot do at all: node:crypto does it
 *    from the exported public key (`'host'`).
 * 4. Otherwise the token is asked anyway, and its error is the answer.
 *
 * Fallbacks are on by default; `allowFallback: false` keeps every operation on the token. For
 * testing and comparison, `fallback: 'hash'` or `fallback: 'host'` forces a route.
 */
import { Mechanism, MechanismFlag } from '../sys/constants.js';
import { nameOf } from '../sys/names.js';
import { PART_OPERATIONS, type KeyOperation } from './defaults.js';
import { HASHED_SIGNATURES } from './hashes.js';
import { hostCanDo } from './host-crypto.js';

/** Where an operation runs. */
export type Route = 'token' | 'hash' | 'host';

/** The facts a route is chosen from. */
export interface RouteQuestion {
  readonly operation: KeyOperation;
  readonly mechanism: number;
  /** Whether the key is a public key (whose operations can be done on the host from its value). */
  readonly publicKey: boolean;
  /** False forbids both fallbacks. */
  readonly allowFallback: boolean;
  /** A route forced for testing and comparison. */
  readonly force?: 'hash' | 'host' | undefined;
}

/** The `MechanismFlag` bit each operation needs. */
export const OPERATION_FLAG: Readonly<Record<KeyOperation, number>> = {
  encrypt: MechanismFlag.ENCRYPT,
  decrypt: MechanismFlag.DECRYPT,
  sign: MechanismFlag.SIGN,
  verify: MechanismFlag.VERIFY,
  wrap: MechanismFlag.WRAP,
  unwrap: MechanismFlag.UNWRAP,
  derive: MechanismFlag.DERIVE,
};

const SIGNATURE_OPERATIONS = new Set<KeyOperation>(['sign', 'verify']);

function hashPossible(q: RouteQuestion): boolean {
  return SIGNATURE_OPERATIONS.has(q.operation) && HASHED_SIGNATURES.has(q.mechanism);
}

function hostPossible(q: RouteQuestion): boolean {
  return q.publicKey && PART_OPERATIONS.public.includes(q.operation) && hostCanDo(q.operation, q.mechanism);
}

/**
 * The mechanisms whose flags {@link chooseRoute} needs for this question; empty when the answer
 * does not depend on the token (so nothing is asked of it).
 */
export function mechanismsToCheck(q: RouteQuestion): number[] {
  if (q.force !== undefined || !q.allowFallback) return [];
  const hashed = hashPossible(q) ? HASHED_SIGNATURES.get(q.mechanism) : undefined;
  if (hashed) return [q.mechanism, hashed.raw];
  return hostPossible(q) ? [q.mechanism] : [];
}

/**
 * Chooses the route. `flags` maps each mechanism of {@link mechanismsToCheck} to its
 * `MechanismFlag` bits (0 when the token does not list it); `undefined` means the token would not
 * say, and the token is then simply asked.
 *
 * @throws TypeError when a forced route cannot apply (hashing for a mechanism that does not hash,
 * the host for a private key or a mechanism node:crypto lacks).
 */
export function chooseRoute(q: RouteQuestion, flags: ReadonlyMap<number, number> | undefined): Route {
  if (q.force === 'hash') {
    if (!hashPossible(q))
      throw new TypeError(
        `options.fallback 'hash' needs a hash-then-sign mechanism to sign or verify with, not ${q.operation} with ${nameOf(Mechanism, q.mechanism)}`,
      );
    return 'hash';
  }
  if (q.force === 'host') {
    if (!hostPossible(q))
      throw new TypeError(
        `options.fallback 'host' needs a public key and an operation node:crypto can do, not ${q.operation} with ${nameOf(Mechanism, q.mechanism)}`,
      );
    return 'host';
  }
  if (!q.allowFallback || flags === undefined) return 'token';
  const can = (mechanism: number): boolean =>
    ((flags.get(mechanism) ?? 0) & OPERATION_FLAG[q.operation]) !== 0;
  if (can(q.mechanism)) return 'token';
  const hashed = hashPossible(q) ? HASHED_SIGNATURES.get(q.mechanism) : undefined;
  if (hashed && can(hashed.raw)) return 'hash';
  if (hostPossible(q)) return 'host';
  return 'token';
}
