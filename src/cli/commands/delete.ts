/**
 * `p11 delete`: destroys the objects matching `--label` / `--id` (and `--class`), after a
 * confirmation on a terminal or with `--yes`. A key pair and its certificate share an id, so
 * `--id` alone removes all three.
 */
import type { Command } from 'commander';
import { Attribute } from '../../sys/constants.js';
import { NoSuchKeyError } from '../../core/errors.js';
import { action } from '../command.js';
import { OBJECT_COLUMNS, describeObject, objectRow, parseObjectClass } from '../describe.js';
import { table } from '../output.js';
import { type Selection, addSelection, describeSelection, selectionTemplate } from '../select.js';
import { confirmDestruction } from '../prompt.js';

interface DeleteOptions extends Selection {
  readonly class?: string;
  readonly yes?: boolean;
}

/** Registers `delete`. */
export function registerDelete(program: Command): void {
  addSelection(program.command('delete').description('destroy the objects with a label or id'), 'the objects')
    .option('--class <class>', 'only this class: private, public, secret, cert, data')
    .option('--yes', 'do not ask for confirmation')
    .action(
      action<DeleteOptions>(async (ctx, _args, opts) => {
        const template = {
          ...selectionTemplate(opts, 'the objects to delete'),
          [Attribute.CLASS]: opts.class === undefined ? undefined : parseObjectClass(opts.class),
        };
        const session = await ctx.session('user', true);
        const objects = [];
        for await (const object of session.getObjects(template)) objects.push(object);
        if (objects.length === 0) throw new NoSuchKeyError(`no object with ${describeSelection(opts)}`);
        const shown = await Promise.all(objects.map(describeObject));
        if (!opts.yes && !ctx.json) ctx.notice(table(OBJECT_COLUMNS, shown.map(objectRow)));
        await confirmDestruction(
          opts.yes,
          `Delete ${objects.length === 1 ? 'this object' : `these ${objects.length} objects`}?`,
        );
        for (const object of objects) await object.destroy();
        return {
          json: { deleted: shown },
          text: `deleted ${objects.length} object${objects.length === 1 ? '' : 's'}`,
        };
      }),
    );
}
