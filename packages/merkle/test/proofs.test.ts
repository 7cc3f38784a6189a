import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  consistencyProof,
  EMPTY_ROOT,
  inclusionProof,
  leafHash,
  subtreeHash,
  verifyConsistency,
  verifyInclusion,
  type NodeReader,
} from '../src/index.ts';
import { periodicEntry, periodicReader } from './periodic.ts';
import { entries, hex, refMth, refPath, refProof } from './reference.ts';
import { referenceStore } from './store.ts';

const SMALL = 64;
const small = entries(SMALL);
const smallStore = referenceStore(small);
const smallRoots = Array.from({ length: SMALL + 1 }, (_, n) => refMth(small.slice(0, n)));

const LARGE = 5000;
const large = entries(LARGE);
const largeStore = referenceStore(large);
const LARGE_SIZES = [1000, 1023, 1024, 1025, 2047, 2048, 2049, 3001, 4095, 4097, 4999, 5000];

describe('subtreeHash', () => {
  it('is MTH(D[start:end]) for every range of a 64-entry log', async () => {
    for (let start = 0; start <= SMALL; start++) {
      for (let end = start; end <= SMALL; end++) {
        const got = await subtreeHash(smallStore.reader(SMALL), start, end);
        expect(hex(got), `[${start}, ${end})`).toBe(hex(refMth(small.slice(start, end))));
      }
    }
  });

  it('reads one node per set bit of the size for [0, size)', async () => {
    for (const size of [1, 2, 3, 7, 64, 5000, 2 ** 40 + 5, Number.MAX_SAFE_INTEGER]) {
      const reader = periodicReader(size);
      await subtreeHash(reader, 0, size);
      const bits = size.toString(2).split('').filter((b) => b === '1').length;
      expect(reader.reads, `size ${size}`).toBe(bits);
    }
  });

  it('works with an asynchronous reader', async () => {
    const got = await subtreeHash(largeStore.reader(LARGE, 'async'), 0, 4097);
    expect(hex(got)).toBe(hex(refMth(large.slice(0, 4097))));
  });

  it('rejects bad ranges and bad stored nodes', async () => {
    const reader = smallStore.reader(SMALL);
    await expect(subtreeHash(reader, 3, 2)).rejects.toThrow(RangeError);
    await expect(subtreeHash(reader, -1, 2)).rejects.toThrow(RangeError);
    await expect(subtreeHash(reader, 0, 1.5)).rejects.toThrow(RangeError);
    await expect(subtreeHash(reader, 0, Number.MAX_SAFE_INTEGER + 1)).rejects.toThrow(RangeError);
    expect(hex(await subtreeHash(reader, 5, 5))).toBe(hex(EMPTY_ROOT));
    const short: NodeReader = () => new Uint8Array(31);
    await expect(subtreeHash(short, 0, 3)).rejects.toThrow(TypeError);
    const failing: NodeReader = () => Promise.reject(new Error('disk on fire'));
    await expect(subtreeHash(failing, 0, 3)).rejects.toThrow('disk on fire');
  });
});

describe('inclusionProof (RFC 9162 §2.1.3.1)', () => {
  it('equals PATH(m, D_n) and verifies, for every index of every size 1..64', async () => {
    for (let n = 1; n <= SMALL; n++) {
      const d = small.slice(0, n);
      for (let m = 0; m < n; m++) {
        const proof = await inclusionProof(smallStore.reader(n), m, n);
        expect(proof.map(hex), `${m} in ${n}`).toEqual(refPath(m, d).map(hex));
        expect(verifyInclusion(leafHash(d[m]!), m, n, proof, smallRoots[n]!), `${m} in ${n}`).toBe(true);
      }
    }
  });

  it('equals PATH(m, D_n) and verifies for sampled indexes of larger sizes', async () => {
    for (const n of LARGE_SIZES) {
      const d = large.slice(0, n);
      const root = refMth(d);
      const indexes = [0, 1, n - 2, n - 1, Math.floor(n / 2), 1023, 1024, 2048, 4096].filter((i) => i >= 0 && i < n);
      for (const m of indexes) {
        const proof = await inclusionProof(largeStore.reader(n, 'async'), m, n);
        expect(proof.map(hex), `${m} in ${n}`).toEqual(refPath(m, d).map(hex));
        expect(verifyInclusion(leafHash(d[m]!), m, n, proof, root)).toBe(true);
      }
    }
  });

  it('equals PATH(m, D_n) for every index of random sizes up to 5000', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1000, max: LARGE }), async (n) => {
        const d = large.slice(0, n);
        for (let m = 0; m < n; m++) {
          const proof = await inclusionProof(largeStore.reader(n), m, n);
          expect(proof.map(hex), `${m} in ${n}`).toEqual(refPath(m, d).map(hex));
        }
      }),
      { numRuns: 3 },
    );
  });

  it('verifies for random indexes of random sizes up to 5000', async () => {
    const roots = new Map<number, Uint8Array>();
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: LARGE }).chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 0, max: n - 1 }))),
        async ([n, m]) => {
          const proof = await inclusionProof(largeStore.reader(n), m, n);
          let root = roots.get(n);
          if (root === undefined) roots.set(n, (root = await subtreeHash(largeStore.reader(n), 0, n)));
          expect(verifyInclusion(leafHash(large[m]!), m, n, proof, root)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('verifies at sizes up to 2^53 - 1, reading O(log n) nodes', async () => {
    const sizes = [2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 2 ** 40 + 12345, 2 ** 52 + 3, Number.MAX_SAFE_INTEGER];
    for (const n of sizes) {
      const root = await subtreeHash(periodicReader(n), 0, n);
      for (const m of [0, 5, 2 ** 31 + 7, 2 ** 32 - 1, n - 17, n - 1].filter((i) => i < n)) {
        const reader = periodicReader(n);
        const proof = await inclusionProof(reader, m, n);
        expect(proof.length).toBeLessThanOrEqual(53);
        expect(reader.reads).toBeLessThanOrEqual(2 * 53);
        expect(verifyInclusion(leafHash(periodicEntry(m)), m, n, proof, root), `${m} in ${n}`).toBe(true);
        // The leaf 1 to the side is a different entry, so the proof must not fit it.
        const other = m % 2 === 0 ? m + 1 : m - 1;
        if (other < n) expect(verifyInclusion(leafHash(periodicEntry(m)), other, n, proof, root)).toBe(false);
      }
    }
  });

  it('rejects an index outside the tree, or bad numbers, with a RangeError', async () => {
    const reader = smallStore.reader(SMALL);
    for (const [m, n] of [
      [0, 0],
      [5, 5],
      [6, 5],
      [-1, 5],
      [0.5, 5],
      [0, Number.MAX_SAFE_INTEGER + 1],
      [NaN, 5],
    ] as const) {
      await expect(inclusionProof(reader, m, n), `${m} in ${n}`).rejects.toThrow(RangeError);
    }
  });
});

describe('consistencyProof (RFC 9162 §2.1.4.1)', () => {
  it('equals PROOF(m, D_n) and verifies, for every 0 < m <= n <= 64', async () => {
    for (let n = 1; n <= SMALL; n++) {
      const d = small.slice(0, n);
      for (let m = 1; m <= n; m++) {
        const proof = await consistencyProof(smallStore.reader(n), m, n);
        expect(proof.map(hex), `${m} to ${n}`).toEqual(refProof(m, d).map(hex));
        expect(verifyConsistency(m, n, smallRoots[m]!, smallRoots[n]!, proof), `${m} to ${n}`).toBe(true);
      }
    }
  });

  it('equals PROOF(m, D_n) and verifies for sampled sizes up to 5000', async () => {
    for (const n of LARGE_SIZES) {
      const d = large.slice(0, n);
      const rootN = refMth(d);
      const ms = [1, 2, 3, n - 1, n, Math.floor(n / 2), 511, 512, 513, 1024, 4096].filter((m) => m >= 1 && m <= n);
      for (const m of ms) {
        const proof = await consistencyProof(largeStore.reader(n, 'async'), m, n);
        expect(proof.map(hex), `${m} to ${n}`).toEqual(refProof(m, d).map(hex));
        expect(verifyConsistency(m, n, refMth(d.slice(0, m)), rootN, proof)).toBe(true);
      }
    }
  });

  it('equals PROOF(m, D_n) for every m of random sizes up to 5000', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1000, max: LARGE }), async (n) => {
        const d = large.slice(0, n);
        for (let m = 1; m <= n; m++) {
          const proof = await consistencyProof(largeStore.reader(n), m, n);
          expect(proof.map(hex), `${m} to ${n}`).toEqual(refProof(m, d).map(hex));
        }
      }),
      { numRuns: 3 },
    );
  });

  it('verifies at sizes up to 2^53 - 1, reading O(log n) nodes', async () => {
    const pairs = [
      [1, Number.MAX_SAFE_INTEGER],
      [2 ** 32, 2 ** 32 + 1],
      [2 ** 32 - 1, 2 ** 40 + 3],
      [2 ** 40 + 12345, 2 ** 52 + 3],
      [2 ** 52 + 3, Number.MAX_SAFE_INTEGER],
      [Number.MAX_SAFE_INTEGER - 1, Number.MAX_SAFE_INTEGER],
      [3 * 2 ** 45 + 1, 3 * 2 ** 45 + 2 ** 20],
    ] as const;
    for (const [m, n] of pairs) {
      const rootM = await subtreeHash(periodicReader(m), 0, m);
      const rootN = await subtreeHash(periodicReader(n), 0, n);
      const reader = periodicReader(n);
      const proof = await consistencyProof(reader, m, n);
      expect(proof.length).toBeLessThanOrEqual(54);
      expect(reader.reads).toBeLessThanOrEqual(2 * 54);
      expect(verifyConsistency(m, n, rootM, rootN, proof), `${m} to ${n}`).toBe(true);
    }
  });

  it('gives an empty proof from the empty tree and between equal sizes', async () => {
    const reader = smallStore.reader(SMALL);
    for (const n of [0, 1, 2, 7, 64]) {
      expect(await consistencyProof(reader, 0, n)).toEqual([]);
      expect(await consistencyProof(reader, n, n)).toEqual([]);
      expect(verifyConsistency(0, n, EMPTY_ROOT, smallRoots[n]!, [])).toBe(true);
      expect(verifyConsistency(n, n, smallRoots[n]!, smallRoots[n]!, [])).toBe(true);
    }
  });

  it('rejects m > n, or bad numbers, with a RangeError', async () => {
    const reader = smallStore.reader(SMALL);
    for (const [m, n] of [
      [6, 5],
      [1, 0],
      [-1, 5],
      [1, 2.5],
      [1, Number.MAX_SAFE_INTEGER + 1],
      [NaN, 5],
    ] as const) {
      await expect(consistencyProof(reader, m, n), `${m} to ${n}`).rejects.toThrow(RangeError);
    }
  });
});
