/** The object model: Library -> Slot -> Token -> Session -> objects. */
export { Library, type LoadOptions, type WaitOptions } from './library.js';
export { Slot } from './slot.js';
export { Token, PROTECTED_AUTH, type OpenOptions } from './token.js';
export type { TokenFilter } from './token-filter.js';
export { Session } from './session.js';
export { PkcsObject } from './objects.js';
export { Key, PublicKey, PrivateKey, SecretKey, DomainParameters, Certificate, Data } from './keys.js';
export { KeyPair, LocalDomainParameters, type KeyPairOptions } from './keygen.js';
export type { KeyQuery } from './search.js';
export type { OperationOptions } from './plan.js';
export type { NewKeyOptions } from './templates.js';
export type { BytesLike, DataStream } from './operations.js';
export type { DigestInput } from './digest.js';
export type { Pin } from './secret.js';
export * from './defaults.js';
export type { ParameterInput } from './mechanism-defaults.js';
export { tokenQuirks, type TokenQuirks } from './quirks.js';
export type { ExecutionMode } from './execution.js';
