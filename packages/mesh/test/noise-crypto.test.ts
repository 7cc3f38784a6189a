import { pureJsCrypto } from '@chainsafe/libp2p-noise';
import { defaultCrypto } from '@chainsafe/libp2p-noise/crypto';
import { Uint8ArrayList } from 'uint8arraylist';
import { describe, expect, it } from 'vitest';
import { sodiumNoiseCrypto } from '../src/noise-crypto.ts';

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/[\s:]/g, ''), 'hex'));
const bytes = (b: Uint8Array | Uint8ArrayList) => Buffer.from(b instanceof Uint8Array ? b : b.subarray()).toString('hex');

// RFC 8439, 2.8.2: the AEAD_CHACHA20_POLY1305 example.
const RFC = {
  key: hex('808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f'),
  nonce: hex('070000004041424344454647'),
  ad: hex('50515253c0c1c2c3c4c5c6c7'),
  plaintext: new TextEncoder().encode("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it."),
  ciphertext: hex(`
    d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6
    3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36
    92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc
    3ff4def08e4b7a9de576d26586cec64b6116`),
  tag: hex('1ae10b594f09e26a7e902ecbd0600691'),
};

describe('sodiumNoiseCrypto (the transport cipher)', () => {
  it('matches the RFC 8439 AEAD example both ways', () => {
    const sealed = sodiumNoiseCrypto.chaCha20Poly1305Encrypt(RFC.plaintext, RFC.nonce, RFC.ad, RFC.key);
    expect(bytes(sealed)).toBe(bytes(RFC.ciphertext) + bytes(RFC.tag));
    const opened = sodiumNoiseCrypto.chaCha20Poly1305Decrypt(new Uint8Array([...RFC.ciphertext, ...RFC.tag]), RFC.nonce, RFC.ad, RFC.key);
    expect(bytes(opened)).toBe(bytes(RFC.plaintext));
  });

  it('agrees with the library default and its pure JavaScript cipher at every frame size', () => {
    const key = Uint8Array.from({ length: 32 }, (_, i) => i * 7);
    const ad = new Uint8Array(0);
    for (const size of [0, 1, 15, 16, 63, 64, 65, 1199, 1200, 1201, 4096, 65519]) {
      const nonce = new Uint8Array(12);
      new DataView(nonce.buffer).setUint32(4, size, true);
      const plaintext = Uint8Array.from({ length: size }, (_, i) => (i * 31 + size) & 0xff);
      const ours = sodiumNoiseCrypto.chaCha20Poly1305Encrypt(plaintext, nonce, ad, key);
      for (const other of [defaultCrypto, pureJsCrypto]) {
        expect(bytes(ours), `size ${size}`).toBe(bytes(other.chaCha20Poly1305Encrypt(plaintext, nonce, ad, key)));
        const theirs = other.chaCha20Poly1305Encrypt(plaintext, nonce, ad, key);
        expect(bytes(sodiumNoiseCrypto.chaCha20Poly1305Decrypt(theirs instanceof Uint8Array ? theirs : theirs.subarray(), nonce, ad, key))).toBe(bytes(plaintext));
      }
    }
  });

  it('takes a list of buffers as the library passes them, and decrypts in place into dst', () => {
    const key = new Uint8Array(32).fill(9);
    const nonce = new Uint8Array(12).fill(1);
    const ad = new Uint8Array(0);
    const plaintext = Uint8Array.from({ length: 3000 }, (_, i) => i & 0xff);
    const list = new Uint8ArrayList(plaintext.subarray(0, 1000), plaintext.subarray(1000, 2200), plaintext.subarray(2200));
    const sealed = sodiumNoiseCrypto.chaCha20Poly1305Encrypt(list, nonce, ad, key);
    expect(bytes(sealed)).toBe(bytes(defaultCrypto.chaCha20Poly1305Encrypt(plaintext, nonce, ad, key)));

    // As the library reads a frame: dst is the ciphertext's own bytes, without the tag.
    const frame = Uint8Array.from(sealed instanceof Uint8Array ? sealed : sealed.subarray());
    const dst = frame.subarray(0, frame.length - 16);
    const opened = sodiumNoiseCrypto.chaCha20Poly1305Decrypt(frame, nonce, ad, key, dst);
    expect(bytes(opened)).toBe(bytes(plaintext));
    expect(bytes(dst)).toBe(bytes(plaintext));

    // A frame split across buffers.
    const again = Uint8Array.from(sealed instanceof Uint8Array ? sealed : sealed.subarray());
    const split = new Uint8ArrayList(again.subarray(0, 1500), again.subarray(1500));
    expect(bytes(sodiumNoiseCrypto.chaCha20Poly1305Decrypt(split, nonce, ad, key))).toBe(bytes(plaintext));
  });

  it('refuses a frame whose ciphertext, tag, nonce, key or associated data differ', () => {
    const key = new Uint8Array(32).fill(3);
    const nonce = new Uint8Array(12).fill(4);
    const ad = new Uint8Array([1, 2, 3]);
    const sealed = Uint8Array.from(sodiumNoiseCrypto.chaCha20Poly1305Encrypt(new Uint8Array(100).fill(5), nonce, ad, key) as Uint8Array);
    const flip = (b: Uint8Array, i: number) => {
      const c = Uint8Array.from(b);
      c[i]! ^= 1;
      return c;
    };
    const open = (c: Uint8Array, n = nonce, a = ad, k = key) => () => sodiumNoiseCrypto.chaCha20Poly1305Decrypt(c, n, a, k);
    expect(open(sealed)).not.toThrow();
    expect(open(flip(sealed, 0))).toThrow(/decryption/);
    expect(open(flip(sealed, sealed.length - 1))).toThrow(/decryption/);
    expect(open(sealed, flip(nonce, 11))).toThrow(/decryption/);
    expect(open(sealed, nonce, flip(ad, 0))).toThrow(/decryption/);
    expect(open(sealed, nonce, ad, flip(key, 31))).toThrow(/decryption/);
    expect(open(sealed.subarray(0, 15))).toThrow(/decryption/);
  });
});
