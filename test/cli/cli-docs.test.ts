/**
 * docs/cli.md against the program: every `p11` command line in its examples names a real command
 * with options that command takes, and every command is documented. (The commands themselves
 * run in the other CLI tests; the examples use files that exist only in the reader's world.)
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { buildProgram } from '../../src/cli/program.js';

const docs = readFileSync(new URL('../../docs/cli.md', import.meta.url), 'utf8');

/** The `p11 ...` invocations in the shell examples of the page, as argument lists. */
function examples(): string[][] {
  const blocks = [...docs.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
  const lines = blocks.flatMap((block) => block.split('\n'));
  const calls = lines.flatMap((line) =>
    [...line.matchAll(/(?:^|[|(;&]\s*|\$\()p11 ([^|#)]*)/g)].map((m) => m[1] ?? ''),
  );
  return calls.map((call) => [...call.matchAll(/"[^"]*"|'[^']*'|\S+/g)].map((m) => m[0]));
}

/** The long and short flags a command accepts, with the global ones. */
function flagsOf(program: Command, command: Command): Set<string> {
  const options = [...program.options, ...command.options];
  return new Set(options.flatMap((o) => [o.long, o.short].filter((f): f is string => f !== undefined)));
}

describe('docs/cli.md', () => {
  const program = buildProgram();
  const commands = new Map(program.commands.map((c) => [c.name(), c]));

  test('its examples use commands and options that exist', () => {
    const calls = examples();
    assert.ok(calls.length > 40, `found ${calls.length} examples`);
    for (const args of calls) {
      const name = args.find((a) => !a.startsWith('-')) ?? '';
      const command = commands.get(name);
      assert.ok(command, `p11 ${args.join(' ')}: no command ${JSON.stringify(name)}`);
      const flags = flagsOf(program, command);
      for (const arg of args.filter((a) => a.startsWith('-') && a !== '-')) {
        assert.ok(flags.has(arg.split('=')[0]!), `p11 ${args.join(' ')}: ${name} has no option ${arg}`);
      }
    }
  });

  test('every command is documented', () => {
    for (const name of commands.keys()) {
      assert.match(docs, new RegExp(`^### .*\\b${name}\\b`, 'm'), `docs/cli.md has no section for ${name}`);
    }
  });
});
