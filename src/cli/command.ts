/**
 * The glue between commander and a command's code: each command is a function of the run's
 * context returning what to print; the context is closed whatever happens.
 */
import type { Command } from 'commander';
import { CliContext } from './context.js';
import type { Output } from './output.js';

/** A command's code. `options` are the command's own options (global ones are on `ctx.options`). */
export type Handler<O> = (
  ctx: CliContext,
  args: readonly string[],
  options: O,
) => Promise<Output | undefined>;

/**
 * A commander action running `handler` in a fresh context and printing its result.
 *
 * @example
 * program.command('random <bytes>').action(action(async (ctx, [bytes]) => ({ json: ... })));
 */
export function action<O>(handler: Handler<O>): (...args: unknown[]) => Promise<void> {
  return async (...args: unknown[]) => {
    const command = args[args.length - 1] as Command;
    const ctx = new CliContext(command);
    try {
      const output = await handler(ctx, command.args, command.opts<O & Record<string, unknown>>());
      if (output !== undefined) ctx.print(output);
    } finally {
      await ctx.close();
    }
  };
}
