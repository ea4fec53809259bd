/**
 * Constant names on the command line: `--mechanism ECDSA_SHA256` as well as `CKM_ECDSA_SHA256`,
 * `ecdsa-sha256` (pkcs11-tool's spelling), `0x1044` or `4164` all name the same mechanism.
 */
import { familyInfo } from '../sys/constants.js';
import type { ConstantFamily } from '../sys/names.js';
import { UsageError } from './errors.js';

/**
 * The value of a constant named on the command line: the spec name with or without its prefix,
 * in any letter case, with `-` for `_`; or a number in hex (`0x...`) or decimal for vendor values.
 *
 * @throws UsageError naming `what` when the name is unknown.
 * @example
 * parseConstant(Mechanism, 'sha256-rsa-pkcs', '--mechanism'); // Mechanism.SHA256_RSA_PKCS
 */
export function parseConstant(family: ConstantFamily, text: string, what: string): number {
  const trimmed = text.trim();
  if (/^(0x[0-9a-f]+|[0-9]+)$/i.test(trimmed)) {
    const value = Number(trimmed);
    if (Number.isSafeInteger(value)) return value;
  }
  const prefix = familyInfo(family)?.prefix ?? '';
  const key = trimmed.toUpperCase().replace(/-/g, '_');
  const bare = key.startsWith(prefix) ? key.slice(prefix.length) : key;
  const value = family[bare];
  if (value === undefined) throw new UsageError(`${what}: unknown name ${JSON.stringify(text)}`);
  return value;
}
