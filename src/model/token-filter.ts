/**
 * Token selection criteria for `Library.getTokens` / `getToken`.
 */
import type { Token } from './token.js';

/** What a token must match; every given criterion must hold. */
export interface TokenFilter {
  /** Exact token label (trailing blanks of the C field are ignored). */
  readonly tokenLabel?: string;
  /** Exact serial number. */
  readonly tokenSerial?: string;
  /** `TokenFlag` bits that must all be set. */
  readonly tokenFlags?: number;
  /** `SlotFlag` bits that must all be set. */
  readonly slotFlags?: number;
  /** Mechanisms that must all be supported. */
  readonly mechanisms?: readonly number[];
}

function checkFilter(filter: TokenFilter): void {
  if (filter === null || typeof filter !== 'object') throw new TypeError('filter must be an object');
  for (const key of ['tokenLabel', 'tokenSerial'] as const) {
    if (filter[key] !== undefined && typeof filter[key] !== 'string')
      throw new TypeError(`filter.${key} must be a string`);
  }
  for (const key of ['tokenFlags', 'slotFlags'] as const) {
    const v = filter[key];
    if (v !== undefined && (!Number.isSafeInteger(v) || v < 0))
      throw new TypeError(`filter.${key} must be a flag number`);
  }
  if (filter.mechanisms !== undefined && !Array.isArray(filter.mechanisms)) {
    throw new TypeError('filter.mechanisms must be an array of mechanism numbers');
  }
}

const hasAll = (bits: number, wanted: number): boolean => (BigInt(bits) & BigInt(wanted)) === BigInt(wanted);

/** Whether `token` satisfies `filter`; reads slot info and the mechanism list only when asked. */
export async function tokenMatches(token: Token, filter: TokenFilter): Promise<boolean> {
  checkFilter(filter);
  const info = token.info;
  if (filter.tokenLabel !== undefined && info.label !== filter.tokenLabel) return false;
  if (filter.tokenSerial !== undefined && info.serialNumber !== filter.tokenSerial) return false;
  if (filter.tokenFlags !== undefined && !hasAll(info.flags, filter.tokenFlags)) return false;
  if (filter.slotFlags !== undefined && !hasAll((await token.slot.getInfo()).flags, filter.slotFlags))
    return false;
  if (filter.mechanisms?.length) {
    const supported = new Set(await token.slot.getMechanisms());
    if (!filter.mechanisms.every((m) => supported.has(m))) return false;
  }
  return true;
}
