/**
 * `p11 objects`: the objects on the token (private ones too when a PIN is known), as a table or
 * JSON, optionally narrowed by class, label and id.
 */
import type { Command } from 'commander';
import { Attribute } from '../../sys/constants.js';
import type { Template } from '../../core/template.js';
import { action } from '../command.js';
import { OBJECT_COLUMNS, describeObject, objectRow, parseObjectClass } from '../describe.js';
import { parseId } from '../options.js';
import { table } from '../output.js';

interface ObjectsOptions {
  readonly class?: string;
  readonly label?: string;
  readonly id?: string;
  readonly login?: boolean;
}

/** Registers `objects`. */
export function registerObjects(program: Command): void {
  program
    .command('objects')
    .description('list the objects on the token (private ones when logged in)')
    .option('--class <class>', 'only this class: private, public, secret, cert, data (or a CKO_ name)')
    .option('-l, --label <label>', 'only objects with this label')
    .option('-i, --id <hex>', 'only objects with this CKA_ID')
    .option('--login', 'ask for the PIN if it is not known, to see private objects')
    .action(
      action<ObjectsOptions>(async (ctx, _args, opts) => {
        const session = await ctx.session(opts.login ? 'user' : 'if-known');
        const template: Template = {
          [Attribute.CLASS]: opts.class === undefined ? undefined : parseObjectClass(opts.class),
          [Attribute.LABEL]: opts.label,
          [Attribute.ID]: opts.id === undefined ? undefined : parseId(opts.id),
        };
        const json = [];
        for await (const object of session.getObjects(template)) json.push(await describeObject(object));
        return { json, text: table(OBJECT_COLUMNS, json.map(objectRow)) };
      }),
    );
}
