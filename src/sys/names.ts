/**
 * Spec names of constant values: `nameOf(Mechanism, 0x1041)` is `'CKM_ECDSA'`, and values the spec
 * does not name (vendor codes, newer versions) print as lowercase hex, `'0x80000001'`.
 *
 * The names come from the family objects of `constants.ts` and the prefix each one registered
 * there; the value-to-name maps are built once per family, on first use.
 */
import { familyInfo, type FamilyInfo } from './constants.js';

/** A family object of `constants.ts`, such as `Mechanism` or `TokenFlag`. */
export type ConstantFamily = Readonly<Record<string, number>>;

const reverseMaps = new WeakMap<ConstantFamily, ReadonlyMap<number, string>>();

/** The registration of `family`, or a TypeError naming the argument when it is not a family. */
function infoOf(fn: string, family: unknown): FamilyInfo {
  const info = familyInfo(family);
  if (info === undefined) {
    throw new TypeError(`${fn}: family must be a constant family from sys/constants (e.g. Mechanism)`);
  }
  return info;
}

/** Value to canonical spec name for one family; aliases never win over the current name. */
function reverseMap(family: ConstantFamily, info: FamilyInfo): ReadonlyMap<number, string> {
  let map = reverseMaps.get(family);
  if (map === undefined) {
    const byValue = new Map<number, string>();
    for (const [key, value] of Object.entries(family)) {
      if (!info.aliases.has(key)) byValue.set(value, info.prefix + key);
    }
    map = byValue;
    reverseMaps.set(family, map);
  }
  return map;
}

/** `value` as a bigint, or a TypeError/RangeError naming the argument when it is no CK_ULONG. */
function toUlong(fn: string, name: string, value: unknown): bigint {
  if (typeof value === 'bigint') {
    if (value < 0n) throw new RangeError(`${fn}: ${name} must not be negative`);
    return value;
  }
  if (typeof value !== 'number') throw new TypeError(`${fn}: ${name} must be a number or a bigint`);
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${fn}: ${name} must be a non-negative integer, got ${value}`);
  }
  return BigInt(value);
}

/**
 * A CK_ULONG as the spec writes unnamed values in messages: lowercase hex with a `0x` prefix and
 * no padding.
 *
 * @example
 * ```ts
 * hex(0xa0); // '0xa0'
 * hex(0x80000001); // '0x80000001'
 * ```
 */
export function hex(value: number | bigint): string {
  return formatHex(toUlong('hex', 'value', value));
}

function formatHex(code: bigint): string {
  return `0x${code.toString(16)}`;
}

/** Looks `value` up in a family's map; `undefined` when the spec does not name it. */
function lookup(map: ReadonlyMap<number, string>, value: bigint): string | undefined {
  return value <= BigInt(Number.MAX_SAFE_INTEGER) ? map.get(Number(value)) : undefined;
}

/**
 * The spec name, with its prefix, of `value` in `family`; hex (`'0x80000001'`) when the spec does
 * not name it. Where the spec has two names for one value, the current one is returned
 * (`nameOf(KeyType, 3)` is `'CKK_EC'`, not `'CKK_ECDSA'`).
 *
 * @throws TypeError when `family` is not a family of `constants.ts` or `value` is not a number or
 *   bigint; RangeError when `value` is negative or not an integer.
 * @example
 * ```ts
 * nameOf(Mechanism, 0x1041); // 'CKM_ECDSA'
 * nameOf(ReturnValue, 0xa0); // 'CKR_PIN_INCORRECT'
 * nameOf(Mechanism, 0x80000001); // '0x80000001'
 * ```
 */
export function nameOf(family: ConstantFamily, value: number | bigint): string {
  const info = infoOf('nameOf', family);
  const code = toUlong('nameOf', 'value', value);
  return lookup(reverseMap(family, info), code) ?? formatHex(code);
}

/**
 * The names of the bits set in `bits`, lowest bit first, for a flag family (`TokenFlag`,
 * `MechanismFlag`, ...); bits the family does not name come out as hex (`'0x8000'`).
 *
 * @throws TypeError when `family` is not a flag family or `bits` is not a number or bigint;
 *   RangeError when `bits` is negative or not an integer.
 * @example
 * ```ts
 * flagNames(SessionFlag, 0x6); // ['CKF_RW_SESSION', 'CKF_SERIAL_SESSION']
 * flagNames(SlotFlag, 0x9); // ['CKF_TOKEN_PRESENT', '0x8']
 * ```
 */
export function flagNames(family: ConstantFamily, bits: number | bigint): string[] {
  const info = infoOf('flagNames', family);
  if (info.kind !== 'flags') {
    throw new TypeError(
      `flagNames: family must be a flag family (e.g. TokenFlag), not one of ${info.prefix} values`,
    );
  }
  const map = reverseMap(family, info);
  const names: string[] = [];
  for (let rest = toUlong('flagNames', 'bits', bits); rest !== 0n;) {
    const bit = rest & -rest;
    names.push(lookup(map, bit) ?? formatHex(bit));
    rest ^= bit;
  }
  return names;
}
