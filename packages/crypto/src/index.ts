/**
 * @mutual/crypto: portable hashing and Ed25519 signing. Runs in Node.js and in browsers
 * (Node.js gets native SHA-256 through the `#sha256` import condition).
 *
 * Signing lives here because clients sign. Signature verification for ledger decisions
 * is deliberately not offered: the node decides validity with its own verifier.
 */

/** SHA-256 of the concatenation of `parts`. */
export { sha256 } from '#sha256';

export {
  /** Bytes of an Ed25519 seed (the secret key as RFC 8032 defines it). */
  SEED_BYTES,
  /** Bytes of an Ed25519 public key. */
  PUBLIC_KEY_BYTES,
  /** Bytes of an Ed25519 signature. */
  SIGNATURE_BYTES,
  /** 32 fresh random bytes from the platform's cryptographic generator, to use as a seed. */
  generateSeed,
  /** The 32-byte Ed25519 public key of a 32-byte seed. Throws `INVALID_ENCODING` on a wrong length. */
  publicKeyFromSeed,
  /** The key pair (a copy of the seed and its public key) of a 32-byte seed. */
  keyPairFromSeed,
  /** The deterministic 64-byte Ed25519 signature of a message by the key of a seed. */
  sign,
} from './ed25519.ts';
/** A key pair: the secret 32-byte seed and its 32-byte public key. */
export type { KeyPair } from './ed25519.ts';
