// sodium-native ships no TypeScript types; this declares the part of its API that the verifier
// (@mutual/verifier) and the Node.js SHA-256 (@mutual/crypto) use.
declare module 'sodium-native' {
  interface SodiumNative {
    crypto_sign_verify_detached(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean;
    crypto_sign_detached(signature: Uint8Array, message: Uint8Array, secretKey: Uint8Array): void;
    crypto_sign_seed_keypair(publicKey: Uint8Array, secretKey: Uint8Array, seed: Uint8Array): void;
    crypto_hash_sha256(out: Uint8Array, input: Uint8Array): void;
    crypto_sign_BYTES: number;
    crypto_sign_PUBLICKEYBYTES: number;
    crypto_sign_SECRETKEYBYTES: number;
    crypto_sign_SEEDBYTES: number;
  }
  const sodium: SodiumNative;
  export = sodium;
}
