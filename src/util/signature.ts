/**
 * Raw r||s signatures (what PKCS#11 ECDSA and DSA mechanisms produce) to and from the DER
 * SEQUENCE { r INTEGER, s INTEGER } that X.509, CMS, TLS and node:crypto use: ECDSA-Sig-Value
 * (RFC 3279, SEC1) and Dss-Sig-Value have the same shape, so one schema serves both.
 */
import { ECDSASigValue } from '@peculiar/asn1-ecc';
import {
  integerContent,
  padStart,
  parseDer,
  requireUint8Array,
  serializeDer,
  unsignedInteger,
} from './der.js';

/** DER of a raw r||s signature, split in halves; a RangeError when its length is odd or zero. */
export function rawToDerSignature(raw: Uint8Array, where: string): Uint8Array {
  requireUint8Array(raw, where);
  if (raw.length === 0 || raw.length % 2 !== 0) {
    throw new RangeError(`${where} must be r||s: an even, non-zero number of bytes, got ${raw.length}`);
  }
  const half = raw.length / 2;
  const r = integerContent(raw.subarray(0, half));
  const s = integerContent(raw.subarray(half));
  return serializeDer(new ECDSASigValue({ r, s }));
}

/**
 * Raw r||s of a DER signature, each left-padded to `size` bytes (the size of the group order, not
 * of the longer integer: a short r comes back at full size); a RangeError when r or s is longer.
 */
export function derToRawSignature(der: Uint8Array, size: number, where: string): Uint8Array {
  requireUint8Array(der, where);
  const value = parseDer(der, ECDSASigValue, where, 'DER signature (SEQUENCE of INTEGER r, s)');
  const out = new Uint8Array(2 * size);
  out.set(padStart(unsignedInteger(value.r, where, 'r'), size, where, 'r'), 0);
  out.set(padStart(unsignedInteger(value.s, where, 's'), size, where, 's'), size);
  return out;
}

/** `size` when it is a positive safe integer; a TypeError or RangeError naming `where` otherwise. */
export function requireSize(size: unknown, where: string): number {
  if (typeof size !== 'number') throw new TypeError(`${where} must be a number of bytes`);
  if (!Number.isSafeInteger(size) || size <= 0)
    throw new RangeError(`${where} must be a positive integer, got ${size}`);
  return size;
}
