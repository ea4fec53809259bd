/**
 * The openssl command, for test material made by a second implementation: self-signed X.509
 * certificates with a fresh key (P-256 or Ed25519), in DER or written to files.
 *
 * @example
 * const der = selfSignedCertificate('/CN=test');
 * openssl(selfSignedArgs('ed25519', '/CN=ed', { keyOut: 'ed.key', out: 'ed.pem', days: 5 }), { cwd: dir });
 */
import { execFileSync } from 'node:child_process';

/**
 * Runs openssl with `args` (in `cwd`, with `input` on its standard input, when given) and returns
 * its standard output; throws when it fails.
 */
export function openssl(
  args: readonly string[],
  options: { readonly cwd?: string; readonly input?: string } = {},
): Buffer {
  return execFileSync('openssl', args, {
    cwd: options.cwd,
    ...(options.input === undefined ? { stdio: ['ignore', 'pipe', 'ignore'] } : { input: options.input }),
  });
}

/**
 * The arguments of `openssl req -x509` for a self-signed certificate on a new key: `'ec'` makes a
 * P-256 key, `'ed25519'` an Ed25519 one. The key goes to `keyOut` (default: nowhere), the
 * certificate to `out` as PEM (default: standard output, as DER); valid for `days` (default 1).
 */
export function selfSignedArgs(
  newKey: 'ec' | 'ed25519',
  subject: string,
  options: { readonly keyOut?: string; readonly out?: string; readonly days?: number } = {},
): string[] {
  return [
    'req',
    '-x509',
    '-newkey',
    newKey,
    ...(newKey === 'ec' ? ['-pkeyopt', 'ec_paramgen_curve:P-256'] : []),
    '-nodes',
    '-keyout',
    options.keyOut ?? '/dev/null',
    ...(options.out === undefined ? ['-outform', 'DER'] : ['-out', options.out]),
    '-subj',
    subject,
    '-days',
    String(options.days ?? 1),
  ];
}

/** A fresh self-signed P-256 certificate (DER) with this subject, e.g. `/CN=test`. */
export function selfSignedCertificate(subject: string): Uint8Array {
  return new Uint8Array(openssl(selfSignedArgs('ec', subject)));
}
