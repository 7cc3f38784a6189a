import { describe, expect, it } from 'vitest';
import { consistencyProof, inclusionProof, leafHash, perfectTreeHash, subtreeHash, withDerivedLevels, type NodeReader } from '../src/index.ts';
import { entries, hex, refMth, refPath, refProof } from './reference.ts';
import { referenceStore } from './store.ts';

const N = 300;
const d = entries(N);
const leaves = d.map(leafHash);
const full = referenceStore(d);

/** A reader over the nodes of levels >= lowest only, the lower ones derived from the leaves. */
function derived(size: number, lowest: number, counts = { stored: 0, leaves: 0 }): NodeReader {
  const stored: NodeReader = (level, index) => {
    expect(level).toBeGreaterThanOrEqual(lowest);
    counts.stored++;
    return full.reader(size)(level, index);
  };
  return withDerivedLevels(
    stored,
    async (start, end) => {
      expect(end).toBeLessThanOrEqual(size);
      counts.leaves += end - start;
      return leaves.slice(start, end);
    },
    lowest,
  );
}

describe('withDerivedLevels', () => {
  it('gives every node of levels below the lowest stored one from the leaves, equal to the stored ones', async () => {
    for (const lowest of [1, 3, 4]) {
      const read = derived(N, lowest);
      for (let level = 0; 2 ** level <= N; level++) {
        for (let index = 0; (index + 1) * 2 ** level <= N; index++) {
          expect(hex(await read(level, index)), `(${level}, ${index})`).toBe(hex(full.reader(N)(level, index) as Uint8Array));
        }
      }
    }
  });

  it('gives the same roots and proofs as a store of every node, for every size up to 300', async () => {
    for (let n = 1; n <= N; n += n < 40 ? 1 : 7) {
      const read = derived(n, 4);
      expect(hex(await subtreeHash(read, 0, n))).toBe(hex(refMth(d.slice(0, n))));
      for (const m of new Set([0, n - 1, Math.floor(n / 3)])) {
        expect((await inclusionProof(read, m, n)).map(hex), `${m} in ${n}`).toEqual(refPath(m, d.slice(0, n)).map(hex));
      }
      for (const m of new Set([1, Math.max(1, n - 1), Math.ceil(n / 2)])) {
        expect((await consistencyProof(read, m, n)).map(hex), `${m} to ${n}`).toEqual(refProof(m, d.slice(0, n)).map(hex));
      }
    }
  });

  it('reads at most 2^(lowest - 1) leaves for one derived node', async () => {
    const counts = { stored: 0, leaves: 0 };
    const read = derived(N, 4, counts);
    await read(3, 5);
    expect(counts).toEqual({ stored: 0, leaves: 8 });
    await read(4, 5);
    expect(counts).toEqual({ stored: 1, leaves: 8 });
  });

  it('rejects a leaf reader that gives too few or bad hashes, and a bad lowest level', async () => {
    const stored: NodeReader = () => new Uint8Array(32);
    await expect(withDerivedLevels(stored, () => leaves.slice(0, 3), 4)(2, 0)).rejects.toThrow(TypeError);
    await expect(withDerivedLevels(stored, () => [new Uint8Array(31), leaves[1]!], 4)(1, 0)).rejects.toThrow(TypeError);
    await expect(withDerivedLevels(stored, () => Promise.reject(new Error('disk on fire')), 4)(1, 0)).rejects.toThrow('disk on fire');
    expect(() => withDerivedLevels(stored, () => [], -1)).toThrow(RangeError);
    expect(() => withDerivedLevels(stored, () => [], 1.5)).toThrow(RangeError);
  });
});

describe('perfectTreeHash', () => {
  it('is the MTH of a power of two of entries, and refuses other counts', () => {
    for (const w of [1, 2, 4, 8, 16, 64]) expect(hex(perfectTreeHash(leaves.slice(8, 8 + w)))).toBe(hex(refMth(d.slice(8, 8 + w))));
    expect(() => perfectTreeHash(leaves.slice(0, 3))).toThrow(RangeError);
    expect(() => perfectTreeHash([])).toThrow(RangeError);
  });
});
