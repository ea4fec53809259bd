/**
 * The kinds of key pair the interop tests run over (RSA, the seed curves, Ed25519), key pairs of a
 * kind made on the token and skipped by capability (the token's mechanism list, its refusal of a
 * curve, or of signing with a pair it made), and node-made key pairs of the same kind for the other
 * direction.
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
import { KeyType, Mechanism, ReturnValue } from '../../src/sys/constants.js';
import { nameOf } from '../../src/sys/names.js';
import type { KeyPair, Session } from '../../src/model/index.js';
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

/** The name of a kind's key family in test/support/key-capabilities.ts (`'EC'` in `cannotImport(t, s, 'EC private')`). */
export const FAMILY = {
  [KeyType.RSA]: 'RSA',
  [KeyType.EC]: 'EC',
  [KeyType.EC_EDWARDS]: 'Ed25519',
} as const satisfies Readonly<Record<number, string>>;

/** The key family of `kind`, for the import probes. */
export function familyOf(kind: KeyKind): (typeof FAMILY)[keyof typeof FAMILY] {
  return FAMILY[kind.keyType as keyof typeof FAMILY];
}

/** Mechanisms a kind of key signs with here; a token without it skips the kind. */
export const SIGNING: Readonly<Record<number, number>> = {
  [KeyType.RSA]: Mechanism.RSA_PKCS,
  [KeyType.EC]: Mechanism.ECDSA,
  [KeyType.EC_EDWARDS]: Mechanism.EDDSA,
};

/** Skips the running test (and returns true) when the token lacks the generation or signing mechanism of `kind`. */
export function lacksKind(t: TestContext, fx: Fixture, kind: KeyKind): boolean {
  return lacks(t, fx, GENERATION[kind.keyType]!, SIGNING[kind.keyType]!);
}

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
  if (lacksKind(t, fx, kind)) return undefined;
  return unlessRefused(t, CURVE_REFUSED, `the token refuses ${kind.title}`, attempt);
}

/**
 * What a token answers when it cannot sign with a key pair it made itself (tpm2-pkcs11 1.9 makes
 * P-521 pairs, then answers C_SignInit with CKR_HOST_MEMORY).
 */
export const SIGNING_REFUSED: readonly number[] = [
  ReturnValue.HOST_MEMORY,
  ReturnValue.KEY_SIZE_RANGE,
  ReturnValue.KEY_TYPE_INCONSISTENT,
  ReturnValue.CURVE_NOT_SUPPORTED,
];

/**
 * A key pair the token makes with `generateKeypair(keyType, spec)` and can sign with (one signature
 * with the key type's raw mechanism tells); resolves to undefined and skips the test when the token
 * refuses the curve or size, or cannot sign with the pair it made.
 */
export async function signingPair(
  t: TestContext,
  session: Session,
  keyType: number,
  spec: number | string,
  options: { id?: Uint8Array; label?: string } = {},
): Promise<KeyPair | undefined> {
  const title = typeof spec === 'string' ? spec : `${nameOf(KeyType, keyType)} ${spec}`;
  const pair = await unlessRefused(t, CURVE_REFUSED, `the token refuses ${title}`, () =>
    session.generateKeypair(keyType, spec, options),
  );
  if (!pair) return undefined;
  const signed = await unlessRefused(
    t,
    SIGNING_REFUSED,
    `the token makes ${title} keys but cannot sign with them`,
    () => pair.privateKey.sign(new Uint8Array(32), { mechanism: SIGNING[keyType] as number }),
  );
  return signed && pair;
}

/** A key pair of `kind` made by the token (see `signingPair`), or undefined when skipped. */
export function tokenKeyPair(
  t: TestContext,
  fx: Fixture,
  kind: KeyKind,
  options: { id?: Uint8Array; label?: string } = {},
): Promise<KeyPair | undefined> {
  if (lacksKind(t, fx, kind)) return Promise.resolve(undefined);
  return signingPair(t, fx.session, kind.keyType, kind.spec, options);
}

/** A node:crypto key pair of `kind`. */
export function nodeKeyPair(kind: KeyKind): crypto.KeyPairKeyObjectResult {
  const [type, options] = kind.node;
  return crypto.generateKeyPairSync(type as 'rsa', options as crypto.RSAKeyPairKeyObjectOptions);
}
