/**
 * Signature schemes as the interop layer names them (PKCS#1 v1.5, PSS, ECDSA, EdDSA, HMAC, each
 * with its hash) and the PKCS#11 mechanism each runs as. Shared by `TokenSigner` (node:crypto
 * style) and the WebCrypto subset, so both sign the same way. The hash-then-sign mechanisms are
 * used throughout; where the token has only the raw one (SoftHSM2 has CKM_ECDSA but no
 * CKM_ECDSA_SHA256), the model hashes on the host and sends the token the digest.
 */
import { Mechanism } from '../sys/constants.js';
import type { HashAlgorithm } from '../model/hashes.js';
import type { OperationOptions } from '../model/plan.js';
import { hashedMechanism, hmacMechanism } from './hashes.js';

/** One way of signing, with everything the token needs to know. */
export type SignatureScheme =
  | { readonly kind: 'rsa-pkcs1'; readonly hash: HashAlgorithm }
  | { readonly kind: 'rsa-pss'; readonly hash: HashAlgorithm; readonly saltLength: number }
  | { readonly kind: 'ecdsa'; readonly hash: HashAlgorithm }
  | { readonly kind: 'eddsa' }
  | { readonly kind: 'hmac'; readonly hash: HashAlgorithm };

/** A token key that signs (a private or secret key). */
export interface SigningKey {
  sign(data: Uint8Array, options: OperationOptions): Promise<Uint8Array>;
}

/** A token key that verifies (a public or secret key). */
export interface VerifyingKey {
  verify(data: Uint8Array, signature: Uint8Array, options: OperationOptions): Promise<boolean>;
}

/** The operation options of `scheme`. */
function optionsOf(scheme: SignatureScheme): OperationOptions {
  switch (scheme.kind) {
    case 'rsa-pkcs1':
      return { mechanism: hashedMechanism('pkcs1', scheme.hash) };
    case 'rsa-pss': {
      const { hash, saltLength } = scheme;
      const mechanismParam = { hashAlg: hash.mechanism, mgf: hash.mgf!, saltLength };
      return { mechanism: hashedMechanism('pss', hash), mechanismParam };
    }
    case 'ecdsa':
      return { mechanism: hashedMechanism('ecdsa', scheme.hash) };
    case 'eddsa':
      return { mechanism: Mechanism.EDDSA };
    case 'hmac':
      return { mechanism: hmacMechanism(scheme.hash) };
  }
}

/**
 * The token's signature of `data` with `key` under `scheme`, in PKCS#11's format: raw r||s for
 * ECDSA (each half padded to the curve order's size, as WebCrypto has it), bytes for the rest.
 */
export function signWithToken(
  key: SigningKey,
  scheme: SignatureScheme,
  data: Uint8Array,
): Promise<Uint8Array> {
  return key.sign(data, optionsOf(scheme));
}

/** Whether the token finds `signature` (in PKCS#11's format) valid for `data` under `scheme`. */
export function verifyWithToken(
  key: VerifyingKey,
  scheme: SignatureScheme,
  data: Uint8Array,
  signature: Uint8Array,
): Promise<boolean> {
  return key.verify(data, signature, optionsOf(scheme));
}
