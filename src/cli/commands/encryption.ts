/**
 * `p11 encrypt` and `p11 decrypt`: one buffer with a token key, by the key type's default
 * mechanism (RSA-OAEP; AES-CBC with PKCS#7 padding, the random IV written before the ciphertext)
 * or `--mechanism`. Public-key encryption runs on the host when the token cannot do it. For files
 * of any size use `encrypt-file` / `decrypt-file`.
 */
import type { Command } from 'commander';
import { Mechanism, ObjectClass } from '../../sys/constants.js';
import type { OperationOptions } from '../../model/plan.js';
import type { PrivateKey, PublicKey, SecretKey } from '../../model/keys.js';
import { hashInfo } from '../../interop/hashes.js';
import { action } from '../command.js';
import { UsageError } from '../errors.js';
import { emitBytes, readInput } from '../io.js';
import { parseConstant } from '../names.js';
import { type Selection, addSelection, findObject } from '../select.js';

interface CryptOptions extends Selection {
  readonly in?: string;
  readonly out?: string;
  readonly mechanism?: string;
  readonly hash?: string;
  readonly encoding?: string;
}

/** The operation options of `--mechanism` and `--hash` (the OAEP hash). */
function operationOptions(opts: CryptOptions): OperationOptions {
  const mechanism =
    opts.mechanism === undefined ? undefined : parseConstant(Mechanism, opts.mechanism, '--mechanism');
  if (opts.hash === undefined) return { mechanism };
  if (mechanism !== undefined && mechanism !== Mechanism.RSA_PKCS_OAEP)
    throw new UsageError('--hash applies to RSA_PKCS_OAEP only');
  let hashAlg: number;
  try {
    hashAlg = hashInfo(opts.hash, '--hash').mechanism;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  return { mechanism: Mechanism.RSA_PKCS_OAEP, mechanismParam: { hashAlg } };
}

/** One of the two commands: which keys it takes, and what it does with one. */
interface Direction {
  readonly name: 'encrypt' | 'decrypt';
  readonly description: string;
  readonly classes: readonly number[];
  readonly run: (
    key: PublicKey | PrivateKey | SecretKey,
    data: Uint8Array,
    options: OperationOptions,
  ) => Promise<Uint8Array>;
  /** The JSON field of the result. */
  readonly field: string;
  /** File mode of the output: plaintext is private. */
  readonly mode: number;
}

const DIRECTIONS: readonly Direction[] = [
  {
    name: 'encrypt',
    description: 'encrypt data with a public or secret key (default: RSA-OAEP, AES-CBC-PAD)',
    classes: [ObjectClass.PUBLIC_KEY, ObjectClass.SECRET_KEY],
    run: (key, data, options) => (key as PublicKey | SecretKey).encrypt(data, options),
    field: 'ciphertext',
    mode: 0o644,
  },
  {
    name: 'decrypt',
    description: 'decrypt data with a private or secret key in the token',
    classes: [ObjectClass.PRIVATE_KEY, ObjectClass.SECRET_KEY],
    run: (key, data, options) => (key as PrivateKey | SecretKey).decrypt(data, options),
    field: 'plaintext',
    mode: 0o600,
  },
];

/** Registers `encrypt` and `decrypt`. */
export function registerEncryption(program: Command): void {
  for (const direction of DIRECTIONS) {
    addSelection(program.command(direction.name).description(direction.description))
      .option('--in <file>', 'the input (default: standard input)')
      .option('-o, --out <file>', 'the output (default: standard output)')
      .option('-m, --mechanism <name>', 'mechanism, e.g. RSA_PKCS_OAEP, RSA_PKCS, AES_CBC_PAD, AES_GCM')
      .option('--hash <name>', 'RSA-OAEP hash (default sha1, the one SoftHSM2 does)')
      .option(
        '--encoding <encoding>',
        'output encoding: raw, hex or base64 (default: hex on a terminal, else raw)',
      )
      .action(
        action<CryptOptions>(async (ctx, _args, opts) => {
          const options = operationOptions(opts);
          const data = await readInput(opts.in, '--in');
          const session = await ctx.session('user');
          const key = await findObject(session, opts, direction.classes, `the key to ${direction.name} with`);
          const result = await direction.run(key as PublicKey | PrivateKey | SecretKey, data, options);
          return emitBytes(ctx.json, result, { ...opts, field: direction.field, mode: direction.mode });
        }),
      );
  }
}
