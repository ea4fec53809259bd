/**
 * `p11 mechanisms`: what the token can do, with key sizes and flags (encrypt, sign, derive ...).
 */
import type { Command } from 'commander';
import { Mechanism, MechanismFlag } from '../../sys/constants.js';
import { flagNames, hex, nameOf } from '../../sys/names.js';
import { action } from '../command.js';
import { shortName, table } from '../output.js';

/** Registers `mechanisms`. */
export function registerMechanisms(program: Command): void {
  program
    .command('mechanisms')
    .description("list the token's mechanisms with key sizes and flags")
    .action(
      action(async (ctx) => {
        const { slot } = await ctx.token();
        const json = [];
        for (const mechanism of await slot.getMechanisms()) {
          const info = await slot.getMechanismInfo(mechanism);
          json.push({
            name: nameOf(Mechanism, mechanism),
            value: hex(mechanism),
            minKeySize: info.minKeySize,
            maxKeySize: info.maxKeySize,
            flags: flagNames(MechanismFlag, info.flags),
          });
        }
        const rows = json.map((m) => ({
          name: m.name,
          sizes: m.minKeySize === 0 && m.maxKeySize === 0 ? '-' : `${m.minKeySize}..${m.maxKeySize}`,
          flags: m.flags.map(shortName).join(','),
        }));
        const columns = [
          { key: 'name', title: 'MECHANISM' },
          { key: 'sizes', title: 'KEY SIZES' },
          { key: 'flags', title: 'FLAGS' },
        ];
        return { json, text: table(columns, rows) };
      }),
    );
}
