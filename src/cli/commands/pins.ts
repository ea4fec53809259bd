/**
 * Token administration: `p11 init-token` (re)initialises a token with a label and SO PIN,
 * destroying its objects; `p11 init-pin` sets the user PIN as the SO; `p11 change-pin` changes the
 * user PIN (or with `--so` the SO PIN). PINs come from flags, the environment or the prompt (new
 * ones asked twice) and are never printed. The built-in default token is left alone: its PINs are
 * managed by pkcs11-ts.
 */
import type { Command } from 'commander';
import { UserType } from '../../sys/constants.js';
import type { Token } from '../../model/token.js';
import { action } from '../command.js';
import type { CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { addNewPinOption, addSoPinOption } from '../options.js';
import { confirmDestruction } from '../prompt.js';

interface InitTokenOptions {
  readonly label: string;
  readonly yes?: boolean;
}

interface ChangePinOptions {
  readonly so?: boolean;
}

/** The token to administer; never the built-in default token. */
async function administeredToken(ctx: CliContext, command: string): Promise<Token> {
  const builtIn = await ctx.defaultToken();
  if (builtIn !== undefined) {
    throw new UsageError(
      `${command} works on a token you configure (--module or PKCS11_MODULE); the built-in token's PINs are managed by pkcs11-ts (${builtIn.dir})`,
    );
  }
  return ctx.token();
}

/** Registers `init-token`, `init-pin` and `change-pin`. */
export function registerPins(program: Command): void {
  addSoPinOption(
    program
      .command('init-token')
      .description('initialise a token: new label and SO PIN, all objects destroyed'),
  )
    .requiredOption('--label <label>', 'the new token label (up to 32 bytes)')
    .option('--yes', 'do not ask for confirmation')
    .action(
      action<InitTokenOptions>(async (ctx, _args, opts) => {
        const token = await administeredToken(ctx, 'init-token');
        const current = token.label ? `"${token.label}"` : `in slot ${token.slot.id}`;
        await confirmDestruction(opts.yes, `Initialise the token ${current}, destroying every object on it?`);
        await token.initToken(await ctx.soPin(), opts.label);
        return {
          json: { slot: token.slot.id, label: opts.label },
          text: `initialised the token in slot ${token.slot.id} as "${opts.label}"`,
        };
      }),
    );

  addNewPinOption(
    addSoPinOption(program.command('init-pin').description('set the user PIN, as the Security Officer')),
  ).action(
    action(async (ctx) => {
      const token = await administeredToken(ctx, 'init-pin');
      const soPin = await ctx.soPin();
      await token.initPin(soPin, await ctx.newPin('New user PIN'));
      return { json: { label: token.label, set: 'user' }, text: `set the user PIN of "${token.label}"` };
    }),
  );

  addNewPinOption(
    addSoPinOption(
      program.command('change-pin').description('change the user PIN (or the SO PIN with --so)'),
    ),
  )
    .option(
      '--so',
      'change the Security Officer PIN (the old one from --so-pin, PKCS11_SO_PIN or the prompt)',
    )
    .action(
      action<ChangePinOptions>(async (ctx, _args, opts) => {
        const token = await administeredToken(ctx, 'change-pin');
        const oldPin = opts.so ? await ctx.soPin() : ((await ctx.userPin(true, true)) as string);
        const newPin = await ctx.newPin(opts.so ? 'New SO PIN' : 'New user PIN');
        await token.setPin(oldPin, newPin, { userType: opts.so ? UserType.SO : UserType.USER });
        const who = opts.so ? 'SO' : 'user';
        return {
          json: { label: token.label, changed: who },
          text: `changed the ${who} PIN of "${token.label}"`,
        };
      }),
    );
}
