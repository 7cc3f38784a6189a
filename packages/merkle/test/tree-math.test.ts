import { describe, expect, it } from 'vitest';
import { isIndex, isPowerOfTwo, levelOf, setBitLevels, splitPoint } from '../src/tree-math.ts';

// Sizes around every power of two up to Number.MAX_SAFE_INTEGER, where float rounding and
// 32-bit operators would go wrong.
const edges: number[] = [];
for (let j = 1; j <= 53; j++) {
  for (const d of [-2, -1, 0, 1, 2]) {
    const n = 2 ** j + d;
    if (n >= 2 && Number.isSafeInteger(n)) edges.push(n);
  }
}
edges.push(Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER - 1, 3 * 2 ** 40 + 7);

function bigSplit(n: bigint): bigint {
  let k = 1n;
  while (k * 2n < n) k *= 2n;
  return k;
}

describe('tree arithmetic', () => {
  it('splitPoint is the largest power of two below n, up to 2^53 - 1', () => {
    const small = Array.from({ length: 4999 }, (_, i) => i + 2);
    for (const n of [...small, ...edges]) expect(splitPoint(n), `n = ${n}`).toBe(Number(bigSplit(BigInt(n))));
  });

  it('isPowerOfTwo and levelOf agree with exact arithmetic', () => {
    for (let j = 0; j <= 52; j++) {
      expect(isPowerOfTwo(2 ** j)).toBe(true);
      expect(levelOf(2 ** j)).toBe(j);
    }
    for (const n of edges) expect(isPowerOfTwo(n), `n = ${n}`).toBe((BigInt(n) & (BigInt(n) - 1n)) === 0n);
    expect(isPowerOfTwo(0)).toBe(false);
  });

  it('setBitLevels lists the set bits, lowest first', () => {
    for (const n of [0, 1, 6, ...edges]) {
      const want: number[] = [];
      for (let j = 0; j < 64; j++) if ((BigInt(n) >> BigInt(j)) & 1n) want.push(j);
      expect(setBitLevels(n), `n = ${n}`).toEqual(want);
    }
  });

  it('isIndex accepts only safe integers >= 0', () => {
    for (const ok of [0, 1, Number.MAX_SAFE_INTEGER]) expect(isIndex(ok)).toBe(true);
    for (const bad of [-1, 0.5, Number.MAX_SAFE_INTEGER + 1, NaN, Infinity, '1', 1n, null, undefined]) {
      expect(isIndex(bad)).toBe(false);
    }
  });
});
