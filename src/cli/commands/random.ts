/**
 * `p11 random BYTES`: random bytes from the token's generator (`C_GenerateRandom`).
 */
import type { Command } from 'commander';
import { action } from '../command.js';
import { UsageError } from '../errors.js';
import { emitBytes } from '../io.js';

interface RandomOptions {
  readonly out?: string;
  readonly encoding?: string;
}

/** Registers `random`. */
export function registerRandom(program: Command): void {
  program
    .command('random <bytes>')
    .description("random bytes from the token's generator")
    .option('-o, --out <file>', 'write to a file (default: standard output)')
    .option('--encoding <encoding>', 'raw, hex or base64 (default: hex on a terminal, else raw)')
    .action(
      action<RandomOptions>(async (ctx, [count], opts) => {
        const length = Number(count);
        if (!Number.isSafeInteger(length) || length < 1 || length > 1024 * 1024) {
          throw new UsageError('BYTES must be a whole number from 1 to 1048576');
        }
        const session = await ctx.session('none');
        return emitBytes(ctx.json, await session.generateRandom(length), { ...opts, field: 'random' });
      }),
    );
}
