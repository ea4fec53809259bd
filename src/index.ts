/**
 * pkcs11-ts: PKCS#11 (Cryptoki) for Node.js.
 *
 * @example
 * import { Library, KeyType, Mechanism } from 'pkcs11-ts';
 * const lib = await Library.load('/usr/lib/softhsm/libsofthsm2.so');
 * const token = await lib.getToken({ tokenLabel: 'my token' });
 * await using session = await token.open({ userPin: '1234' });
 */
export * from './sys/constants.js';
export { nameOf, flagNames } from './sys/names.js';
export * from './core/errors.js';
export type { Template, AttributeValue } from './core/template.js';
export type { MechanismSpec } from './core/mechanism.js';
export type * from './core/params.js';
export type { LibraryInfo, SlotInfo, TokenInfo, SessionInfo, MechanismInfo, Version } from './core/info.js';
export * from './model/index.js';
