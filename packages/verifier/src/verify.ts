import sodium from 'sodium-native';

/** Length in bytes of an Ed25519 signature (R || S). */
export const SIGNATURE_BYTES = 64;
/** Length in bytes of an Ed25519 public key (the encoding of A). */
export const PUBLIC_KEY_BYTES = 32;

/**
 * True when the three inputs have the shapes an Ed25519 check can be run on: Uint8Arrays, with
 * a 64-byte signature and a 32-byte key. Anything else is
 * an invalid signature rather than an error, so that malformed input from the network can
 * never change control flow differently on different nodes.
 */
export function isWellFormed(signature: unknown, message: unknown, publicKey: unknown): boolean {
  return (
    signature instanceof Uint8Array &&
    message instanceof Uint8Array &&
    publicKey instanceof Uint8Array &&
    signature.byteLength === SIGNATURE_BYTES &&
    publicKey.byteLength === PUBLIC_KEY_BYTES
  );
}

/**
 * Verifies an Ed25519 signature: THE validity check for every ledger decision of the node,
 * on libsodium's `crypto_sign_verify_detached` (libsodium 1.0.21 as bundled by sodium-native 5.1).
 *
 * Never throws. With `signature` = R || S (32 + 32 bytes), `publicKey` = A (32 bytes) and
 * k = SHA-512(R || A || message) mod L over the bytes exactly as given, it returns true iff:
 *
 * 1. `signature` is exactly 64 bytes and `publicKey` exactly 32 (anything else, including
 *    values that are not Uint8Arrays, is false);
 * 2. S, read as a 256-bit little-endian integer, is canonical: S < L = 2^252 + 27742317777372353535851937790883648493;
 * 3. R is not an encoding (canonical or not, sign bit ignored) of a point of small order (1, 2, 4 or 8);
 * 4. A is a canonical encoding (its y < p = 2^255 - 19), is not an encoding of a small-order
 *    point, and decodes to a curve point;
 * 5. the canonical encoding of [S]B - [k]A equals R byte for byte: the cofactorless equation
 *    [S]B = R + [k]A, with R canonically encoded. A signature that satisfies only the cofactored
 *    equation [8][S]B = [8]R + [8][k]A is rejected, and so is any non-canonical encoding of R.
 *
 * A and R need not lie in the prime-order subgroup: a key with a torsion component is accepted
 * whenever the cofactorless equation holds. Each rule is confirmed by a test case (see RULES.md).
 *
 * @param signature - R || S, 64 bytes.
 * @param message - The signed bytes, any length including 0.
 * @param publicKey - The encoding of A, 32 bytes.
 * @returns Whether the signature is valid under the rules above.
 */
export function verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  // The length checks matter beyond tidiness: sodium-native accepts signatures longer than 64
  // bytes and silently ignores the tail, which would make two different byte strings valid.
  if (!isWellFormed(signature, message, publicKey)) return false;
  return sodium.crypto_sign_verify_detached(signature, message, publicKey);
}
