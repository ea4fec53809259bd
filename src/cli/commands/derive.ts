/**
 * `p11 derive`: ECDH between a token EC private key and a peer's public key (PEM or DER, a
 * SubjectPublicKeyInfo or a certificate). The shared secret becomes a key stored on the token
 * (`--key-type generic:BITS|aes:BITS`, label and id of its own), or with `--out` is read out of a
 * temporary session key, written, and the key destroyed.
 */
import type { Command } from 'commander';
import { Attribute, KDF, KeyType, Mechanism, ObjectClass } from '../../sys/constants.js';
import { curveInfo } from '../../util/curves.js';
import { decodeX509PublicKey } from '../../util/x509.js';
import type { PrivateKey } from '../../model/keys.js';
import type { NewKeyOptions } from '../../model/templates.js';
import { action } from '../command.js';
import { describeObject } from '../describe.js';
import { UsageError } from '../errors.js';
import { emitBytes, readInput } from '../io.js';
import { parseKeySpec } from '../key-spec.js';
import { parseConstant } from '../names.js';
import { newId } from '../options.js';
import { type Selection, addSelection, findObject } from '../select.js';

interface DeriveOptions extends Selection {
  readonly peer: string;
  readonly kdf: string;
  readonly cofactor?: boolean;
  readonly keyType?: string;
  readonly newLabel?: string;
  readonly newId?: string;
  readonly out?: string;
  readonly encoding?: string;
}

/** The peer's public point, raw (the model re-encodes it for tokens that want DER). */
function peerPoint(file: Buffer): Uint8Array {
  const text = file.toString('latin1');
  const input = text.includes('-----BEGIN') ? text : new Uint8Array(file);
  try {
    const point = decodeX509PublicKey(input, { encodeEcPoint: false })[Attribute.EC_POINT];
    if (point instanceof Uint8Array) return point;
  } catch (cause) {
    throw new UsageError(`--peer: not a public key or certificate: ${(cause as Error).message}`);
  }
  throw new UsageError('--peer: not an EC public key');
}

/** A `--kdf` value: `null`, `sha256` (for CKD_SHA256_KDF), or a CKD_ name. */
function parseKdf(text: string): number {
  const name = text.toLowerCase();
  if (/^sha[0-9_-]+$/.test(name)) return parseConstant(KDF, `${name.replace('-', '')}_kdf`, '--kdf');
  return parseConstant(KDF, text, '--kdf');
}

/** Registers `derive`. */
export function registerDerive(program: Command): void {
  addSelection(
    program.command('derive').description('ECDH with a token EC private key and a peer public key'),
    'the EC private key',
  )
    .requiredOption('--peer <file>', "the peer's public key or certificate (PEM or DER)")
    .option(
      '--kdf <kdf>',
      'KDF the token applies: null, sha1, sha256, sha384, sha512 (or a CKD_ name)',
      'null',
    )
    .option('--cofactor', 'use CKM_ECDH1_COFACTOR_DERIVE')
    .option(
      '--key-type <spec>',
      'the derived key: generic:BITS or aes:BITS (default: generic, the curve size)',
    )
    .option('--new-label <label>', 'label of the derived key')
    .option('--new-id <hex>', 'CKA_ID of the derived key (default: 8 random bytes)')
    .option('-o, --out <file>', 'write the shared secret (- for standard output) instead of keeping a key')
    .option('--encoding <encoding>', 'encoding of --out: raw, hex or base64')
    .action(
      action<DeriveOptions>(async (ctx, _args, opts) => {
        const point = peerPoint(await readInput(opts.peer, '--peer'));
        const kdf = parseKdf(opts.kdf);
        const session = await ctx.session('user', true);
        const key = (await findObject(
          session,
          opts,
          [ObjectClass.PRIVATE_KEY],
          'the EC private key',
        )) as PrivateKey;
        if (key.keyType !== KeyType.EC && key.keyType !== KeyType.EC_MONTGOMERY)
          throw new UsageError('derive needs an EC private key');
        const params = key.summary.get(Attribute.EC_PARAMS);
        const fieldBits = params instanceof Uint8Array ? curveInfo(params).fieldSize * 8 : 256;
        const spec = parseKeySpec(opts.keyType ?? `generic:${fieldBits}`);
        if (spec.kind !== 'secret') throw new UsageError('--key-type must be generic:BITS or aes:BITS');
        const keep = opts.out === undefined;
        const options: NewKeyOptions = keep
          ? { store: true, label: opts.newLabel, id: newId(opts.newId) }
          : {
              capabilities: [],
              template: {
                [Attribute.TOKEN]: false,
                [Attribute.SENSITIVE]: false,
                [Attribute.EXTRACTABLE]: true,
              },
            };
        const derived = await key.deriveKey(spec.keyType, spec.bits, {
          mechanism: opts.cofactor ? Mechanism.ECDH1_COFACTOR_DERIVE : Mechanism.ECDH1_DERIVE,
          mechanismParam: { kdf, publicData: point },
          ...options,
        });
        if (keep) {
          const json = await describeObject(derived);
          return { json, text: `derived ${spec.text}, id ${json.id}` };
        }
        try {
          const secret = await derived.get(Attribute.VALUE);
          if (!(secret instanceof Uint8Array))
            throw new Error('the token does not reveal the derived secret');
          return await emitBytes(ctx.json, secret, {
            out: opts.out,
            encoding: opts.encoding,
            field: 'secret',
            mode: 0o600,
          });
        } finally {
          await derived.destroy();
        }
      }),
    );
}
