/**
 * The PINs (and passphrases) this run of `p11` has seen, so that no message it prints can carry
 * one: errors and warnings pass through {@link redact} before they reach the terminal. This is the
 * last line of defence; no code path is meant to put a secret in a message in the first place.
 */

const known = new Set<string>();

/** Remembers a secret value (ignored when empty). */
export function rememberSecret(value: string | undefined): void {
  if (value) known.add(value);
}

/**
 * `text` with every remembered secret replaced by `<redacted>`.
 *
 * @example
 * rememberSecret('648219');
 * redact('unknown option --pni=648219'); // 'unknown option --pni=<redacted>'
 */
export function redact(text: string): string {
  let out = text;
  // Longest first, so a secret containing another is replaced whole.
  for (const secret of [...known].sort((a, b) => b.length - a.length))
    out = out.split(secret).join('<redacted>');
  return out;
}
