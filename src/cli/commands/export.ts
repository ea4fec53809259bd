/**
 * `p11 export`: a public key as PEM (SubjectPublicKeyInfo), DER, JWK or an OpenSSH line, or with
 * `--cert` a certificate as PEM or DER. Only public material ever leaves the token here.
 */
import { X509Certificate } from 'node:crypto';
import type { Command } from 'commander';
import { Attribute, ObjectClass } from '../../sys/constants.js';
import type { Session } from '../../model/session.js';
import { exportPublicKey } from '../../interop/public-key.js';
import { action } from '../command.js';
import { UsageError } from '../errors.js';
import { defaultEncoding, encodeBytes, writeOutput } from '../io.js';
import { hexOf } from '../output.js';
import { type Selection, addSelection, findObject, findPublicKey } from '../select.js';

interface ExportOptions extends Selection {
  readonly format: string;
  readonly cert?: boolean;
  readonly out?: string;
  readonly comment?: string;
}

/** What was exported: the data to write (text ends with a newline), its JSON form, whose it is. */
interface Exported {
  readonly data: string | Uint8Array;
  readonly json: unknown;
  readonly label: string;
  readonly id: string;
}

const KEY_FORMATS = ['pem', 'der', 'jwk', 'openssh'];
const CERT_FORMATS = ['pem', 'der'];

async function exportCertificate(session: Session, opts: ExportOptions): Promise<Exported> {
  const cert = await findObject(session, opts, [ObjectClass.CERTIFICATE], 'the certificate');
  const value = await cert.get(Attribute.VALUE);
  if (!(value instanceof Uint8Array)) throw new TypeError('the token does not reveal the certificate value');
  const meta = { label: cert.label, id: hexOf(cert.id) };
  if (opts.format === 'der') return { data: value, json: hexOf(value), ...meta };
  const pem = new X509Certificate(value).toString();
  return { data: pem, json: pem, ...meta };
}

async function exportKey(session: Session, opts: ExportOptions): Promise<Exported> {
  const key = await findPublicKey(session, opts, 'the key');
  const meta = { label: key.label, id: hexOf(key.id) };
  switch (opts.format) {
    case 'der': {
      const der = await exportPublicKey(key, 'spki-der');
      return { data: der, json: hexOf(der), ...meta };
    }
    case 'jwk': {
      const jwk = await exportPublicKey(key, 'jwk');
      return { data: `${JSON.stringify(jwk, null, 2)}\n`, json: jwk, ...meta };
    }
    case 'openssh': {
      const line = await exportPublicKey(key, 'openssh', { comment: opts.comment ?? key.label });
      return { data: `${line}\n`, json: line, ...meta };
    }
    default: {
      const pem = await exportPublicKey(key, 'pem');
      return { data: pem, json: pem, ...meta };
    }
  }
}

/** Registers `export`. */
export function registerExport(program: Command): void {
  addSelection(
    program
      .command('export')
      .description('export a public key (PEM, DER, JWK, OpenSSH) or, with --cert, a certificate (PEM, DER)'),
  )
    .option('-f, --format <format>', `${KEY_FORMATS.join(', ')} (certificates: pem, der)`, 'pem')
    .option('--cert', 'export the certificate with this label or id instead')
    .option('-o, --out <file>', 'write to a file instead of standard output')
    .option('--comment <text>', 'comment of the OpenSSH line (default: the key label)')
    .action(
      action<ExportOptions>(async (ctx, _args, opts) => {
        const formats = opts.cert ? CERT_FORMATS : KEY_FORMATS;
        if (!formats.includes(opts.format))
          throw new UsageError(`--format must be one of ${formats.join(', ')}`);
        const session = await ctx.session('if-known');
        const exported = opts.cert ? await exportCertificate(session, opts) : await exportKey(session, opts);
        const meta = { format: opts.format, label: exported.label, id: exported.id };
        if (opts.out !== undefined) {
          await writeOutput(exported.data, opts.out);
          return { json: { ...meta, out: opts.out }, text: '' };
        }
        if (ctx.json) return { json: { ...meta, [opts.format]: exported.json } };
        const { data } = exported;
        await writeOutput(
          typeof data === 'string' ? data : encodeBytes(data, defaultEncoding(undefined)),
          undefined,
        );
        return undefined;
      }),
    );
}
