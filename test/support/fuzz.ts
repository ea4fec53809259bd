/**
 * What the fuzz tests share: how many cases they run (PKCS11_TS_FUZZ_CASES, spread over the
 * properties of a file; `npm run fuzz:long` asks for 100,000), the seed that replays a failed run
 * (PKCS11_TS_FUZZ_SEED), and values of every JavaScript kind for arguments that must be refused.
 *
 * @example
 * const runs = fuzzRuns(3000);
 * await fc.assert(fc.asyncProperty(anyValue, check), runs(0.5));
 */
import fc from 'fast-check';

/**
 * The fast-check parameters of a file's properties: `runs(share)` gives a property `share` of the
 * cases (PKCS11_TS_FUZZ_CASES, else `defaultCases`), with the replay seed when one is set.
 * `endOnFailure` keeps the first counterexample rather than a shrunk one (for a token with state).
 */
export function fuzzRuns(
  defaultCases: number,
  options: { readonly endOnFailure?: boolean } = {},
): (share: number) => fc.Parameters<unknown> {
  const total = Number(process.env.PKCS11_TS_FUZZ_CASES ?? defaultCases);
  const seed = process.env.PKCS11_TS_FUZZ_SEED;
  return (share) => ({
    numRuns: Math.max(1, Math.round(total * share)),
    ...(options.endOnFailure ? { endOnFailure: true } : {}),
    ...(seed === undefined ? {} : { seed: Number(seed) }),
  });
}

/** Any JavaScript value fast-check can make: bigints, dates, maps, sets, typed and sparse arrays, null prototypes. */
export const anyValue: fc.Arbitrary<unknown> = fc.anything({
  withBigInt: true,
  withDate: true,
  withMap: true,
  withSet: true,
  withTypedArray: true,
  withNullPrototype: true,
  withSparseArray: true,
});
