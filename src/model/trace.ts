/**
 * The call trace: one line per C call with its arguments, return code and duration, for
 * debugging a module's behaviour. Secrets never appear: PIN arguments print as `<secret>`, and no
 * buffer's content is printed at all, only its length (plaintext, keys and signatures stay out of
 * logs). Mechanism structs show the mechanism's name.
 *
 * Turned on by `Library.load(path, { trace })` or the environment variable `PKCS11_TS_TRACE`
 * (`1` or `stderr` for standard error, anything else is a file to append to).
 */
import { appendFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { CArg } from '../sys/binding.js';
import type { FunctionName } from '../sys/functions.js';
import { ULONG_SIZE } from '../sys/abi.js';
import { Mechanism, ReturnValue } from '../sys/constants.js';
import { hex, nameOf } from '../sys/names.js';
import type { Invoke } from '../core/invoke.js';

/** Where trace lines go. */
export type TraceSink = (line: string) => void;

/** Argument positions that carry a PIN or its length (even the length says something about it), per function. */
const SECRET_ARGS: Partial<Record<FunctionName, readonly number[]>> = {
  C_Login: [2, 3],
  C_LoginUser: [2, 3],
  C_InitToken: [1, 2],
  C_InitPIN: [1, 2],
  C_SetPIN: [1, 2, 3, 4],
};

/** Functions whose second argument is a CK_MECHANISM. */
const MECHANISM_ARG = /^C_(\w+Init|GenerateKey|GenerateKeyPair|WrapKey|UnwrapKey|DeriveKey|Message\w+Init)$/;

function formatArg(fn: FunctionName, index: number, arg: CArg): string {
  if (SECRET_ARGS[fn]?.includes(index)) return '<secret>';
  if (arg === null) return 'NULL';
  if (typeof arg === 'number' || typeof arg === 'bigint') return hex(arg);
  if (index === 1 && MECHANISM_ARG.test(fn) && arg.byteLength >= ULONG_SIZE) {
    const view = Buffer.from(arg.buffer, arg.byteOffset, arg.byteLength);
    const type = ULONG_SIZE === 8 ? view.readBigUInt64LE(0) : BigInt(view.readUInt32LE(0));
    return nameOf(Mechanism, type);
  }
  return `<${arg.byteLength} bytes>`;
}

/** Wraps `invoke` so that each call is written to `sink` when it returns. */
export function tracing(invoke: Invoke, sink: TraceSink): Invoke {
  return async (fn, ...args) => {
    const start = performance.now();
    const rv = await invoke(fn, ...args);
    const ms = (performance.now() - start).toFixed(3);
    const list = args.map((a, i) => formatArg(fn, i, a)).join(', ');
    sink(`${fn}(${list}) = ${nameOf(ReturnValue, rv)} [${ms} ms]`);
    return rv;
  };
}

/** The sink the environment asks for through `PKCS11_TS_TRACE`, if any. */
export function sinkFromEnv(value: string | undefined = process.env.PKCS11_TS_TRACE): TraceSink | undefined {
  if (!value || value === '0') return undefined;
  if (value === '1' || value === 'stderr') return (line) => process.stderr.write(`pkcs11-ts: ${line}\n`);
  return (line) => appendFileSync(value, `${line}\n`);
}
