/**
 * Asking the person at the terminal: a PIN without echo, and a yes/no confirmation. Both talk on
 * stderr (stdout stays clean for output) and only when stdin and stderr are a terminal; scripts
 * give PINs through the environment instead.
 */
import { createInterface } from 'node:readline/promises';
import { CancelledError, UsageError } from './errors.js';

const ENTER = new Set(['\r', '\n']);
const BACKSPACE = new Set(['\u007f', '\b']);
const CTRL_C = '\u0003';
const CTRL_D = '\u0004';

/** Whether prompts can be shown: stdin and stderr are a terminal. */
export function canPrompt(): boolean {
  return Boolean(process.stdin.isTTY && process.stderr.isTTY);
}

/** Applies one keystroke (or pasted text) to the typed value; 'done' on Enter. */
function typeInto(value: string, input: string): { value: string; done: boolean } {
  let typed = value;
  for (const ch of input) {
    if (ENTER.has(ch)) return { value: typed, done: true };
    if (ch === CTRL_C || (ch === CTRL_D && typed === '')) throw new CancelledError();
    if (BACKSPACE.has(ch)) typed = [...typed].slice(0, -1).join('');
    else if (ch >= ' ') typed += ch;
  }
  return { value: typed, done: false };
}

/**
 * Reads a secret from the terminal without echoing it. `question` is written to stderr.
 *
 * @throws UsageError when there is no terminal; CancelledError on Ctrl-C (or Ctrl-D at the start).
 * @example
 * const pin = await promptSecret('User PIN for token "demo": ');
 */
export async function promptSecret(question: string): Promise<string> {
  if (!canPrompt()) throw new UsageError('cannot ask for a secret: stdin is not a terminal');
  const stdin = process.stdin;
  // No echo first, then the question: an answer typed as soon as the question shows is not echoed.
  stdin.setRawMode(true);
  process.stderr.write(question);
  stdin.setEncoding('utf8');
  stdin.resume();
  try {
    return await new Promise<string>((resolve, reject) => {
      let value = '';
      const onData = (input: string): void => {
        try {
          const next = typeInto(value, input);
          value = next.value;
          if (!next.done) return;
          stdin.off('data', onData);
          resolve(value);
        } catch (error) {
          stdin.off('data', onData);
          reject(error);
        }
      };
      stdin.on('data', onData);
    });
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
    process.stderr.write('\n');
  }
}

/**
 * Asks a yes/no question on the terminal; true only for an answer starting with y.
 *
 * @example
 * if (!(await confirm('Delete 2 objects?'))) throw new CancelledError();
 */
export async function confirm(question: string): Promise<boolean> {
  if (!canPrompt()) throw new UsageError('cannot ask for confirmation: stdin is not a terminal (pass --yes)');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

/** Asks before destroying something, unless `--yes`; without a terminal `--yes` is required. */
export async function confirmDestruction(yes: boolean | undefined, question: string): Promise<void> {
  if (yes) return;
  if (!canPrompt()) throw new UsageError(`${question.replace(/\?$/, '')}: pass --yes to go ahead`);
  if (!(await confirm(question))) throw new CancelledError('nothing was changed');
}
