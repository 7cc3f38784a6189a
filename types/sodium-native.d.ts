// sodium-native ships no TypeScript types; this declares the part of its API that the verifier
// (@mutual/verifier), the Node.js SHA-256 (@mutual/crypto) and the transport's AEAD
// (@mutual/mesh) use.
declare module 'sodium-native' {
  interface SodiumNative {
    crypto_sign_verify_detached(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean;
    crypto_sign_detached(signature: Uint8Array, message: Uint8Array, secretKey: Uint8Array): void;
    crypto_sign_seed_keypair(publicKey: Uint8Array, secretKey: Uint8Array, seed: Uint8Array): void;
    crypto_hash_sha256(out: Uint8Array, input: Uint8Array): void;
    /** Writes ciphertext and tag (m.length + 16 bytes) to c; returns the bytes written. */
    crypto_aead_chacha20poly1305_ietf_encrypt(c: Uint8Array, m: Uint8Array, ad: Uint8Array | null, nsec: null, npub: Uint8Array, k: Uint8Array): number;
    /** Writes the plaintext (c.length - 16 bytes) to m; throws when the tag does not verify. */
    crypto_aead_chacha20poly1305_ietf_decrypt(m: Uint8Array, nsec: null, c: Uint8Array, ad: Uint8Array | null, npub: Uint8Array, k: Uint8Array): number;
    crypto_sign_BYTES: number;
    crypto_sign_PUBLICKEYBYTES: number;
    crypto_sign_SECRETKEYBYTES: number;
    crypto_sign_SEEDBYTES: number;
  }
  const sodium: SodiumNative;
  export = sodium;
}
