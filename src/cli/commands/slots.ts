/**
 * `p11 slots`: every slot of the module, with or without a token, and what is in it.
 */
import type { Command } from 'commander';
import { SlotFlag, TokenFlag } from '../../sys/constants.js';
import { flagNames } from '../../sys/names.js';
import { action } from '../command.js';
import { shortName, table } from '../output.js';
import { versionText } from './info.js';

/** Registers `slots`. */
export function registerSlots(program: Command): void {
  program
    .command('slots')
    .description('list the slots of the module, with or without a token')
    .action(
      action(async (ctx) => {
        const lib = await ctx.library();
        const json = [];
        for (const slot of await lib.getSlots({ tokenPresent: false })) {
          const info = await slot.getInfo();
          const present = (info.flags & SlotFlag.TOKEN_PRESENT) !== 0;
          const token = present ? await slot.getTokenInfo() : undefined;
          json.push({
            id: slot.id,
            description: info.slotDescription,
            manufacturer: info.manufacturerId,
            flags: flagNames(SlotFlag, info.flags),
            hardwareVersion: versionText(info.hardwareVersion),
            firmwareVersion: versionText(info.firmwareVersion),
            token: token
              ? {
                  label: token.label,
                  serial: token.serialNumber,
                  initialized: (token.flags & TokenFlag.TOKEN_INITIALIZED) !== 0,
                }
              : null,
          });
        }
        const rows = json.map((slot) => ({
          id: String(slot.id),
          description: slot.description,
          flags: slot.flags.map(shortName).join(','),
          token: slot.token === null ? '-' : slot.token.initialized ? slot.token.label : '(not initialised)',
        }));
        const columns = [
          { key: 'id', title: 'SLOT' },
          { key: 'token', title: 'TOKEN' },
          { key: 'flags', title: 'FLAGS' },
          { key: 'description', title: 'DESCRIPTION' },
        ];
        return { json, text: table(columns, rows) };
      }),
    );
}
