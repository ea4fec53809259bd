/**
 * `p11 csr` and `p11 selfsign`: a PKCS#10 request or a self-signed certificate for a key pair on
 * the token, signed inside the token. `selfsign --store` also puts the certificate on the token
 * next to its key (same CKA_ID).
 *
 * @peculiar/x509 takes a noticeable part of a second to load, so it is loaded only by these two
 * commands, when they run.
 */
import type { Command } from 'commander';
import { ObjectClass } from '../../sys/constants.js';
import type { PrivateKey, PublicKey } from '../../model/keys.js';
import type { Session } from '../../model/session.js';
import { storeCertificate } from '../../interop/certificate.js';
import { action } from '../command.js';
import { UsageError } from '../errors.js';
import { writeOutput } from '../io.js';
import { hexOf } from '../output.js';
import { type Selection, addSelection, findObject, findPublicKey } from '../select.js';

interface X509Options extends Selection {
  readonly subject: string;
  readonly out?: string;
}

interface SelfSignOptions extends X509Options {
  readonly days: string;
  readonly store?: boolean;
}

/** The private and public key objects of the selected key pair. */
async function keyPair(session: Session, selection: Selection): Promise<[PrivateKey, PublicKey]> {
  const privateKey = (await findObject(
    session,
    selection,
    [ObjectClass.PRIVATE_KEY],
    'the key pair',
  )) as PrivateKey;
  const publicKey = await findPublicKey(session, selection, 'the key pair');
  if (publicKey.objectClass !== ObjectClass.PUBLIC_KEY)
    throw new UsageError('the key pair has no public key object on the token');
  return [privateKey, publicKey as PublicKey];
}

/** Writes PEM to `--out` (or prints it) and says what to print. */
async function emitPem(pem: string, out: string | undefined, extra: Record<string, unknown>) {
  if (out !== undefined) await writeOutput(pem, out);
  return {
    json: { ...extra, ...(out === undefined ? { pem } : { out }) },
    text: out === undefined ? pem.trimEnd() : '',
  };
}

/** Registers `csr` and `selfsign`. */
export function registerX509(program: Command): void {
  addSelection(
    program.command('csr').description('make a certificate request (PKCS#10) signed by a token key'),
    'the key pair',
  )
    .requiredOption('--subject <name>', 'subject, e.g. "CN=device 1, O=Example"')
    .option('-o, --out <file>', 'write the PEM to a file')
    .action(
      action<X509Options>(async (ctx, _args, opts) => {
        const session = await ctx.session('user');
        const [privateKey, publicKey] = await keyPair(session, opts);
        const { createCsr } = await import('../../interop/x509.js');
        const csr = await createCsr(privateKey, publicKey, { subject: opts.subject });
        return emitPem(csr.toString('pem'), opts.out, { subject: csr.subject });
      }),
    );

  addSelection(
    program.command('selfsign').description('make a self-signed certificate signed by a token key'),
    'the key pair',
  )
    .requiredOption('--subject <name>', 'subject and issuer, e.g. "CN=My CA"')
    .option('--days <days>', 'validity in days', '365')
    .option('--store', "also store the certificate on the token, with the key pair's id and label")
    .option('-o, --out <file>', 'write the PEM to a file')
    .action(
      action<SelfSignOptions>(async (ctx, _args, opts) => {
        const days = Number(opts.days);
        if (!Number.isSafeInteger(days) || days < 1)
          throw new UsageError('--days must be a whole number of days, at least 1');
        const session = await ctx.session('user', opts.store === true);
        const [privateKey, publicKey] = await keyPair(session, opts);
        const { createSelfSignedCertificate } = await import('../../interop/x509.js');
        const notBefore = new Date();
        const notAfter = new Date(notBefore.getTime() + days * 86_400_000);
        const cert = await createSelfSignedCertificate(privateKey, publicKey, {
          subject: opts.subject,
          notBefore,
          notAfter,
        });
        const stored = opts.store
          ? await storeCertificate(privateKey, cert, { label: privateKey.label })
          : undefined;
        const extra = {
          subject: cert.subject,
          serialNumber: cert.serialNumber,
          notAfter: cert.notAfter.toISOString(),
          ...(stored ? { stored: { id: hexOf(stored.id) } } : {}),
        };
        return emitPem(cert.toString('pem'), opts.out, extra);
      }),
    );
}
