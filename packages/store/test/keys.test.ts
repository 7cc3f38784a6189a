import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeU64, encodeU64, keys } from '../src/keys.ts';

describe('key encoding', () => {
  it('writes u64 big-endian, so byte order is numeric order', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), (a, b) => {
        expect(decodeU64(encodeU64(a))).toBe(a);
        const cmp = Buffer.compare(Buffer.from(encodeU64(a)), Buffer.from(encodeU64(b)));
        expect(Math.sign(cmp)).toBe(a < b ? -1 : a > b ? 1 : 0);
      }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (n) => {
        expect(decodeU64(keys.entry(n).subarray(1))).toBe(BigInt(n));
        expect(decodeU64(keys.node(3, n).subarray(2))).toBe(BigInt(n));
      }),
    );
  });
});
