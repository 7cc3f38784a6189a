import * as ed from '@noble/ed25519';
import { sha512 } from '@noble/hashes/sha2.js';
import { MutualError } from '@mutual/interface';

// noble/ed25519 ships without a hash so that it has no dependencies; its synchronous
// methods need one. Setting the hook here keeps signing synchronous for every caller.
ed.hashes.sha512 = sha512;

/** Bytes of an Ed25519 seed (the secret key as RFC 8032 defines it). */
export const SEED_BYTES = 32;
/** Bytes of an Ed25519 public key. */
export const PUBLIC_KEY_BYTES = 32;
/** Bytes of an Ed25519 signature. */
export const SIGNATURE_BYTES = 64;

/** A holder's or bank's key pair. The seed is the secret: it never leaves its owner. */
export interface KeyPair {
  readonly seed: Uint8Array;
  readonly publicKey: Uint8Array;
}

function assertSeed(seed: unknown): asserts seed is Uint8Array {
  if (!(seed instanceof Uint8Array)) {
    throw new MutualError('INVALID_ENCODING', 'The Ed25519 seed must be a Uint8Array of 32 bytes.');
  }
  if (seed.length !== SEED_BYTES) {
    throw new MutualError('INVALID_ENCODING', `An Ed25519 seed is ${SEED_BYTES} bytes, got ${seed.length}: check that the whole key file was read.`);
  }
}

/** 32 fresh random bytes from the platform's cryptographic generator, to use as a seed. */
export function generateSeed(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(SEED_BYTES));
}

/** The 32-byte Ed25519 public key of a 32-byte seed (RFC 8032, 5.1.5). */
export function publicKeyFromSeed(seed: Uint8Array): Uint8Array {
  assertSeed(seed);
  return ed.getPublicKey(seed);
}

/** The key pair of a 32-byte seed. The seed is copied, so later changes to it do not leak in. */
export function keyPairFromSeed(seed: Uint8Array): KeyPair {
  assertSeed(seed);
  const copy = Uint8Array.from(seed);
  return { seed: copy, publicKey: ed.getPublicKey(copy) };
}

/** The deterministic 64-byte Ed25519 signature of `message` by the key of `seed` (RFC 8032, 5.1.6). */
export function sign(message: Uint8Array, seed: Uint8Array): Uint8Array {
  if (!(message instanceof Uint8Array)) {
    throw new MutualError('INVALID_ENCODING', 'The message to sign must be a Uint8Array.');
  }
  assertSeed(seed);
  return ed.sign(message, seed);
}
