/**
 * @mutual/interface: the contracts shared by every Mutual package. No runtime dependencies.
 *
 * - {@link CODES}: every stable result and error code, with its HTTP status.
 * - {@link MutualError}: operating and request errors, discriminated by `code`.
 * - {@link LIMITS}: every limit on input from outside.
 */
export { CODES, isCode, type Code, type CodeInfo, type CodeKind, type RejectCode } from './codes.ts';
export { MutualError, isMutualError } from './errors.ts';
export { LIMITS, type LimitName } from './limits.ts';
