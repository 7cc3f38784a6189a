import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { type VerifyItem, VerifierPool, keyPairFromSeed, signDetached, verify } from '../src/index.ts';
import { edgeCases, rfcCases } from './edge-cases.ts';

const pool = new VerifierPool({ threads: 2 });
afterAll(() => pool.close());

const inline = (items: readonly VerifyItem[]) => items.map((x) => (verify(x.signature, x.message, x.publicKey) ? 1 : 0));

describe('verify and VerifierPool agree', () => {
  const rows = [...edgeCases(), ...rfcCases()];

  it('on every table row, in one batch across workers', async () => {
    expect(rows.length).toBeGreaterThan(3000);
    const results = [...(await pool.verifyBatch(rows))];
    expect(results).toEqual(rows.map((r) => (r.expected ? 1 : 0)));
    expect(results).toEqual(inline(rows));
  });

  it('on every table row, in batches small enough to run inline', async () => {
    for (let i = 0; i < rows.length; i += 50) {
      const slice = rows.slice(i, i + 50);
      expect([...(await pool.verifyBatch(slice))]).toEqual(slice.map((r) => (r.expected ? 1 : 0)));
    }
  });

  const mutation = fc.oneof(
    fc.constant({ kind: 'none' as const, at: 0 }),
    fc.record({ kind: fc.constant('signature' as const), at: fc.nat({ max: 511 }) }),
    fc.record({ kind: fc.constant('key' as const), at: fc.nat({ max: 255 }) }),
    fc.record({ kind: fc.constant('message' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('random signature' as const), at: fc.nat() }),
  );
  const item = fc
    .record({
      seed: fc.uint8Array({ minLength: 32, maxLength: 32 }),
      message: fc.uint8Array({ maxLength: 300 }),
      mutation,
      noise: fc.uint8Array({ minLength: 64, maxLength: 64 }),
    })
    .map(({ seed, message, mutation, noise }) => {
      const { publicKey, secretKey } = keyPairFromSeed(seed);
      const signature = signDetached(message, secretKey);
      const flip = (b: Uint8Array, bit: number) => {
        const out = b.slice();
        out[bit >> 3]! ^= 1 << (bit & 7);
        return out;
      };
      switch (mutation.kind) {
        case 'none':
          return { signature, message, publicKey, expected: 1 };
        case 'signature':
          return { signature: flip(signature, mutation.at), message, publicKey, expected: 0 };
        case 'key':
          return { signature, message, publicKey: flip(publicKey, mutation.at), expected: 0 };
        case 'message':
          return message.length === 0
            ? { signature, message: new Uint8Array([mutation.at & 0xff]), publicKey, expected: 0 }
            : { signature, message: flip(message, mutation.at % (message.length * 8)), publicKey, expected: 0 };
        case 'random signature':
          return { signature: noise, message, publicKey, expected: 0 };
      }
    });

  it('on random valid and invalid items (fast-check), inline and across workers', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(item, { maxLength: 200 }), async (items) => {
        const expected = items.map((x) => x.expected);
        expect(inline(items)).toEqual(expected);
        expect([...(await pool.verifyBatch(items))]).toEqual(expected);
      }),
      { numRuns: 40 },
    );
  });
});
