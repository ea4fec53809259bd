/**
 * IVs when the caller gives none, python-pkcs11's way: encrypting (or wrapping) with a block or
 * AEAD mode and no IV makes one with the token's random generator (`C_GenerateRandom` in the same
 * session; node:crypto's when the token has no RNG) and writes it before the ciphertext; decrypting
 * (or unwrapping) with no IV reads it back from the start of the input. So
 * `decrypt(encrypt(data))` round-trips with no parameter at all, and the IV travels with the data.
 *
 * | mechanism | IV | parameter built |
 * |---|---|---|
 * | AES_CBC, AES_CBC_PAD | 16 bytes | the IV itself |
 * | DES_CBC(_PAD), DES3_CBC(_PAD) | 8 bytes | the IV itself |
 * | AES_CTR | 16-byte counter block | `{ counterBits: 128 (or yours), counterBlock }` |
 * | AES_GCM | 12 bytes | `{ iv, aad, tagBits }` with your aad/tagBits (tag 128 bits by default) |
 *
 * For GCM and CTR, a parameter object without its `iv` / `counterBlock` counts as "no IV": you can
 * give the AAD and still have the IV made for you. GCM output is then IV || ciphertext || tag
 * (PKCS#11 already appends the tag).
 *
 * @example
 * const sealed = await aes.encrypt(data, { mechanism: Mechanism.AES_GCM, mechanismParam: { aad } });
 * // sealed = 12-byte IV || ciphertext || 16-byte tag
 * const opened = await aes.decrypt(sealed, { mechanism: Mechanism.AES_GCM, mechanismParam: { aad } });
 */
import { randomBytes } from 'node:crypto';
import { Mechanism, TokenFlag } from '../sys/constants.js';
import { parameterFields, type MechanismParameter } from '../core/params.js';
import type { ParameterInput } from './mechanism-defaults.js';
import type { Session } from './session.js';

/** How one mechanism takes its IV. */
export interface IvMechanism {
  /** Bytes of IV to make, or to read from the start of the input. */
  readonly length: number;
  /** Whether `parameter` lacks the IV (so one is made or read). */
  missing(parameter: ParameterInput): boolean;
  /** `parameter` with `iv` put in. */
  withIv(parameter: ParameterInput, iv: Uint8Array): MechanismParameter;
}

const absent = (value: unknown): boolean => value === undefined || value === null;

/** CBC modes: the parameter is the IV. */
function bareIv(length: number): IvMechanism {
  return { length, missing: absent, withIv: (_parameter, iv) => iv };
}

/**
 * A struct parameter whose field `field` holds the IV; `build` makes the parameter from the fields
 * the caller gave (none when the parameter is absent) and the IV.
 */
function structIv(
  mechanism: number,
  length: number,
  field: string,
  build: (given: Readonly<Record<string, unknown>>, iv: Uint8Array) => MechanismParameter,
): IvMechanism {
  const fields = (parameter: ParameterInput) => parameterFields(mechanism, parameter);
  return {
    length,
    missing: (parameter) => {
      if (absent(parameter)) return true;
      const f = fields(parameter);
      return f !== undefined && absent(f[field]);
    },
    withIv: (parameter, iv) => build(fields(parameter) ?? {}, iv),
  };
}

const ctr = structIv(Mechanism.AES_CTR, 16, 'counterBlock', (f, iv) => ({
  counterBits: (f.counterBits as number | undefined) ?? 128,
  counterBlock: iv,
}));

const gcm = structIv(Mechanism.AES_GCM, 12, 'iv', (f, iv) => ({
  iv,
  aad: f.aad as Uint8Array | null | undefined,
  tagBits: (f.tagBits as number | undefined) ?? 128,
}));

/** The mechanisms whose IV the library makes (or reads back) when none is given. */
export const IV_MECHANISMS: ReadonlyMap<number, IvMechanism> = new Map<number, IvMechanism>([
  [Mechanism.AES_CBC, bareIv(16)],
  [Mechanism.AES_CBC_PAD, bareIv(16)],
  [Mechanism.DES_CBC, bareIv(8)],
  [Mechanism.DES_CBC_PAD, bareIv(8)],
  [Mechanism.DES3_CBC, bareIv(8)],
  [Mechanism.DES3_CBC_PAD, bareIv(8)],
  [Mechanism.AES_CTR, ctr],
  [Mechanism.AES_GCM, gcm],
]);

/** `length` random bytes from the token's generator, or node:crypto's when the token has none. */
export function randomIv(session: Session, length: number): Promise<Uint8Array> {
  if ((session.token.flags & TokenFlag.RNG) === 0) return Promise.resolve(randomBytes(length));
  return session.generateRandom(length);
}
