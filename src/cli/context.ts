/**
 * One run of a `p11` command: the module, token and sessions it opens (lazily, and only what the
 * command needs), how it talks to the person (warnings and notices on stderr, results on stdout
 * as text or JSON), and the clean-up at the end.
 */
import type { Command } from 'commander';
import { TokenFlag } from '../sys/constants.js';
import { NoSuchTokenError } from '../core/errors.js';
import { Library } from '../model/library.js';
import type { Session } from '../model/session.js';
import { PROTECTED_AUTH, type Token } from '../model/token.js';
import { defaultToken, type SoftHsmToken } from '../softhsm/index.js';
import { UsageError } from './errors.js';
import { type GlobalOptions, type SecretSources, parseSlotId, resolveSecret } from './options.js';
import { type Output, jsonText } from './output.js';
import { redact } from './secrets.js';

/** How a command needs to be logged in. */
export type Login =
  /** Logged in as the user: PIN from flag, environment, default token or prompt; an error without one. */
  | 'user'
  /** Logged in when a PIN is known without asking (flag, environment, default token), else not. */
  | 'if-known'
  /** Not logged in. */
  | 'none';

/** The state of one command run. Dispose it (`close`) when the command is done. */
export class CliContext {
  /** The parsed command (its options and the global ones). */
  readonly command: Command;
  readonly #options: GlobalOptions;
  #defaultToken: Promise<SoftHsmToken | undefined> | undefined;
  #library: Promise<Library> | undefined;
  #token: Promise<Token> | undefined;
  readonly #sessions: Session[] = [];

  constructor(command: Command) {
    this.command = command;
    this.#options = command.optsWithGlobals<GlobalOptions>();
  }

  /** Whether results are printed as JSON. */
  get json(): boolean {
    return this.#options.json === true;
  }

  /** The global options. */
  get options(): GlobalOptions {
    return this.#options;
  }

  /** A warning on stderr (secrets redacted). */
  warn(message: string): void {
    process.stderr.write(`p11: warning: ${redact(message)}\n`);
  }

  /** A note on stderr, for people (stdout stays for results). */
  notice(message: string): void {
    process.stderr.write(`${message}\n`);
  }

  /** Prints a command's result: JSON with `--json`, else its text. */
  print(output: Output): void {
    const text = this.json || output.text === undefined ? jsonText(output.json) : output.text;
    if (text !== '') process.stdout.write(`${text}\n`);
  }

  /**
   * The project's SoftHSM2 token when no module is configured (created on first use, when its
   * user PIN is shown once); undefined when a module is configured.
   */
  defaultToken(): Promise<SoftHsmToken | undefined> {
    this.#defaultToken ??= (async () => {
      if (this.#options.module) return undefined;
      const token = await defaultToken();
      if (token.created) {
        this.notice(
          `p11: no module configured, so the built-in SoftHSM2 token "${token.tokenLabel}" was created in ${token.dir}.\n` +
            `p11: its user PIN is ${token.pin} (shown only this once; p11 remembers it for this token).`,
        );
      }
      // SoftHSM2 finds its token store through this variable, read when the module initialises.
      process.env.SOFTHSM2_CONF = token.confPath;
      return token;
    })();
    return this.#defaultToken;
  }

  /** The loaded module (flag/environment, else the default token's SoftHSM2). */
  library(): Promise<Library> {
    this.#library ??= (async () => {
      const fallback = await this.defaultToken();
      const path = this.#options.module || fallback?.modulePath;
      if (!path) throw new UsageError('no module: pass --module or set PKCS11_MODULE');
      return Library.load(path, {
        initReserved: this.#options.initReserved || undefined,
        trace: this.#options.trace ? (line) => process.stderr.write(`p11 trace: ${line}\n`) : undefined,
      });
    })();
    return this.#library;
  }

  /**
   * The token to work with: the one in `--slot`, else the one matching `--token` / `--serial`
   * (the default token's label when it is in use), else the only initialised token present.
   */
  token(): Promise<Token> {
    this.#token ??= this.#findToken();
    return this.#token;
  }

  async #findToken(): Promise<Token> {
    const lib = await this.library();
    const { slot, serial } = this.#options;
    if (slot !== undefined) {
      const id = parseSlotId(slot);
      const found = (await lib.getSlots({ tokenPresent: false })).find((s) => s.id === id);
      if (!found) throw new UsageError(`there is no slot ${id}`);
      return found.getToken();
    }
    const label = this.#options.token || (await this.defaultToken())?.tokenLabel;
    const all = await lib.getTokens();
    const matching = all.filter(
      (t) => (label === undefined || t.label === label) && (serial === undefined || t.serial === serial),
    );
    const initialised = matching.filter((t) => (t.flags & TokenFlag.TOKEN_INITIALIZED) !== 0);
    const candidates =
      label === undefined && serial === undefined && initialised.length > 0 ? initialised : matching;
    const present = all.map((t) => JSON.stringify(t.label)).join(', ') || 'none';
    if (candidates.length === 1) return candidates[0]!;
    if (candidates.length === 0) {
      const wanted = [label && `label ${JSON.stringify(label)}`, serial && `serial ${serial}`]
        .filter(Boolean)
        .join(', ');
      throw new NoSuchTokenError(
        wanted ? `no token with ${wanted} (tokens present: ${present})` : 'no token is present',
      );
    }
    throw new UsageError(
      `${candidates.length} tokens are present (${present}): choose one with --token, --serial or --slot`,
    );
  }

  /**
   * A secret from its sources (see options.ts); `what` names it in prompts and in the error when
   * `required` and nothing gives it.
   */
  async secret(
    sources: Omit<SecretSources, 'prompt'> & { readonly what: string },
    required: boolean,
  ): Promise<string | undefined> {
    const token = await this.token().catch(() => undefined);
    const prompt = token ? `${sources.what} for token "${token.label}"` : sources.what;
    const value = await resolveSecret(this.command, { ...sources, prompt }, (message) => this.warn(message));
    if (value === undefined && required) {
      throw new UsageError(
        `no ${sources.what}: set ${sources.env}, pass ${sources.flag}, or run on a terminal to be asked`,
      );
    }
    return value;
  }

  /** The user PIN: flag, environment, the default token's, or the prompt (when `interactive`). */
  async userPin(interactive: boolean, required: boolean): Promise<string | undefined> {
    const fallback = (await this.defaultToken())?.pin;
    return this.secret(
      { option: 'pin', flag: '--pin', env: 'PKCS11_PIN', what: 'User PIN', fallback, interactive },
      required,
    );
  }

  /** The Security Officer PIN (the command must have `--so-pin`). */
  async soPin(): Promise<string> {
    const fallback = (await this.defaultToken())?.soPin;
    const sources = {
      option: 'soPin',
      flag: '--so-pin',
      env: 'PKCS11_SO_PIN',
      what: 'SO PIN',
      fallback,
      interactive: true,
    };
    return (await this.secret(sources, true)) as string;
  }

  /** A new PIN, asked twice on a terminal (the command must have `--new-pin`). */
  async newPin(what: string): Promise<string> {
    const sources = {
      option: 'newPin',
      flag: '--new-pin',
      env: 'PKCS11_NEW_PIN',
      what,
      confirm: true,
      interactive: true,
    };
    return (await this.secret(sources, true)) as string;
  }

  /**
   * A session with the token, logged in as `login` asks. A token with a PIN pad (protected
   * authentication path) is logged in through it when no PIN is given.
   */
  async session(login: Login, rw = false): Promise<Session> {
    const token = await this.token();
    let userPin: string | typeof PROTECTED_AUTH | undefined;
    if (login !== 'none') {
      const padOnly = login === 'user' && (token.flags & TokenFlag.PROTECTED_AUTHENTICATION_PATH) !== 0;
      userPin = await this.userPin(login === 'user' && !padOnly, login === 'user' && !padOnly);
      if (userPin === undefined && padOnly) userPin = PROTECTED_AUTH;
    }
    const session = await token.open({ userPin, rw });
    this.#sessions.push(session);
    return session;
  }

  /** Closes the sessions and lets go of the module. */
  async close(): Promise<void> {
    for (const session of this.#sessions.splice(0)) await session.close().catch(() => undefined);
    const library = await this.#library?.catch(() => undefined);
    await library?.finalize().catch(() => undefined);
  }
}
