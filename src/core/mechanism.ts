/**
 * `CK_MECHANISM` encoding: the struct and its parameter in one buffer.
 */
import { layout, writeAddress, writeULong } from '../sys/abi.js';
import { Arena } from './arena.js';
import { encodeParameter, type MechanismParameter } from './params.js';
import { checkParameter } from './required-params.js';
import { checkULong } from './template.js';

/** The C `CK_MECHANISM { mechanism; pParameter; ulParameterLen; }`. */
export const CK_MECHANISM = layout({ mechanism: 'ulong', pParameter: 'pointer', ulParameterLen: 'ulong' });

/**
 * A mechanism as callers give it: its number (standard `Mechanism.*` or a vendor value), or the
 * number with a parameter.
 *
 * @example
 * Mechanism.ECDSA
 * { mechanism: Mechanism.RSA_PKCS_OAEP, parameter: { hashAlg: Mechanism.SHA256, mgf: MGF.SHA256 } }
 * { mechanism: 0x80000123, parameter: Uint8Array.of(1, 2, 3) }   // vendor mechanism, raw parameter
 */
export type MechanismSpec = number | { readonly mechanism: number; readonly parameter?: MechanismParameter };

/** Normalises a {@link MechanismSpec} to `{ mechanism, parameter }`, validating the number. */
export function mechanismOf(spec: MechanismSpec): { mechanism: number; parameter?: MechanismParameter } {
  if (typeof spec === 'number') return { mechanism: Number(checkULong(spec, 'mechanism')) };
  if (spec === null || typeof spec !== 'object')
    throw new TypeError('mechanism must be a number or { mechanism, parameter }');
  return { mechanism: Number(checkULong(spec.mechanism, 'mechanism.mechanism')), parameter: spec.parameter };
}

/**
 * Encodes a mechanism into one buffer (CK_MECHANISM at offset 0); pass it as `CK_MECHANISM_PTR` and
 * keep it referenced for the call. A parameter the standard requires must be there, of the right
 * shape (required-params.ts).
 */
export function encodeMechanism(spec: MechanismSpec): Buffer {
  const { mechanism, parameter } = mechanismOf(spec);
  checkParameter(mechanism, parameter);
  if (parameter === undefined) {
    let bare = BARE.get(mechanism);
    if (!bare) {
      if (BARE.size >= MAX_BARE) BARE.clear();
      BARE.set(mechanism, (bare = encode(mechanism, undefined)));
    }
    return bare;
  }
  return encode(mechanism, parameter);
}

/**
 * Encodings of mechanisms without a parameter, made once: a CK_MECHANISM is input only (the
 * standard's `CK_MECHANISM_PTR` is read, never written), and a sign of 70 µs should not spend
 * one of them building the same 24 bytes again.
 */
const BARE = new Map<number, Buffer>();
const MAX_BARE = 256;

function encode(mechanism: number, parameter: MechanismParameter | undefined): Buffer {
  const arena = new Arena();
  const at = arena.reserve(CK_MECHANISM.size, CK_MECHANISM.align);
  const param = encodeParameter(arena, mechanism, parameter);
  arena.write((buf, base) => {
    writeULong(buf, at + CK_MECHANISM.fields.mechanism.offset, mechanism);
    if (param && param[1] > 0) {
      writeAddress(buf, at + CK_MECHANISM.fields.pParameter.offset, base, param[0]);
      writeULong(buf, at + CK_MECHANISM.fields.ulParameterLen.offset, param[1]);
    }
  });
  return arena.finish().buf;
}
