/**
 * The call trace: one line per C call with its arguments, return code and duration, for
 * debugging a module's behaviour. Secrets never appear: PIN arguments print as `<secret>`, and no
 * buffer's content is printed at all, only its length (plaintext, keys and signatures stay out of
 * logs). Mechanism structs show the mechanism's name, templates the names of their attributes
 * (`[CKA_CLASS CKA_LABEL]`, never a value). A sink that throws never fails the call it reports.
 *
 * Turned on by `Library.load(path, { trace })` or the environment variable `PKCS11_TS_TRACE`
 * (`1` or `stderr` for standard error, anything else is a file to append to).
 */
import { appendFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { CArg } from '../sys/binding.js';
import type { FunctionName } from '../sys/functions.js';
import { ULONG_SIZE, readULong } from '../sys/abi.js';
import { Attribute, Mechanism, ReturnValue } from '../sys/constants.js';
import { hex, nameOf } from '../sys/names.js';
import type { Invoke } from '../core/invoke.js';
import { CK_ATTRIBUTE } from '../core/template.js';

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

/** Functions whose second argument is a CK_MECHANISM (C_FindObjectsInit's is a template). */
const MECHANISM_ARG = /^C_((?!FindObjects)\w+Init|GenerateKey|GenerateKeyPair|WrapKey|UnwrapKey|DeriveKey)$/;

/** Argument positions of `CK_ATTRIBUTE` arrays, each followed by its count, per function. */
const TEMPLATE_ARGS: Partial<Record<FunctionName, readonly number[]>> = {
  C_CreateObject: [1],
  C_FindObjectsInit: [1],
  C_CopyObject: [2],
  C_GetAttributeValue: [2],
  C_SetAttributeValue: [2],
  C_GenerateKey: [2],
  C_GenerateKeyPair: [2, 4],
  C_DeriveKey: [3],
  C_UnwrapKey: [5],
};

/** The attribute types of a template, `[CKA_CLASS CKA_LABEL]`; undefined when `count` does not fit the buffer. */
function templateTypes(buf: Buffer, count: CArg | undefined): string | undefined {
  const n = typeof count === 'number' || typeof count === 'bigint' ? Number(count) : -1;
  if (!Number.isSafeInteger(n) || n < 0 || n * CK_ATTRIBUTE.size > buf.byteLength) return undefined;
  const names = Array.from({ length: n }, (_, i) => nameOf(Attribute, readULong(buf, i * CK_ATTRIBUTE.size)));
  return `[${names.join(' ')}]`;
}

function formatArg(fn: FunctionName, index: number, arg: CArg, args: readonly CArg[]): string {
  if (SECRET_ARGS[fn]?.includes(index)) return '<secret>';
  if (arg === null) return 'NULL';
  if (typeof arg === 'number' || typeof arg === 'bigint') return hex(arg);
  const view = Buffer.from(arg.buffer, arg.byteOffset, arg.byteLength);
  if (index === 1 && MECHANISM_ARG.test(fn) && arg.byteLength >= ULONG_SIZE)
    return nameOf(Mechanism, readULong(view, 0));
  if (TEMPLATE_ARGS[fn]?.includes(index))
    return templateTypes(view, args[index + 1]) ?? `<${arg.byteLength} bytes>`;
  return `<${arg.byteLength} bytes>`;
}

/** Wraps `invoke` so that each call is written to `sink` when it returns. */
export function tracing(invoke: Invoke, sink: TraceSink): Invoke {
  let warned = false;
  return async (fn, ...args) => {
    const start = performance.now();
    const rv = await invoke(fn, ...args);
    const ms = (performance.now() - start).toFixed(3);
    const list = args.map((a, i) => formatArg(fn, i, a, args)).join(', ');
    try {
      sink(`${fn}(${list}) = ${nameOf(ReturnValue, rv)} [${ms} ms]`);
    } catch (error) {
      if (!warned)
        process.emitWarning(`pkcs11-ts: the call trace could not be written: ${(error as Error).message}`);
      warned = true;
    }
    return rv;
  };
}

/** The sink the environment asks for through `PKCS11_TS_TRACE`, if any. */
export function sinkFromEnv(value: string | undefined = process.env.PKCS11_TS_TRACE): TraceSink | undefined {
  if (!value || value === '0') return undefined;
  if (value === '1' || value === 'stderr') return (line) => process.stderr.write(`pkcs11-ts: ${line}\n`);
  return (line) => appendFileSync(value, `${line}\n`);
}
