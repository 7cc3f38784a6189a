import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { consistencyProof, forkPath, forkPathBeyond, leafHash, MAX_PROOF_LENGTH, toForkPath, verifyConsistency, verifyForkPath } from '../src/index.ts';
import { entries, hex, refMth } from './reference.ts';
import { referenceStore } from './store.ts';

const isPow2 = (n: number) => n > 0 && (n & (n - 1)) === 0;

/**
 * A log that differs from `d` at entry `at` (an entry of another content). Every entry is a new
 * object: the reference MTH remembers slices by their first entry.
 */
function forged(d: readonly Uint8Array[], at: number): Uint8Array[] {
  return d.map((e, i) => (i === at ? new Uint8Array([...e, 0xff]) : e.slice()));
}

describe('verifyForkPath: same size', () => {
  const a = refMth(entries(5));
  const b = refMth(forged(entries(5), 2));
  it('two different roots of one size are a fork; equal roots are not', () => {
    expect(verifyForkPath(5, 5, a, b, [])).toBe(true);
    expect(verifyForkPath(5, 5, a, a, [])).toBe(false);
  });
  it('refuses a non-empty path, size 0 and malformed input', () => {
    expect(verifyForkPath(5, 5, a, b, [a])).toBe(false);
    expect(verifyForkPath(0, 0, a, b, [])).toBe(false);
    expect(verifyForkPath(5, 5, a.subarray(1), b, [])).toBe(false);
    expect(verifyForkPath(5, 4, a, b, [])).toBe(false);
    expect(verifyForkPath(2 ** 53, 2 ** 53, a, b, [])).toBe(false);
    expect(verifyForkPath(-1, 5, a, b, [])).toBe(false);
  });
});

describe('forkPathBeyond: the fork path from what a replica of the first entries and a consistency proof hold', () => {
  it('is the fork path of the whole tree, for every m <= size <= n up to 24', async () => {
    const d = entries(24);
    for (let n = 1; n <= 24; n++) {
      const whole = referenceStore(d.slice(0, n));
      for (let size = 1; size <= n; size++) {
        // The replica's reader throws on any node past its `size` entries.
        const replica = whole.reader(size);
        const proof = await consistencyProof(whole.reader(n), size, n);
        for (let m = 1; m <= size; m++) {
          const path = await forkPathBeyond(replica, m, size, n, proof);
          expect(path?.map(hex), `${m} ${size} ${n}`).toEqual((await forkPath(whole.reader(n), m, n)).map(hex));
        }
      }
    }
  });

  it('makes a proof that verifies against a head of another log at m', async () => {
    const d = entries(21);
    const store = referenceStore(d);
    const proof = await consistencyProof(store.reader(21), 13, 21);
    for (const m of [1, 4, 7, 8, 13]) {
      const path = (await forkPathBeyond(store.reader(13), m, 13, 21, proof))!;
      expect(verifyForkPath(m, 21, refMth(forged(d, 0).slice(0, m)), refMth(d), path)).toBe(true);
    }
  });

  it('is undefined for a proof of the wrong length, and refuses sizes out of order', async () => {
    const store = referenceStore(entries(8));
    const proof = await consistencyProof(store.reader(8), 5, 8);
    expect(await forkPathBeyond(store.reader(5), 3, 5, 8, proof.slice(1))).toBeUndefined();
    await expect(forkPathBeyond(store.reader(5), 6, 5, 8, proof)).rejects.toThrow(RangeError);
    await expect(forkPathBeyond(store.reader(5), 0, 5, 8, proof)).rejects.toThrow(RangeError);
  });
});

describe('verifyForkPath: different sizes, exhaustively for sizes up to 24', () => {
  it('an honest log never yields a fork; a log rewritten before m always does', async () => {
    const d = entries(24);
    for (let n = 2; n <= 24; n++) {
      const store = referenceStore(d.slice(0, n));
      for (let m = 1; m < n; m++) {
        const path = await forkPath(store.reader(n), m, n);
        const rootN = refMth(d.slice(0, n));
        const rootM = refMth(d.slice(0, m));
        // The honest head of size m is consistent: no fork, whatever the path.
        expect(verifyForkPath(m, n, rootM, rootN, path), `${m}..${n}`).toBe(false);
        // The fork path is the consistency proof, with the first root when m is a power of two.
        const proof = await consistencyProof(store.reader(n), m, n);
        expect(path.map(hex)).toEqual((isPow2(m) ? [rootM, ...proof] : proof).map(hex));
        expect(verifyConsistency(m, n, rootM, rootN, proof)).toBe(true);
        // A head of size m over another log (any entry before m changed) is a fork against n.
        for (let at = 0; at < m; at++) {
          const other = refMth(forged(d, at).slice(0, m));
          expect(verifyForkPath(m, n, other, rootN, path), `${m}..${n} changed at ${at}`).toBe(true);
        }
        // A path that does not give the root of n proves nothing.
        expect(verifyForkPath(m, n, refMth(forged(d, 0).slice(0, m)), refMth(forged(d, n - 1).slice(0, n)), path)).toBe(false);
      }
    }
  });

  it('toForkPath adds the first hash exactly when m is a power of two', () => {
    const h = leafHash(new Uint8Array([1]));
    expect(toForkPath(3, [h], undefined)).toEqual([h]);
    expect(toForkPath(4, [h], undefined)).toBeUndefined();
    expect(toForkPath(4, [h], h)).toEqual([h, h]);
  });

  it('forkPath refuses sizes outside 1 <= m <= n', async () => {
    const store = referenceStore(entries(4));
    await expect(forkPath(store.reader(4), 0, 4)).rejects.toThrow(RangeError);
    await expect(forkPath(store.reader(4), 3, 2)).rejects.toThrow(RangeError);
    expect(await forkPath(store.reader(4), 4, 4)).toEqual([]);
  });
});

describe('verifyForkPath: properties', () => {
  const d = entries(300);

  it('a consistent pair of heads never yields a valid fork proof, whatever path is offered', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 299 }),
        fc.integer({ min: 1, max: 300 }),
        fc.array(fc.uint8Array({ minLength: 32, maxLength: 32 }), { maxLength: 12 }),
        async (a, b, junk) => {
          const m = Math.min(a, b);
          const n = Math.max(a, b);
          const rootM = refMth(d.slice(0, m));
          const rootN = refMth(d.slice(0, n));
          const honest = m === n ? [] : await forkPath(referenceStore(d.slice(0, n)).reader(n), m, n);
          expect(verifyForkPath(m, n, rootM, rootN, honest)).toBe(false);
          expect(verifyForkPath(m, n, rootM, rootN, junk)).toBe(false);
          // Honest path with one hash replaced by junk: still no fork against the honest root.
          if (honest.length > 0 && junk.length > 0) {
            const k = junk.length % honest.length;
            const mixed = honest.map((h, i) => (i === k ? junk[0]! : h));
            expect(verifyForkPath(m, n, rootM, rootN, mixed)).toBe(false);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('a forged tree always yields a valid fork proof against the honest head', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 299 }), fc.integer({ min: 2, max: 300 }), fc.nat(), fc.boolean(), async (a, b, pos, forgeLater) => {
        const m = Math.min(a, b - 1);
        const n = Math.max(a + 1, b);
        const at = pos % m;
        // Either the later tree was rewritten (the head of m is honest), or the earlier one was.
        const later = forgeLater ? forged(d, at).slice(0, n) : d.slice(0, n);
        const earlier = forgeLater ? d.slice(0, m) : forged(d, at).slice(0, m);
        const path = await forkPath(referenceStore(later).reader(n), m, n);
        expect(verifyForkPath(m, n, refMth(earlier), refMth(later), path)).toBe(true);
        expect(path.length).toBeLessThanOrEqual(MAX_PROOF_LENGTH);
      }),
      { numRuns: 200 },
    );
  });
});
