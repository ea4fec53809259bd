/**
 * `p11 keygen SPEC`: a key pair (rsa:BITS, ec:CURVE, ed25519, ed448) or secret key (aes:BITS,
 * generic:BITS) generated inside the token and stored there, with a label and a CKA_ID (8 random
 * bytes unless given). Private and secret keys are sensitive and not extractable unless asked.
 */
import type { Command } from 'commander';
import { Attribute } from '../../sys/constants.js';
import type { Key } from '../../model/keys.js';
import type { NewKeyOptions } from '../../model/templates.js';
import { exportPublicKey } from '../../interop/public-key.js';
import { action } from '../command.js';
import { OBJECT_COLUMNS, describeObject, objectRow } from '../describe.js';
import { parseKeySpec } from '../key-spec.js';
import { newId } from '../options.js';
import { hexOf, table } from '../output.js';
import { parseUsage, usageOptionHelp } from '../usage.js';
import { capabilityTemplate } from '../../model/defaults.js';

interface KeygenOptions {
  readonly label?: string;
  readonly id?: string;
  readonly usage?: string;
  readonly extractable?: boolean;
}

/** Registers `keygen`. */
export function registerKeygen(program: Command): void {
  program
    .command('keygen <spec>')
    .description('generate a key on the token: rsa:BITS, ec:CURVE, ed25519, ed448, aes:BITS, generic:BITS')
    .option('-l, --label <label>', 'label of the new key')
    .option('-i, --id <hex>', 'CKA_ID of the new key (default: 8 random bytes)')
    .option(...usageOptionHelp())
    .option('--extractable', 'allow the private or secret key to leave the token wrapped (CKA_EXTRACTABLE)')
    .action(
      action<KeygenOptions>(async (ctx, [specText], opts) => {
        const spec = parseKeySpec(specText as string);
        const id = newId(opts.id);
        const session = await ctx.session('user', true);
        const usage = parseUsage(opts.usage, spec.keyType);
        const extractable = opts.extractable ? { [Attribute.EXTRACTABLE]: true } : {};
        const options: NewKeyOptions = { store: true, label: opts.label, id, capabilities: usage };
        let keys: Key[];
        let publicKey: string | undefined;
        if (spec.kind === 'pair') {
          const pair = await session.generateKeypair(spec.keyType, spec.domain, {
            ...options,
            publicTemplate: capabilityTemplate(usage, 'public', { exact: true }),
            privateTemplate: { ...capabilityTemplate(usage, 'private', { exact: true }), ...extractable },
          });
          keys = [pair.publicKey, pair.privateKey];
          publicKey = await exportPublicKey(pair.publicKey, 'pem');
        } else {
          const template = { ...capabilityTemplate(usage, 'secret', { exact: true }), ...extractable };
          keys = [(await session.generateKey(spec.keyType, spec.bits, { ...options, template })) as Key];
        }
        const objects = await Promise.all(keys.map(describeObject));
        const json = {
          spec: spec.text,
          label: opts.label ?? '',
          id: hexOf(id),
          objects,
          ...(publicKey ? { publicKey } : {}),
        };
        const text = [
          `generated ${spec.text}, id ${json.id}`,
          table(OBJECT_COLUMNS, objects.map(objectRow)),
          publicKey?.trimEnd(),
        ]
          .filter((part) => part !== undefined)
          .join('\n');
        return { json, text };
      }),
    );
}
