import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as ed from '@noble/ed25519';
import { isMutualError } from '@mutual/interface';
import { generateSeed, keyPairFromSeed, publicKeyFromSeed, sign } from '../src/index.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const unhex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));

// RFC 8032, section 7.1: TEST 1, TEST 2 and TEST 3.
const RFC8032 = [
  {
    name: 'TEST 1 (empty message)',
    seed: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
    publicKey: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    message: '',
    signature:
      'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155' +
      '5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
  },
  {
    name: 'TEST 2 (1-byte message)',
    seed: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
    publicKey: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
    message: '72',
    signature:
      '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da' +
      '085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
  },
  {
    name: 'TEST 3 (2-byte message)',
    seed: 'c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7',
    publicKey: 'fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025',
    message: 'af82',
    signature:
      '6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac' +
      '18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a',
  },
];

describe('Ed25519 (RFC 8032 vectors)', () => {
  for (const v of RFC8032) {
    it(`${v.name}: seed -> public key -> signature`, () => {
      const seed = unhex(v.seed);
      expect(hex(publicKeyFromSeed(seed))).toBe(v.publicKey);
      const pair = keyPairFromSeed(seed);
      expect(hex(pair.seed)).toBe(v.seed);
      expect(hex(pair.publicKey)).toBe(v.publicKey);
      expect(hex(sign(unhex(v.message), seed))).toBe(v.signature);
    });
  }
});

describe('Ed25519 signing', () => {
  it('signatures are 64 bytes, deterministic, and verify under the public key', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 300 }), (seed, msg) => {
        const sig = sign(msg, seed);
        expect(sig.length).toBe(64);
        expect(hex(sign(msg, seed))).toBe(hex(sig));
        expect(ed.verify(sig, msg, publicKeyFromSeed(seed))).toBe(true);
      }),
      { numRuns: 50 },
    );
  });

  it('a signature does not verify for another message', () => {
    const seed = unhex(RFC8032[1]!.seed);
    const sig = sign(unhex('72'), seed);
    expect(ed.verify(sig, unhex('73'), publicKeyFromSeed(seed))).toBe(false);
  });

  it('generateSeed returns 32 fresh random bytes', () => {
    const a = generateSeed();
    const b = generateSeed();
    expect(a).toBeInstanceOf(Uint8Array);
    expect(a.length).toBe(32);
    expect(hex(a)).not.toBe(hex(b));
    // A usable seed: the public key derives and a signature verifies.
    expect(ed.verify(sign(new Uint8Array([1]), a), new Uint8Array([1]), publicKeyFromSeed(a))).toBe(true);
  });

  it('keyPairFromSeed copies the seed', () => {
    const seed = unhex(RFC8032[0]!.seed);
    const pair = keyPairFromSeed(seed);
    seed.fill(0);
    expect(hex(pair.seed)).toBe(RFC8032[0]!.seed);
  });

  it('refuses seeds that are not 32 bytes with INVALID_ENCODING', () => {
    for (const n of [0, 31, 33, 64]) {
      const seed = new Uint8Array(n);
      for (const f of [() => publicKeyFromSeed(seed), () => keyPairFromSeed(seed), () => sign(new Uint8Array(), seed)]) {
        let err: unknown;
        try {
          f();
        } catch (e) {
          err = e;
        }
        expect(isMutualError(err, 'INVALID_ENCODING')).toBe(true);
        expect((err as Error).message).toContain('32 bytes');
      }
    }
  });
});
