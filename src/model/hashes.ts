/**
 * Hash algorithms as PKCS#11 and node:crypto name them, and the signature mechanisms that hash
 * before they sign (`ECDSA_SHA256`, `SHA256_RSA_PKCS`, `SHA256_RSA_PKCS_PSS`, `DSA_SHA256`): each
 * is the raw mechanism of its family applied to a digest, which is what lets the library hash on
 * the host when a token only has the raw mechanism.
 */
import { createHash } from 'node:crypto';
import { OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import { DigestInfo } from '@peculiar/asn1-rsa';
import { MGF, Mechanism } from '../sys/constants.js';
import { bufferOf, serializeDer } from '../util/der.js';
import { toBytes, type DataStream } from './operations.js';

/** One hash algorithm. */
export interface HashAlgorithm {
  /** Display name, e.g. `'SHA-256'`. */
  readonly name: string;
  /** The node:crypto algorithm name, e.g. `'sha256'`. */
  readonly node: string;
  /** The PKCS#11 digest mechanism, e.g. `Mechanism.SHA256`. */
  readonly mechanism: number;
  /** The MGF1 variant built on this hash (`MGF.SHA256`); `undefined` for MD5, which has none. */
  readonly mgf: number | undefined;
  /** Digest length in bytes. */
  readonly size: number;
  /** The algorithm's OID in a PKCS#1 v1.5 DigestInfo (RFC 8017, FIPS 202). */
  readonly oid: string;
}

function hash(
  name: string,
  node: string,
  mechanism: number,
  mgf: number | undefined,
  size: number,
  oid: string,
): HashAlgorithm {
  return Object.freeze({ name, node, mechanism, mgf, size, oid });
}

const NIST = '2.16.840.1.101.3.4.2';
const MD5 = hash('MD5', 'md5', Mechanism.MD5, undefined, 16, '1.2.840.113549.2.5');
const SHA1 = hash('SHA-1', 'sha1', Mechanism.SHA_1, MGF.SHA1, 20, '1.3.14.3.2.26');
const SHA224 = hash('SHA-224', 'sha224', Mechanism.SHA224, MGF.SHA224, 28, `${NIST}.4`);
const SHA256 = hash('SHA-256', 'sha256', Mechanism.SHA256, MGF.SHA256, 32, `${NIST}.1`);
const SHA384 = hash('SHA-384', 'sha384', Mechanism.SHA384, MGF.SHA384, 48, `${NIST}.2`);
const SHA512 = hash('SHA-512', 'sha512', Mechanism.SHA512, MGF.SHA512, 64, `${NIST}.3`);
const SHA3_224 = hash('SHA3-224', 'sha3-224', Mechanism.SHA3_224, MGF.SHA3_224, 28, `${NIST}.7`);
const SHA3_256 = hash('SHA3-256', 'sha3-256', Mechanism.SHA3_256, MGF.SHA3_256, 32, `${NIST}.8`);
const SHA3_384 = hash('SHA3-384', 'sha3-384', Mechanism.SHA3_384, MGF.SHA3_384, 48, `${NIST}.9`);
const SHA3_512 = hash('SHA3-512', 'sha3-512', Mechanism.SHA3_512, MGF.SHA3_512, 64, `${NIST}.10`);

/** Every hash the host side knows, keyed by its PKCS#11 digest mechanism. */
export const HASHES: ReadonlyMap<number, HashAlgorithm> = new Map(
  [MD5, SHA1, SHA224, SHA256, SHA384, SHA512, SHA3_224, SHA3_256, SHA3_384, SHA3_512].map((h) => [
    h.mechanism,
    h,
  ]),
);

/** The hash whose MGF1 variant is `mgf` (`MGF.SHA256` gives SHA-256). */
export function hashOfMgf(mgf: number): HashAlgorithm | undefined {
  for (const h of HASHES.values()) if (h.mgf === mgf) return h;
  return undefined;
}

/**
 * The SHA-1/SHA-2 hash with a digest of `size` bytes: how a raw RSA_PKCS_PSS signature guesses
 * its hash from the data it is given (SHA-3 digests have the same sizes; pass the parameter to
 * use one).
 */
export function hashOfSize(size: number): HashAlgorithm | undefined {
  return [SHA1, SHA224, SHA256, SHA384, SHA512].find((h) => h.size === size);
}

/** How a family's raw mechanism takes the digest. */
export type SignatureScheme = 'ecdsa' | 'dsa' | 'pkcs1' | 'pss';

/** A signature mechanism that hashes first, split into its hash and its raw mechanism. */
export interface HashedSignature {
  /** The hashing mechanism, e.g. `Mechanism.ECDSA_SHA256`. */
  readonly mechanism: number;
  /** The raw mechanism that signs a digest, e.g. `Mechanism.ECDSA`. */
  readonly raw: number;
  readonly hash: HashAlgorithm;
  /** `pkcs1` signs a DigestInfo; `pss` takes the PSS parameters; `ecdsa` and `dsa` sign the bare digest. */
  readonly scheme: SignatureScheme;
}

const RAW: Record<SignatureScheme, number> = {
  ecdsa: Mechanism.ECDSA,
  dsa: Mechanism.DSA,
  pkcs1: Mechanism.RSA_PKCS,
  pss: Mechanism.RSA_PKCS_PSS,
};

// Per hash: its ECDSA, DSA, PKCS#1 v1.5 and PSS mechanisms (undefined where PKCS#11 has none).
const FAMILIES: readonly (readonly [
  HashAlgorithm,
  number | undefined,
  number | undefined,
  number,
  number | undefined,
])[] = [
  [MD5, undefined, undefined, Mechanism.MD5_RSA_PKCS, undefined],
  [SHA1, Mechanism.ECDSA_SHA1, Mechanism.DSA_SHA1, Mechanism.SHA1_RSA_PKCS, Mechanism.SHA1_RSA_PKCS_PSS],
  [
    SHA224,
    Mechanism.ECDSA_SHA224,
    Mechanism.DSA_SHA224,
    Mechanism.SHA224_RSA_PKCS,
    Mechanism.SHA224_RSA_PKCS_PSS,
  ],
  [
    SHA256,
    Mechanism.ECDSA_SHA256,
    Mechanism.DSA_SHA256,
    Mechanism.SHA256_RSA_PKCS,
    Mechanism.SHA256_RSA_PKCS_PSS,
  ],
  [
    SHA384,
    Mechanism.ECDSA_SHA384,
    Mechanism.DSA_SHA384,
    Mechanism.SHA384_RSA_PKCS,
    Mechanism.SHA384_RSA_PKCS_PSS,
  ],
  [
    SHA512,
    Mechanism.ECDSA_SHA512,
    Mechanism.DSA_SHA512,
    Mechanism.SHA512_RSA_PKCS,
    Mechanism.SHA512_RSA_PKCS_PSS,
  ],
  [
    SHA3_224,
    Mechanism.ECDSA_SHA3_224,
    Mechanism.DSA_SHA3_224,
    Mechanism.SHA3_224_RSA_PKCS,
    Mechanism.SHA3_224_RSA_PKCS_PSS,
  ],
  [
    SHA3_256,
    Mechanism.ECDSA_SHA3_256,
    Mechanism.DSA_SHA3_256,
    Mechanism.SHA3_256_RSA_PKCS,
    Mechanism.SHA3_256_RSA_PKCS_PSS,
  ],
  [
    SHA3_384,
    Mechanism.ECDSA_SHA3_384,
    Mechanism.DSA_SHA3_384,
    Mechanism.SHA3_384_RSA_PKCS,
    Mechanism.SHA3_384_RSA_PKCS_PSS,
  ],
  [
    SHA3_512,
    Mechanism.ECDSA_SHA3_512,
    Mechanism.DSA_SHA3_512,
    Mechanism.SHA3_512_RSA_PKCS,
    Mechanism.SHA3_512_RSA_PKCS_PSS,
  ],
];

/** Every hash-then-sign mechanism, keyed by its number. */
export const HASHED_SIGNATURES: ReadonlyMap<number, HashedSignature> = new Map(
  FAMILIES.flatMap(([h, ecdsa, dsa, pkcs1, pss]) =>
    (
      [
        ['ecdsa', ecdsa],
        ['dsa', dsa],
        ['pkcs1', pkcs1],
        ['pss', pss],
      ] as const
    )
      .filter((entry): entry is readonly [SignatureScheme, number] => entry[1] !== undefined)
      .map(
        ([scheme, mechanism]) =>
          [mechanism, Object.freeze({ mechanism, raw: RAW[scheme], hash: h, scheme })] as const,
      ),
  ),
);

/**
 * The DER DigestInfo { algorithm (parameters NULL), digest } that PKCS#1 v1.5 signs (RFC 8017
 * section 9.2): what a raw `RSA_PKCS` signature must be given to equal a `SHAxxx_RSA_PKCS` one.
 */
export function digestInfo(algorithm: HashAlgorithm, digest: Uint8Array): Uint8Array {
  if (digest.byteLength !== algorithm.size) {
    throw new RangeError(`a ${algorithm.name} digest is ${algorithm.size} bytes, got ${digest.byteLength}`);
  }
  return serializeDer(
    new DigestInfo({
      digestAlgorithm: new AlgorithmIdentifier({ algorithm: algorithm.oid, parameters: null }),
      digest: new OctetString(bufferOf(digest)),
    }),
  );
}

/** Hashes bytes or a stream of chunks with node:crypto, chunk by chunk. */
export async function hostDigest(
  algorithm: HashAlgorithm,
  data: Uint8Array | DataStream,
): Promise<Uint8Array> {
  const h = createHash(algorithm.node);
  if (data instanceof Uint8Array) return h.update(data).digest();
  for await (const chunk of data) h.update(toBytes(chunk, 'stream chunk'));
  return h.digest();
}
