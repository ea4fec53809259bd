/**
 * Output buffers sized by the module. PKCS#11 functions that produce variable-length output take
 * `(pOut, pulOutLen)`: called with `pOut = NULL` they report the length, and a buffer that is too
 * small gets CKR_BUFFER_TOO_SMALL with the needed length, without ending the operation. We never
 * assume a fixed size: the module's answer decides, however many times it changes its mind.
 */
import type { CArg } from '../sys/binding.js';
import type { FunctionName } from '../sys/functions.js';
import { allocULong, readULongNumber, writeULong } from '../sys/abi.js';
import { ReturnValue } from '../sys/constants.js';
import { Pkcs11Error, check } from './errors.js';
import type { Invoke } from './invoke.js';

/**
 * A buffer for a module to write into: the first `size` bytes of `into` when they fit (the
 * caller's own memory, written again by its next call), else a new one, not zeroed: zeroing 64 KiB
 * costs 10-15 µs, a sixth of the AES update that fills it (docs/benchmarks.md). The caller zeroes
 * whatever the module did not write before anyone sees the buffer, and wipes or drops it when the
 * call fails.
 */
function outputBuffer(size: number, into: Uint8Array | undefined): Buffer {
  if (into !== undefined && size <= into.byteLength) return Buffer.from(into.buffer, into.byteOffset, size);
  return Buffer.allocUnsafeSlow(size);
}

/** How many times a module may answer CKR_BUFFER_TOO_SMALL to a correctly sized buffer before we give up. */
const MAX_RESIZES = 8;

/**
 * Calls `fn(...args, pOut, pulOutLen)` until the output fits and returns exactly the bytes
 * written. With `sizeHint` the first call already offers a buffer of that size (saving the length
 * query when the caller knows the usual size); otherwise the first call asks for the length.
 * With `into`, the output goes into its memory whenever it fits (the result is then a view of
 * it), and a failed call leaves zeros where the module may have written.
 */
export function callWithOutput(
  invoke: Invoke,
  fn: FunctionName,
  args: readonly CArg[],
  sizeHint?: number,
  into?: Uint8Array,
): Promise<Buffer> {
  const first = sizeHint && sizeHint > 0 ? outputBuffer(sizeHint, into) : null;
  const filled = fill(invoke, fn, args, allocULong(), first, into);
  if (into === undefined) return filled;
  // A failed call's own buffer is dropped unread; the caller's memory stays theirs to read.
  return filled.catch((error: unknown) => {
    into.fill(0);
    throw error;
  });
}

/** The loop of {@link callWithOutput}, from a first offer of `out` (null: ask for the length). */
async function fill(
  invoke: Invoke,
  fn: FunctionName,
  args: readonly CArg[],
  lenBuf: Buffer,
  first: Buffer | null,
  into: Uint8Array | undefined,
): Promise<Buffer> {
  let out = first;
  /** Whether the module has been asked for the length (a call with no buffer). */
  let asked = out === null;
  for (let attempt = 0; attempt <= MAX_RESIZES; attempt++) {
    writeULong(lenBuf, 0, out ? out.length : 0);
    const rv = await invoke(fn, ...args, out, lenBuf);
    const len = readULongNumber(lenBuf, 0);
    if (rv === ReturnValue.BUFFER_TOO_SMALL && out !== null && len <= out.length) {
      // "Too small" without a larger length (NSS softokn leaves it as it was): ask for the length,
      // or grow by doubling when the module was asked already.
      out = asked ? outputBuffer(out.length * 2, into) : null;
      asked = true;
      continue;
    }
    if (rv === ReturnValue.BUFFER_TOO_SMALL || (rv === ReturnValue.OK && out === null)) {
      if (!Number.isFinite(len))
        throw new Pkcs11Error(fn, ReturnValue.GENERAL_ERROR, 'module reported an impossible length');
      // The real call is always made, even for no output: a size query neither takes the input nor
      // ends the operation. It gets at least one byte: an empty buffer would reach C as NULL (a query).
      out = outputBuffer(Math.max(len, 1), into);
      continue;
    }
    check(fn, rv);
    if (out === null || len > out.length)
      throw new Pkcs11Error(fn, ReturnValue.GENERAL_ERROR, 'module wrote past the buffer');
    return written(out, len);
  }
  throw new Pkcs11Error(fn, ReturnValue.BUFFER_TOO_SMALL, `still too small after ${MAX_RESIZES} resizes`);
}

/** The `len` bytes the module wrote; the rest of `out` is zeroed, so its memory holds nothing older. */
function written(out: Buffer, len: number): Buffer {
  return out.fill(0, len).subarray(0, len);
}

/**
 * One call with an output buffer of `room` bytes, made synchronously by `call(pOut, pulOutLen)`
 * (the at-once paths of the model): the bytes written when it answers CKR_OK and they fit;
 * otherwise its CK_RV (CKR_GENERAL_ERROR when the module claims more than the room), or undefined
 * when it could not run now. The buffer of a call that did not succeed is dropped unread.
 */
export function outputNow(
  call: (out: Buffer, lenBuf: Buffer) => number | undefined,
  room: number,
): Buffer | number | undefined {
  const out = outputBuffer(room, undefined);
  const lenBuf = allocULong();
  writeULong(lenBuf, 0, room);
  const rv = call(out, lenBuf);
  if (rv !== ReturnValue.OK) return rv;
  const len = readULongNumber(lenBuf, 0);
  return len > room ? ReturnValue.GENERAL_ERROR : written(out, len);
}
