/**
 * `p11 import FILE`: a key or a certificate onto the token. Keys come as PEM (private keys,
 * encrypted ones too, and public keys), DER (PKCS#8 or SubjectPublicKeyInfo), a JWK, or raw bytes
 * of a secret key with `--type aes|generic`; a private key brings its public key along (same
 * label and id). Certificates come as PEM or DER and are linked to their key pair by CKA_ID.
 */
import {
  type JsonWebKey,
  KeyObject,
  X509Certificate,
  createPrivateKey,
  createPublicKey,
  createSecretKey,
} from 'node:crypto';
import { type Command, Option } from 'commander';
import { KeyType } from '../../sys/constants.js';
import { importCertificate } from '../../interop/certificate.js';
import { ASYMMETRIC_TYPES, importKey } from '../../interop/import.js';
import type { Session } from '../../model/session.js';
import { action } from '../command.js';
import type { CliContext } from '../context.js';
import { describeObject } from '../describe.js';
import { UsageError } from '../errors.js';
import { readInput } from '../io.js';
import { newId, parseId } from '../options.js';
import { hexOf } from '../output.js';
import { parseUsage, usageOptionHelp } from '../usage.js';
import { capabilityTemplate } from '../../model/defaults.js';

interface ImportOptions {
  readonly label?: string;
  readonly id?: string;
  readonly type?: string;
  readonly usage?: string;
  readonly extractable?: boolean;
}

/** What a file holds, as far as `import` can tell. */
type Content =
  | { readonly kind: 'certificate'; readonly cert: Uint8Array | string }
  | {
      readonly kind: 'key';
      /** Whether reading it needs a passphrase. */
      readonly encrypted: boolean;
      /** The key. */
      readonly load: (passphrase?: string) => KeyObject;
    };

const SECRET_TYPES: Readonly<Record<string, number>> = { aes: KeyType.AES, generic: KeyType.GENERIC_SECRET };

/** Tries each reader in turn; the first that does not throw wins. */
function firstThatReads<T>(readers: readonly (() => T)[]): T | undefined {
  for (const read of readers) {
    try {
      return read();
    } catch {
      // not this kind: try the next one
    }
  }
  return undefined;
}

/** A JWK as a KeyObject. */
function loadJwk(jwk: JsonWebKey): KeyObject {
  if (jwk.kty === 'oct') return createSecretKey(Buffer.from(String(jwk.k), 'base64url'));
  return jwk.d === undefined
    ? createPublicKey({ key: jwk, format: 'jwk' })
    : createPrivateKey({ key: jwk, format: 'jwk' });
}

/** Tells what `data` holds: PEM, JWK, DER certificate or key, or raw secret bytes with `--type`. */
function classify(data: Buffer, secret: boolean): Content {
  const text = data.toString('utf8');
  const pemLabel = /-----BEGIN ([A-Z0-9 ]+)-----/.exec(text)?.[1];
  if (pemLabel === 'CERTIFICATE' || pemLabel === 'TRUSTED CERTIFICATE')
    return { kind: 'certificate', cert: text };
  if (pemLabel?.endsWith('KEY')) {
    const load = (passphrase?: string): KeyObject =>
      pemLabel.includes('PRIVATE')
        ? createPrivateKey({ key: text, format: 'pem', passphrase })
        : createPublicKey(text);
    const encrypted = pemLabel.startsWith('ENCRYPTED') || text.includes('Proc-Type: 4,ENCRYPTED');
    return { kind: 'key', encrypted, load };
  }
  const jwk = text.trimStart().startsWith('{')
    ? firstThatReads([() => JSON.parse(text) as JsonWebKey])
    : undefined;
  if (typeof jwk?.kty === 'string') return { kind: 'key', encrypted: false, load: () => loadJwk(jwk) };
  if (secret) return { kind: 'key', encrypted: false, load: () => createSecretKey(data) };
  if (firstThatReads([() => new X509Certificate(data)]))
    return { kind: 'certificate', cert: new Uint8Array(data) };
  const key = firstThatReads<KeyObject>([
    () => createPrivateKey({ key: data, format: 'der', type: 'pkcs8' }),
    () => createPublicKey({ key: data, format: 'der', type: 'spki' }),
  ]);
  if (key !== undefined) return { kind: 'key', encrypted: false, load: () => key };
  throw new UsageError(
    'cannot tell what the file holds: give PEM, DER, a JWK, or raw secret key bytes with --type aes|generic',
  );
}

/** Imports a key (and the public half of a private key) and describes what was made. */
async function importKeyFile(
  ctx: CliContext,
  session: Session,
  content: Content & { kind: 'key' },
  opts: ImportOptions,
) {
  const passphraseSources = {
    option: 'passphrase',
    flag: '--passphrase',
    env: 'PKCS11_KEY_PASSPHRASE',
    what: 'Passphrase of the key file',
    interactive: true,
  };
  const passphrase = content.encrypted ? await ctx.secret(passphraseSources, true) : undefined;
  let input: KeyObject;
  try {
    input = content.load(passphrase);
  } catch (cause) {
    throw new UsageError(
      `the key file cannot be read${content.encrypted ? ' (wrong passphrase?)' : ''}: ${(cause as Error).message}`,
    );
  }
  const secret = input.type === 'secret';
  if (secret && opts.type === undefined)
    throw new UsageError('a secret key needs --type aes or --type generic');
  const keyType = secret ? SECRET_TYPES[opts.type!] : ASYMMETRIC_TYPES[input.asymmetricKeyType ?? ''];
  const usage = parseUsage(opts.usage, keyType ?? -1);
  const id = newId(opts.id);
  const common = { store: true, label: opts.label, id, capabilities: usage };
  const made = [
    await importKey(session, input, {
      ...common,
      keyType: secret ? keyType : undefined,
      extractable: opts.extractable,
      template: capabilityTemplate(usage, input.type, { exact: true }),
    }),
  ];
  if (input.type === 'private') {
    made.push(
      await importKey(session, createPublicKey(input), {
        ...common,
        template: capabilityTemplate(usage, 'public', { exact: true }),
      }),
    );
  }
  return { id: hexOf(id), objects: await Promise.all(made.map(describeObject)) };
}

/** Registers `import`. */
export function registerImport(program: Command): void {
  program
    .command('import <file>')
    .description('import a key (PEM, DER, JWK, raw secret bytes) or a certificate (PEM, DER) onto the token')
    .option('-l, --label <label>', 'label of the new objects')
    .option('-i, --id <hex>', "CKA_ID (keys default to 8 random bytes; certificates to their key pair's id)")
    .option('--type <type>', 'the file holds raw secret key bytes: aes or generic')
    .option(...usageOptionHelp())
    .option('--extractable', 'allow the private or secret key to leave the token wrapped')
    .addOption(
      new Option('--passphrase <text>', 'passphrase of an encrypted PEM key (prefer the prompt)').env(
        'PKCS11_KEY_PASSPHRASE',
      ),
    )
    .action(
      action<ImportOptions>(async (ctx, [file], opts) => {
        if (opts.type !== undefined && SECRET_TYPES[opts.type] === undefined)
          throw new UsageError('--type must be aes or generic');
        const content = classify(await readInput(file, 'FILE'), opts.type !== undefined);
        const session = await ctx.session('user', true);
        if (content.kind === 'certificate') {
          const idOption = opts.id === undefined ? undefined : parseId(opts.id);
          const imported = await importCertificate(session, content.cert, {
            label: opts.label,
            id: idOption,
          });
          const json = {
            id: hexOf(imported.id),
            idSource: imported.idSource,
            objects: [await describeObject(imported.certificate)],
          };
          return { json, text: `imported the certificate, id ${json.id} (${json.idSource})` };
        }
        const json = await importKeyFile(ctx, session, content, opts);
        return {
          json,
          text: `imported ${json.objects.length === 2 ? 'the key pair' : 'the key'}, id ${json.id}`,
        };
      }),
    );
}
