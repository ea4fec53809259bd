/**
 * The session handles this process has open on each module. A session handle is only ever valid
 * if the module gave it (C_OpenSession) and it was not closed since; some modules do not check
 * the handles they are given (tpm2-pkcs11 1.9 crashes the process on some values in
 * C_GetSessionInfo), so a `Session` is made only for a handle known here, and a handle from
 * anywhere else is refused before it reaches C.
 *
 * @example
 * sessionOpened(module, handle);          // after C_OpenSession answered it
 * isOpenSession(module, handle);          // true until sessionClosed(module, handle)
 */
import type { LoadedModule } from '../sys/module.js';

const open = new WeakMap<LoadedModule, Set<bigint>>();

/** Records a handle C_OpenSession gave on `module`. */
export function sessionOpened(module: LoadedModule, handle: bigint): void {
  let handles = open.get(module);
  if (!handles) open.set(module, (handles = new Set()));
  handles.add(handle);
}

/** Forgets a handle once its session is closed (or gone with the device). */
export function sessionClosed(module: LoadedModule, handle: bigint): void {
  open.get(module)?.delete(handle);
}

/** Whether `handle` is a session this process opened on `module` and has not closed. */
export function isOpenSession(module: LoadedModule, handle: bigint): boolean {
  return open.get(module)?.has(handle) ?? false;
}
