/**
 * Key specifications of `p11 keygen` (and of derived keys): `rsa:2048`, `ec:secp256r1` (any curve
 * name, alias such as `P-256` / `prime256v1`, or dotted OID), `ed25519`, `ed448`, `aes:256`,
 * `generic:256` (a generic secret, for HMAC). The size may be left out: RSA 2048, EC secp256r1,
 * AES 256, generic 256.
 */
import { KeyType } from '../sys/constants.js';
import { lookupCurve } from '../util/curves.js';
import { UsageError } from './errors.js';

/** What to generate. */
export type KeySpec =
  | {
      readonly kind: 'pair';
      readonly keyType: number;
      readonly domain: number | string;
      readonly text: string;
    }
  | { readonly kind: 'secret'; readonly keyType: number; readonly bits: number; readonly text: string };

const AES_BITS = new Set([128, 192, 256]);

function bitsOf(value: string | undefined, fallback: number, what: string): number {
  if (value === undefined || value === '') return fallback;
  if (!/^[0-9]+$/.test(value))
    throw new UsageError(`${what}: the size must be a number of bits, got ${JSON.stringify(value)}`);
  return Number(value);
}

/**
 * Parses a key specification.
 *
 * @throws UsageError for an unknown kind, curve or size.
 * @example
 * parseKeySpec('ec:P-384'); // { kind: 'pair', keyType: KeyType.EC, domain: 'secp384r1', text: 'ec:secp384r1' }
 */
export function parseKeySpec(spec: string): KeySpec {
  const [kind = '', size, ...rest] = spec.trim().split(':');
  if (rest.length > 0) throw new UsageError(`key spec ${JSON.stringify(spec)}: one ':' at most`);
  switch (kind.toLowerCase()) {
    case 'rsa': {
      const bits = bitsOf(size, 2048, 'rsa');
      if (bits < 512 || bits > 16384) throw new UsageError(`rsa: ${bits} bits is outside 512..16384`);
      return { kind: 'pair', keyType: KeyType.RSA, domain: bits, text: `rsa:${bits}` };
    }
    case 'ec': {
      let curve;
      try {
        curve = lookupCurve(size || 'secp256r1', 'ec');
      } catch {
        throw new UsageError(
          `ec: unknown curve ${JSON.stringify(size)} (e.g. secp256r1, P-384, brainpoolP256r1)`,
        );
      }
      if (curve.keyType !== KeyType.EC)
        throw new UsageError(`ec: ${curve.name} is not a Weierstrass curve: use ${curve.name.toLowerCase()}`);
      return { kind: 'pair', keyType: KeyType.EC, domain: curve.name, text: `ec:${curve.name}` };
    }
    case 'ed25519':
    case 'ed448': {
      if (size !== undefined) throw new UsageError(`${kind} takes no size`);
      const name = kind.toLowerCase() === 'ed25519' ? 'Ed25519' : 'Ed448';
      return { kind: 'pair', keyType: KeyType.EC_EDWARDS, domain: name, text: name.toLowerCase() };
    }
    case 'aes': {
      const bits = bitsOf(size, 256, 'aes');
      if (!AES_BITS.has(bits))
        throw new UsageError(`aes: ${bits} bits is not an AES key size (128, 192, 256)`);
      return { kind: 'secret', keyType: KeyType.AES, bits, text: `aes:${bits}` };
    }
    case 'generic': {
      const bits = bitsOf(size, 256, 'generic');
      if (bits < 8 || bits % 8 !== 0)
        throw new UsageError(`generic: the size must be a positive multiple of 8 bits`);
      return { kind: 'secret', keyType: KeyType.GENERIC_SECRET, bits, text: `generic:${bits}` };
    }
    default:
      throw new UsageError(
        `unknown key spec ${JSON.stringify(spec)}: use rsa:BITS, ec:CURVE, ed25519, ed448, aes:BITS or generic:BITS`,
      );
  }
}
