import sodium from 'sodium-native';

/** Length in bytes of the seed a key pair is derived from. */
export const SEED_BYTES = 32;
/** Length in bytes of a libsodium Ed25519 secret key (seed || public key). */
export const SECRET_KEY_BYTES = 64;

/** An Ed25519 key pair in libsodium's layout. */
export interface KeyPair {
  /** The 32-byte encoding of the public point A. */
  readonly publicKey: Uint8Array;
  /** 64 bytes: the seed followed by the public key. */
  readonly secretKey: Uint8Array;
}

/**
 * Derives an Ed25519 key pair from a 32-byte seed (RFC 8032 key generation, libsodium).
 *
 * @param seed - 32 secret bytes; the same seed always gives the same key pair.
 * @returns The public key (32 bytes) and libsodium's 64-byte secret key.
 * @throws RangeError when `seed` is not a 32-byte Uint8Array.
 */
export function keyPairFromSeed(seed: Uint8Array): KeyPair {
  if (!(seed instanceof Uint8Array) || seed.byteLength !== SEED_BYTES) {
    throw new RangeError(`seed must be a Uint8Array of ${SEED_BYTES} bytes`);
  }
  const publicKey = new Uint8Array(32);
  const secretKey = new Uint8Array(SECRET_KEY_BYTES);
  sodium.crypto_sign_seed_keypair(publicKey, secretKey, seed);
  return { publicKey, secretKey };
}

/**
 * Signs `message` with a libsodium secret key (RFC 8032 Ed25519, deterministic), for the node's
 * bank keys and for generating test and benchmark data quickly.
 *
 * @param message - The bytes to sign, any length.
 * @param secretKey - 64 bytes as returned by {@link keyPairFromSeed}.
 * @returns The 64-byte signature R || S.
 * @throws RangeError when `secretKey` is not 64 bytes; TypeError when `message` is not a Uint8Array.
 */
export function signDetached(message: Uint8Array, secretKey: Uint8Array): Uint8Array {
  if (!(message instanceof Uint8Array)) throw new TypeError('message must be a Uint8Array');
  if (!(secretKey instanceof Uint8Array) || secretKey.byteLength !== SECRET_KEY_BYTES) {
    throw new RangeError(`secretKey must be a Uint8Array of ${SECRET_KEY_BYTES} bytes`);
  }
  const signature = new Uint8Array(64);
  sodium.crypto_sign_detached(signature, message, secretKey);
  return signature;
}
