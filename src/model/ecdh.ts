/**
 * The raw ECDH shared secret of a token private key and a peer's public point, for code that
 * goes on with the secret on the host (WebCrypto's `deriveBits`, the file-encryption KDF).
 * PKCS#11 has no call that returns a secret: it is derived into a temporary session key that may
 * be read (not sensitive, extractable), read once, and destroyed at once, also when reading fails.
 * The peer point may be raw or DER-wrapped; `deriveKey` sends it as the token wants it (quirks.ts).
 */
import { Attribute, KDF, KeyType, Mechanism } from '../sys/constants.js';
import { nameOf } from '../sys/names.js';
import { describeType } from '../core/template.js';
import { lookupCurve } from '../util/curves.js';
import { PrivateKey } from './keys.js';

/** The mechanisms {@link ecdhSecret} derives with: plain ECDH1 and its cofactor variant. */
const ECDH_DERIVATIONS: readonly number[] = [Mechanism.ECDH1_DERIVE, Mechanism.ECDH1_COFACTOR_DERIVE];

/** How {@link ecdhSecret} derives. */
export interface EcdhSecretOptions {
  /** `Mechanism.ECDH1_DERIVE` (the default) or `Mechanism.ECDH1_COFACTOR_DERIVE`. */
  readonly mechanism?: number;
  /**
   * The secret's length in bytes; by default the field size of the key's curve (read from its
   * CKA_EC_PARAMS), which is the whole x coordinate, or the whole X25519/X448 output.
   */
  readonly byteLength?: number;
}

/**
 * The raw shared secret (KDF.NULL) of the EC or Montgomery private key `key` and the peer's
 * public point `peerPoint` on the same curve. The caller owns the bytes: fill them with zeros
 * when done.
 *
 * @example
 * ```ts
 * const secret = await ecdhSecret(pair.privateKey, peerPoint); // 32 bytes on P-256
 * try {
 *   kek = hkdfSync('sha256', secret, salt, info, 32);
 * } finally {
 *   secret.fill(0);
 * }
 * ```
 */
export async function ecdhSecret(
  key: PrivateKey,
  peerPoint: Uint8Array,
  options: EcdhSecretOptions = {},
): Promise<Uint8Array> {
  if (!(key instanceof PrivateKey))
    throw new TypeError(`key must be a token PrivateKey, got ${describeType(key)}`);
  if (!(peerPoint instanceof Uint8Array))
    throw new TypeError(`peerPoint must be a Uint8Array, got ${describeType(peerPoint)}`);
  if (peerPoint.length === 0) throw new RangeError('peerPoint must not be empty');
  if (options === null || typeof options !== 'object')
    throw new TypeError(`options must be an object, got ${describeType(options)}`);
  const { mechanism = Mechanism.ECDH1_DERIVE, byteLength } = options;
  if (!ECDH_DERIVATIONS.includes(mechanism)) {
    const names = ECDH_DERIVATIONS.map((m) => nameOf(Mechanism, m)).join(' or ');
    throw new RangeError(`options.mechanism must be ${names}, got ${String(mechanism)}`);
  }
  if (byteLength !== undefined && (!Number.isSafeInteger(byteLength) || byteLength <= 0))
    throw new RangeError(`options.byteLength must be a positive whole number, got ${String(byteLength)}`);
  const bytes =
    byteLength ??
    lookupCurve(await key.get(Attribute.EC_PARAMS), 'ecdhSecret: the key CKA_EC_PARAMS').fieldSize;
  const shared = await key.deriveKey(KeyType.GENERIC_SECRET, bytes * 8, {
    mechanism,
    mechanismParam: { kdf: KDF.NULL, publicData: peerPoint },
    capabilities: [],
    template: { [Attribute.TOKEN]: false, [Attribute.SENSITIVE]: false, [Attribute.EXTRACTABLE]: true },
  });
  try {
    const value = await shared.get(Attribute.VALUE);
    if (!(value instanceof Uint8Array)) throw new Error('the token did not reveal the derived ECDH secret');
    return value;
  } finally {
    await shared.destroy();
  }
}
