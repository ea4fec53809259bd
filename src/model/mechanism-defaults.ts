/**
 * pkcs11-ts's default mechanism parameters (ours, not the standard's), all in this one place:
 * what a parameter-taking RSA mechanism gets when the caller gives no parameter, or gives only
 * part of one. IVs for block and AEAD modes are in iv.ts; default mechanisms per key type are in
 * defaults.ts.
 *
 * - `RSA_PKCS_OAEP`: SHA-1 with MGF1-SHA-1 and no label. This is the PKCS#1 default and the only
 *   OAEP that SoftHSM2 does; give `{ hashAlg: Mechanism.SHA256 }` and the MGF follows the hash.
 * - `SHAxxx_RSA_PKCS_PSS`: hash xxx, MGF1 with xxx, salt as long as the digest (RFC 8017's
 *   recommendation), so `SHA256_RSA_PKCS_PSS` alone means SHA-256 / MGF1-SHA-256 / 32 bytes.
 * - `RSA_PKCS_PSS` (raw, signs a digest): the hash is the one whose digest is as long as the
 *   data (20 bytes SHA-1, 28 SHA-224, 32 SHA-256, 48 SHA-384, 64 SHA-512), then as above.
 *
 * A parameter given as raw bytes is passed through untouched.
 *
 * @example
 * completeParameter(Mechanism.SHA384_RSA_PKCS_PSS, undefined);
 * // { hashAlg: Mechanism.SHA384, mgf: MGF.SHA384, saltLength: 48 }
 */
import { Mechanism } from '../sys/constants.js';
import { nameOf } from '../sys/names.js';
import {
  parameterFields,
  type CtrParams,
  type GcmParams,
  type MechanismParameter,
  type OaepParams,
  type PssParams,
} from '../core/params.js';
import { HASHED_SIGNATURES, HASHES, hashOfMgf, hashOfSize, type HashAlgorithm } from './hashes.js';

/**
 * A mechanism parameter as callers may give it: complete, or with the parts the defaults fill in
 * left out (an OAEP or PSS hash, MGF or salt; a GCM IV or a CTR counter block, see iv.ts).
 */
export type ParameterInput =
  MechanismParameter | Partial<OaepParams> | Partial<PssParams> | Partial<GcmParams> | Partial<CtrParams>;

/** The OAEP hash when none is given. */
const OAEP_DEFAULT_HASH = Mechanism.SHA_1;

/** The fields of a struct parameter, `{}` for none; `undefined` for raw bytes or a number (passed through). */
function fieldsOrEmpty(
  mechanism: number,
  parameter: MechanismParameter,
): Readonly<Record<string, unknown>> | undefined {
  if (parameter === undefined || parameter === null) return {};
  return parameterFields(mechanism, parameter);
}

/** The known hash of a `hashAlg` field; a RangeError for one the library cannot pair with an MGF. */
function knownHash(hashAlg: unknown, what: string): HashAlgorithm {
  const hash = HASHES.get(Number(hashAlg));
  if (!hash || hash.mgf === undefined) {
    throw new RangeError(
      `${what}.hashAlg ${nameOf(Mechanism, Number(hashAlg))} has no MGF1 pairing known to pkcs11-ts: give mgf too`,
    );
  }
  return hash;
}

function completeOaep(parameter: MechanismParameter): MechanismParameter {
  const f = fieldsOrEmpty(Mechanism.RSA_PKCS_OAEP, parameter);
  if (!f) return parameter;
  const byMgf = f.mgf === undefined || f.mgf === null ? undefined : hashOfMgf(Number(f.mgf));
  const hashAlg = f.hashAlg ?? byMgf?.mechanism ?? OAEP_DEFAULT_HASH;
  const mgf = f.mgf ?? knownHash(hashAlg, 'parameter of CKM_RSA_PKCS_OAEP').mgf;
  return {
    hashAlg: hashAlg as number,
    mgf: mgf as number,
    sourceData: (f.sourceData as Uint8Array | null | undefined) ?? null,
  };
}

function completePss(
  mechanism: number,
  parameter: MechanismParameter,
  dataLength: number | undefined,
): MechanismParameter {
  const f = fieldsOrEmpty(mechanism, parameter);
  if (!f) return parameter;
  const what = `parameter of ${nameOf(Mechanism, mechanism)}`;
  const own = HASHED_SIGNATURES.get(mechanism)?.hash;
  if (own && f.hashAlg !== undefined && Number(f.hashAlg) !== own.mechanism) {
    throw new RangeError(`${what}.hashAlg must be ${own.name}, the mechanism's own hash`);
  }
  let hash: HashAlgorithm | undefined = own;
  if (f.hashAlg !== undefined) hash = knownHash(f.hashAlg, what);
  else if (!hash && dataLength !== undefined) {
    hash = hashOfSize(dataLength);
    if (!hash)
      throw new RangeError(
        `CKM_RSA_PKCS_PSS signs a digest: ${dataLength} bytes is no SHA-1/SHA-2 digest length; pass mechanismParam`,
      );
  }
  if (!hash) {
    throw new TypeError(
      'CKM_RSA_PKCS_PSS on a stream needs mechanismParam { hashAlg, mgf, saltLength }: the hash cannot be told from the data',
    );
  }
  return {
    hashAlg: hash.mechanism,
    mgf: (f.mgf as number | undefined) ?? (hash.mgf as number),
    saltLength: (f.saltLength as number | undefined) ?? hash.size,
  };
}

const PSS_MECHANISMS = new Set<number>([
  Mechanism.RSA_PKCS_PSS,
  ...[...HASHED_SIGNATURES.values()].filter((s) => s.scheme === 'pss').map((s) => s.mechanism),
]);

/**
 * The parameter `mechanism` runs with: the caller's, with anything missing filled in by the
 * defaults above. `dataLength` is the size of one-shot input (undefined for streams), from which
 * raw `RSA_PKCS_PSS` picks its hash. Other mechanisms get their parameter back unchanged.
 */
export function completeParameter(
  mechanism: number,
  input: ParameterInput,
  dataLength?: number,
): MechanismParameter {
  // Partial structs are completed below (or, for IVs, in iv.ts); the encoder validates whatever is left.
  const parameter = input as MechanismParameter;
  if (mechanism === Mechanism.RSA_PKCS_OAEP) return completeOaep(parameter);
  if (PSS_MECHANISMS.has(mechanism)) return completePss(mechanism, parameter, dataLength);
  return parameter;
}
