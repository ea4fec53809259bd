/**
 * Memory the module itself keeps for every session object destroyed, which the soak's RSS verdict
 * must not count against the library.
 *
 * SoftHSM2 2.6.1 (like the releases before it) never frees a destroyed session object before
 * `C_Finalize`: `SessionObjectStore::deleteObject` drops its attributes and takes it out of the
 * searchable set, but leaves it in the store's `allObjects` set, freed only by `clearStore`
 * (softhsm/SoftHSMv2 issues #562 and #563; the development branch frees them since pull request
 * #875, which counts references to session objects). Measured with a C program calling SoftHSM2
 * 2.6.1 directly (x86-64, glibc), one session creating and destroying 100,000 public data objects:
 * RSS grows 249 bytes per object, whatever the value's size (1 or 256 bytes), and closing the
 * session gives none of it back. The soak creates and destroys a
 * session object in two of its kinds of operation (about 11 % of them), so about 24 MB over a
 * million operations is SoftHSM2's.
 *
 * Only versions measured are listed: for any other the verdict subtracts nothing, so a module that
 * no longer keeps these objects cannot hide a leak of the library.
 */
import type { Machine } from './machine.js';

/** Bytes kept per destroyed session object, by SoftHSM2 version (`softhsm2-util --version`). */
const RETAINED_PER_DESTROYED_OBJECT: ReadonlyMap<string, number> = new Map([['2.6.1', 249]]);

/** Bytes the run's module keeps per destroyed session object, or undefined when not measured for it. */
export function retainedPerDestroyedObject(machine: Machine): number | undefined {
  return RETAINED_PER_DESTROYED_OBJECT.get(machine.moduleVersion);
}
