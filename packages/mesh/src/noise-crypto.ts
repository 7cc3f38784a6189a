import { type ICryptoInterface } from '@chainsafe/libp2p-noise';
import { defaultCrypto } from '@chainsafe/libp2p-noise/crypto';
import sodium from 'sodium-native';
import type { Uint8ArrayList } from 'uint8arraylist';

const TAG = 16;

const contiguous = (b: Uint8Array | Uint8ArrayList): Uint8Array => (b instanceof Uint8Array ? b : b.subarray());

/**
 * Noise's cipher, ChaCha20-Poly1305 (IETF), by libsodium: one native call per frame into a
 * Buffer from Node's pool. The library's default goes through `node:crypto` for frames of
 * 1,200 bytes or more (a Cipheriv object, a key object and three calls per frame, 18 to 20 µs
 * for 1.3 KB here, against about 2 µs) and WebAssembly below. Everything else (X25519, HKDF,
 * SHA-256 of the handshake) is the library's default: it runs once per connection.
 */
export const sodiumNoiseCrypto: ICryptoInterface = {
  ...defaultCrypto,
  chaCha20Poly1305Encrypt(plaintext, nonce, ad, k) {
    const m = contiguous(plaintext);
    const c = Buffer.allocUnsafe(m.byteLength + TAG);
    sodium.crypto_aead_chacha20poly1305_ietf_encrypt(c, m, ad, null, nonce, k);
    return c;
  },
  chaCha20Poly1305Decrypt(ciphertext, nonce, ad, k, dst) {
    const c = contiguous(ciphertext);
    if (c.byteLength < TAG) throw new Error('Invalid chacha20poly1305 decryption');
    const length = c.byteLength - TAG;
    // `dst` (when given) may be the ciphertext's own bytes: libsodium decrypts in place.
    const m = dst && dst.byteLength >= length ? dst.subarray(0, length) : Buffer.allocUnsafe(length);
    try {
      sodium.crypto_aead_chacha20poly1305_ietf_decrypt(m, null, c, ad, nonce, k);
    } catch {
      throw new Error('Invalid chacha20poly1305 decryption');
    }
    return m;
  },
};
