/**
 * The kinds of key pair the interop tests run over (RSA, the seed curves, Ed25519), key pairs of a
 * kind made on the token and skipped by capability (the token's mechanism list, or its refusal of
 * a curve), and node-made key pairs of the same kind for the other direction.
 *
 * @example
 * for (const kind of KEY_KINDS) {
 *   test(kind.title, async (t) => {
 *     const pair = await tokenKeyPair(t, fx, kind);
 *     if (!pair) return; // skipped
 *   });
 * }
 */
import type { TestContext } from 'node:test';
import crypto from 'node:crypto';
import { KeyType, Mechanism } from '../../src/sys/constants.js';
import type { KeyPair } from '../../src/model/index.js';
import { CURVE_REFUSED, lacks, unlessRefused, type Fixture } from './token.js';

/** One kind of key pair the tests cover, as the token and as node:crypto name it. */
export interface KeyKind {
  /** Test title. */
  readonly title: string;
  readonly keyType: number;
  /** Second argument of `generateKeypair`: modulus bits or curve name. */
  readonly spec: number | string;
  /** `crypto.generateKeyPairSync` arguments for the same kind of key. */
  readonly node:
    | readonly ['rsa', { modulusLength: number }]
    | readonly ['ec', { namedCurve: string }]
    | readonly ['ed25519'];
  /** The hash a signature uses (null: EdDSA hashes internally). */
  readonly hash: string | null;
}

/** RSA and every seed curve the issue names, plus P-384, P-521 and Ed25519. */
export const KEY_KINDS: readonly KeyKind[] = [
  {
    title: 'RSA 2048',
    keyType: KeyType.RSA,
    spec: 2048,
    node: ['rsa', { modulusLength: 2048 }],
    hash: 'sha256',
  },
  ...(
    [
      // token's name, OpenSSL's name, hash
      ['secp256r1', 'prime256v1', 'sha256'],
      ['secp256k1', 'secp256k1', 'sha256'],
      ['brainpoolP256r1', 'brainpoolP256r1', 'sha256'],
      ['secp384r1', 'secp384r1', 'sha384'],
      ['secp521r1', 'secp521r1', 'sha512'],
    ] as const
  ).map(([curve, nodeCurve, hash]) => ({
    title: `EC ${curve}`,
    keyType: KeyType.EC,
    spec: curve,
    node: ['ec', { namedCurve: nodeCurve }] as const,
    hash,
  })),
  { title: 'Ed25519', keyType: KeyType.EC_EDWARDS, spec: 'Ed25519', node: ['ed25519'], hash: null },
];

const GENERATION: Readonly<Record<number, number>> = {
  [KeyType.RSA]: Mechanism.RSA_PKCS_KEY_PAIR_GEN,
  [KeyType.EC]: Mechanism.EC_KEY_PAIR_GEN,
  [KeyType.EC_EDWARDS]: Mechanism.EC_EDWARDS_KEY_PAIR_GEN,
};

/** Mechanisms a kind of key signs with here; a token without it skips the kind. */
export const SIGNING: Readonly<Record<number, number>> = {
  [KeyType.RSA]: Mechanism.RSA_PKCS,
  [KeyType.EC]: Mechanism.ECDSA,
  [KeyType.EC_EDWARDS]: Mechanism.EDDSA,
};

/**
 * Runs `attempt` with a key of `kind`; resolves to undefined (and skips the test) when the token
 * lacks the generation or signing mechanism of the kind, or refuses its curve.
 */
export async function withKind<T>(
  t: TestContext,
  fx: Fixture,
  kind: KeyKind,
  attempt: () => Promise<T>,
): Promise<T | undefined> {
  if (lacks(t, fx, GENERATION[kind.keyType]!, SIGNING[kind.keyType]!)) return undefined;
  return unlessRefused(t, CURVE_REFUSED, `the token refuses ${kind.title}`, attempt);
}

/** A session key pair of `kind` made by the token, or undefined when skipped (see `withKind`). */
export function tokenKeyPair(
  t: TestContext,
  fx: Fixture,
  kind: KeyKind,
  options: { id?: Uint8Array; label?: string } = {},
): Promise<KeyPair | undefined> {
  return withKind(t, fx, kind, () => fx.session.generateKeypair(kind.keyType, kind.spec, options));
}

/** A node:crypto key pair of `kind`. */
export function nodeKeyPair(kind: KeyKind): crypto.KeyPairKeyObjectResult {
  const [type, options] = kind.node;
  return crypto.generateKeyPairSync(type as 'rsa', options as crypto.RSAKeyPairKeyObjectOptions);
}
