/**
 * `p11 tokens`: the tokens present, with label, serial, model, flags, PIN lengths and memory.
 */
import type { Command } from 'commander';
import { TokenFlag } from '../../sys/constants.js';
import { flagNames } from '../../sys/names.js';
import { action } from '../command.js';
import { shortName, table } from '../output.js';
import { versionText } from './info.js';

/** Registers `tokens`. */
export function registerTokens(program: Command): void {
  program
    .command('tokens')
    .description('list the tokens present')
    .action(
      action(async (ctx) => {
        const lib = await ctx.library();
        const json = (await lib.getTokens()).map(({ slot, info }) => ({
          slot: slot.id,
          label: info.label,
          manufacturer: info.manufacturerId,
          model: info.model,
          serial: info.serialNumber,
          flags: flagNames(TokenFlag, info.flags),
          sessions: { open: info.sessionCount ?? null, max: info.maxSessionCount ?? null },
          rwSessions: { open: info.rwSessionCount ?? null, max: info.maxRwSessionCount ?? null },
          pinLength: { min: info.minPinLength ?? null, max: info.maxPinLength ?? null },
          publicMemory: { free: info.freePublicMemory ?? null, total: info.totalPublicMemory ?? null },
          privateMemory: { free: info.freePrivateMemory ?? null, total: info.totalPrivateMemory ?? null },
          hardwareVersion: versionText(info.hardwareVersion),
          firmwareVersion: versionText(info.firmwareVersion),
        }));
        const rows = json.map((t) => ({
          slot: String(t.slot),
          label: t.label,
          serial: t.serial,
          model: t.model,
          manufacturer: t.manufacturer,
          flags: t.flags.map(shortName).join(','),
        }));
        const columns = [
          { key: 'slot', title: 'SLOT' },
          { key: 'label', title: 'LABEL' },
          { key: 'serial', title: 'SERIAL' },
          { key: 'model', title: 'MODEL' },
          { key: 'manufacturer', title: 'MANUFACTURER' },
          { key: 'flags', title: 'FLAGS' },
        ];
        return { json, text: table(columns, rows) };
      }),
    );
}
