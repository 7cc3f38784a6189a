/**
 * @mutual/verifier: the node's one Ed25519 verifier (libsodium), signing for bank keys and
 * test data, a worker-thread pool for large batches, and a measure of the machine's ceiling.
 * Node.js only. The acceptance rules are those of {@link verify}; RULES.md states them for the
 * protocol specification.
 */
export { verify, SIGNATURE_BYTES, PUBLIC_KEY_BYTES } from './verify.ts';
export { keyPairFromSeed, signDetached, SEED_BYTES, SECRET_KEY_BYTES, type KeyPair } from './sign.ts';
export type { VerifyItem } from './batch-format.ts';
export {
  VerifierPool,
  MAX_BATCH_ITEMS,
  INLINE_BATCH_LIMIT,
  type VerifierPoolOptions,
  type CodedError,
} from './pool.ts';
export { measureVerifyRate, type VerifyRateOptions, type VerifyRate } from './rate.ts';
