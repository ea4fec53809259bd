/**
 * `p11 info`: the module (path, Cryptoki version, manufacturer, library version) and, when no
 * module is configured, where the built-in SoftHSM2 token lives.
 */
import type { Command } from 'commander';
import type { Version } from '../../core/info.js';
import { action } from '../command.js';
import { fields } from '../output.js';

/** A CK_VERSION as `major.minor`. */
export function versionText(version: Version): string {
  return `${version.major}.${version.minor}`;
}

/** Registers `info`. */
export function registerInfo(program: Command): void {
  program
    .command('info')
    .description('show the module: Cryptoki version, manufacturer, library version')
    .action(
      action(async (ctx) => {
        const lib = await ctx.library();
        const info = await lib.getInfo();
        const builtIn = await ctx.defaultToken();
        const json = {
          module: lib.path,
          cryptokiVersion: versionText(info.cryptokiVersion),
          functionListVersion: versionText(lib.apiVersion),
          manufacturer: info.manufacturerId,
          description: info.libraryDescription,
          libraryVersion: versionText(info.libraryVersion),
          defaultToken: builtIn ? { label: builtIn.tokenLabel, directory: builtIn.dir } : null,
        };
        const text = fields([
          ['module', json.module],
          ['cryptoki', `${json.cryptokiVersion} (function list ${json.functionListVersion})`],
          ['manufacturer', json.manufacturer],
          ['description', json.description],
          ['library version', json.libraryVersion],
          ...(builtIn ? [['default token', `${builtIn.tokenLabel} in ${builtIn.dir}`] as const] : []),
        ]);
        return { json, text };
      }),
    );
}
