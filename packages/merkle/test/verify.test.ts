import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  EMPTY_ROOT,
  leafHash,
  MAX_PROOF_LENGTH,
  rootFromInclusion,
  verifyConsistency,
  verifyInclusion,
} from '../src/index.ts';
import { entries, hex, refMth, refPath, refProof, refRootFromPath, refVerifyProof } from './reference.ts';

const N = 5000;
const d = entries(N);
const leaves = d.map(leafHash);
const roots = new Map<number, Uint8Array>();
/** Root of the tree of the first `n` entries. */
const root = (n: number): Uint8Array => {
  let r = roots.get(n);
  if (r === undefined) roots.set(n, (r = refMth(d.slice(0, n))));
  return r;
};

const flip = (proof: readonly Uint8Array[], element: number, byte: number, bit = 0): Uint8Array[] =>
  proof.map((h, i) => {
    if (i !== element) return h;
    const copy = h.slice();
    copy[byte]! ^= 1 << bit;
    return copy;
  });
const flipHash = (h: Uint8Array, byte = 0): Uint8Array => flip([h], 0, byte)[0]!;
const SOME_HASH = new Uint8Array(32).fill(0xab);

/** Proofs that differ from `proof` by one structural change. */
function structuralTampers(proof: readonly Uint8Array[], extra: readonly Uint8Array[]): Uint8Array[][] {
  const out: Uint8Array[][] = [];
  for (let k = 0; k < proof.length; k++) out.push(proof.slice(0, k)); // truncated
  for (let k = 1; k < proof.length; k++) out.push(proof.slice(k)); // front removed
  for (let k = 0; k < proof.length; k++) out.push([...proof.slice(0, k), ...proof.slice(k + 1)]); // one removed
  for (const h of [...extra, ...proof]) {
    for (let k = 0; k <= proof.length; k++) out.push([...proof.slice(0, k), h, ...proof.slice(k)]); // one inserted
  }
  for (let k = 0; k + 1 < proof.length; k++) {
    if (hex(proof[k]!) === hex(proof[k + 1]!)) continue;
    out.push([...proof.slice(0, k), proof[k + 1]!, proof[k]!, ...proof.slice(k + 2)]); // neighbours swapped
  }
  return out;
}

describe('verifyInclusion (RFC 9162 §2.1.3.2): tampering, exhaustively for sizes 1..20', () => {
  it('accepts only the true proof, leaf, index, size and root', () => {
    for (let n = 1; n <= 20; n++) {
      for (let m = 0; m < n; m++) {
        const proof = refPath(m, d.slice(0, n));
        const leaf = leaves[m]!;
        const ok = (l: Uint8Array, i: number, s: number, p: readonly Uint8Array[], r: Uint8Array) =>
          verifyInclusion(l, i, s, p, r);
        const at = `${m} in ${n}`;
        expect(ok(leaf, m, n, proof, root(n)), at).toBe(true);
        expect(hex(rootFromInclusion(leaf, m, n, proof)!), at).toBe(hex(root(n)));

        for (let e = 0; e < proof.length; e++) {
          for (let b = 0; b < 32; b++) {
            expect(ok(leaf, m, n, flip(proof, e, b, b % 8), root(n)), `${at} flip ${e}.${b}`).toBe(false);
          }
        }
        for (const p of structuralTampers(proof, [root(n), leaf, SOME_HASH])) {
          expect(ok(leaf, m, n, p, root(n)), `${at} tampered`).toBe(false);
        }
        for (let i = 0; i < n + 3; i++) {
          if (i !== m) expect(ok(leaf, i, n, proof, root(n)), `${at} index ${i}`).toBe(false);
        }
        for (let s = 0; s <= 40; s++) {
          if (s === n) continue;
          expect(ok(leaf, m, s, proof, root(s)), `${at} size ${s}`).toBe(false);
          expect(ok(leaf, m, n, proof, root(s)), `${at} root ${s}`).toBe(false);
        }
        for (let b = 0; b < 32; b++) expect(ok(leaf, m, n, proof, flipHash(root(n), b))).toBe(false);
        for (let b = 0; b < 32; b++) expect(ok(flipHash(leaf, b), m, n, proof, root(n))).toBe(false);
        for (let j = 0; j < n; j++) if (j !== m) expect(ok(leaves[j]!, m, n, proof, root(n))).toBe(false);
      }
    }
  });
});

describe('verifyConsistency (RFC 9162 §2.1.4.2): tampering, exhaustively for sizes 1..20', () => {
  it('accepts only the true proof, sizes and roots', () => {
    for (let n = 2; n <= 20; n++) {
      for (let m = 1; m < n; m++) {
        const proof = refProof(m, d.slice(0, n));
        const ok = (a: number, b: number, ra: Uint8Array, rb: Uint8Array, p: readonly Uint8Array[]) =>
          verifyConsistency(a, b, ra, rb, p);
        const at = `${m} to ${n}`;
        expect(ok(m, n, root(m), root(n), proof), at).toBe(true);

        for (let e = 0; e < proof.length; e++) {
          for (let b = 0; b < 32; b++) {
            expect(ok(m, n, root(m), root(n), flip(proof, e, b, b % 8)), `${at} flip ${e}.${b}`).toBe(false);
          }
        }
        for (const p of structuralTampers(proof, [root(m), root(n), SOME_HASH])) {
          expect(ok(m, n, root(m), root(n), p), `${at} tampered`).toBe(false);
        }
        expect(ok(m, n, root(m), root(n), []), `${at} empty`).toBe(false);
        for (let a = 0; a <= n + 2; a++) {
          if (a !== m) expect(ok(a, n, root(a), root(n), proof), `${at} m = ${a}`).toBe(false);
        }
        for (let b = 0; b <= 40; b++) {
          if (b !== n) expect(ok(m, b, root(m), root(b), proof), `${at} n = ${b}`).toBe(false);
        }
        for (let s = 0; s <= 40; s++) {
          if (s !== m) expect(ok(m, n, root(s), root(n), proof), `${at} rootM ${s}`).toBe(false);
          if (s !== n) expect(ok(m, n, root(m), root(s), proof), `${at} rootN ${s}`).toBe(false);
        }
        for (let b = 0; b < 32; b++) {
          expect(ok(m, n, flipHash(root(m), b), root(n), proof)).toBe(false);
          expect(ok(m, n, root(m), flipHash(root(n), b), proof)).toBe(false);
        }
        expect(ok(m, n, root(n), root(m), proof), `${at} swapped roots`).toBe(false);
        expect(ok(n, m, root(n), root(m), proof), `${at} swapped sizes`).toBe(false);
      }
    }
  });

  it('accepts equal sizes with equal roots and the empty tree before anything, with empty proofs', () => {
    for (let n = 0; n <= 20; n++) {
      expect(verifyConsistency(n, n, root(n), root(n), [])).toBe(true);
      expect(verifyConsistency(n, n, root(n), flipHash(root(n)), [])).toBe(false);
      expect(verifyConsistency(n, n, root(n), root(n), [root(n)])).toBe(false);
      expect(verifyConsistency(0, n, EMPTY_ROOT, root(n), [])).toBe(true);
      // The only tree of size 0 has the empty root, and nothing needs proving.
      expect(verifyConsistency(0, n, flipHash(EMPTY_ROOT), root(n), [])).toBe(false);
      if (n > 0) expect(verifyConsistency(0, n, EMPTY_ROOT, root(n), [root(n)])).toBe(false);
    }
    expect(verifyConsistency(0, 0, EMPTY_ROOT, SOME_HASH, [])).toBe(false);
  });
});

describe('proofs checked against other sizes, against the structure of PATH and PROOF', () => {
  // The bit arithmetic of §2.1.3.2 and §2.1.4.2 must accept exactly when the proof has the
  // length and shape that PATH and PROOF give those sizes and leads to the roots. Checked with
  // the roots the proof was made for, this also finds the sizes where shapes coincide.
  it('inclusion', () => {
    let coincidences = 0;
    for (let n = 1; n <= 16; n++) {
      for (let m = 0; m < n; m++) {
        const proof = refPath(m, d.slice(0, n));
        for (let s = 1; s <= 33; s++) {
          for (let i = 0; i < s; i++) {
            const want = hex(refRootFromPath(leaves[m]!, i, s, proof) ?? new Uint8Array()) === hex(root(n));
            expect(verifyInclusion(leaves[m]!, i, s, proof, root(n)), `${m} in ${n} as ${i} in ${s}`).toBe(want);
            if (want && (i !== m || s !== n)) coincidences++;
          }
        }
      }
    }
    expect(coincidences).toBeGreaterThan(0);
  });

  it('consistency', () => {
    let coincidences = 0;
    for (let n = 2; n <= 16; n++) {
      for (let m = 1; m < n; m++) {
        const proof = refProof(m, d.slice(0, n));
        for (let b = 2; b <= 33; b++) {
          for (let a = 1; a < b; a++) {
            const want = refVerifyProof(a, b, root(m), root(n), proof);
            expect(verifyConsistency(a, b, root(m), root(n), proof), `${m} to ${n} as ${a} to ${b}`).toBe(want);
            if (want && (a !== m || b !== n)) coincidences++;
          }
        }
      }
    }
    expect(coincidences).toBeGreaterThan(0);
  });
});

describe('tampering, as properties over trees of up to 5000 entries', () => {
  const sizeAndIndex = fc
    .integer({ min: 1, max: N })
    .chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 0, max: n - 1 })));
  const sizes = fc
    .integer({ min: 2, max: N })
    .chain((n) => fc.tuple(fc.integer({ min: 1, max: n - 1 }), fc.constant(n)));
  const position = fc.record({
    element: fc.nat(),
    byte: fc.integer({ min: 0, max: 31 }),
    bit: fc.integer({ min: 0, max: 7 }),
  });

  it('inclusion: any flipped bit of any proof hash fails', () => {
    fc.assert(
      fc.property(sizeAndIndex, position, ([n, m], { element, byte, bit }) => {
        const proof = refPath(m, d.slice(0, n));
        fc.pre(proof.length > 0);
        expect(verifyInclusion(leaves[m]!, m, n, proof, root(n))).toBe(true);
        expect(verifyInclusion(leaves[m]!, m, n, flip(proof, element % proof.length, byte, bit), root(n))).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('inclusion: a wrong index, size (with its root) or root fails', () => {
    fc.assert(
      fc.property(sizeAndIndex, fc.integer({ min: 0, max: N }), fc.integer({ min: 1, max: N }), ([n, m], i, s) => {
        const proof = refPath(m, d.slice(0, n));
        if (i !== m) expect(verifyInclusion(leaves[m]!, i, n, proof, root(n))).toBe(false);
        if (s !== n) {
          expect(verifyInclusion(leaves[m]!, m, s, proof, root(s))).toBe(false);
          expect(verifyInclusion(leaves[m]!, m, n, proof, root(s))).toBe(false);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('inclusion: a truncated or extended proof fails', () => {
    fc.assert(
      fc.property(sizeAndIndex, fc.nat(), fc.uint8Array({ minLength: 32, maxLength: 32 }), ([n, m], k, extra) => {
        const proof = refPath(m, d.slice(0, n));
        const at = k % (proof.length + 1);
        const extended = [...proof.slice(0, at), extra, ...proof.slice(at)];
        expect(verifyInclusion(leaves[m]!, m, n, extended, root(n))).toBe(false);
        const truncated = proof.slice(0, at === proof.length ? 0 : at);
        if (proof.length > 0) expect(verifyInclusion(leaves[m]!, m, n, truncated, root(n))).toBe(false);
      }),
      { numRuns: 200 },
    );
  });

  it('consistency: any flipped bit of any proof hash fails', () => {
    fc.assert(
      fc.property(sizes, position, ([m, n], { element, byte, bit }) => {
        const proof = refProof(m, d.slice(0, n));
        expect(verifyConsistency(m, n, root(m), root(n), proof)).toBe(true);
        expect(verifyConsistency(m, n, root(m), root(n), flip(proof, element % proof.length, byte, bit))).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('consistency: wrong sizes (with their roots), wrong roots, truncated or extended proofs fail', () => {
    fc.assert(
      fc.property(
        sizes,
        fc.integer({ min: 0, max: N }),
        fc.nat(),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        ([m, n], other, k, extra) => {
          const proof = refProof(m, d.slice(0, n));
          if (other !== m) {
            expect(verifyConsistency(other, n, root(other), root(n), proof)).toBe(false);
            expect(verifyConsistency(m, n, root(other), root(n), proof)).toBe(false);
          }
          if (other !== n) {
            expect(verifyConsistency(m, other, root(m), root(other), proof)).toBe(false);
            expect(verifyConsistency(m, n, root(m), root(other), proof)).toBe(false);
          }
          const at = k % (proof.length + 1);
          const extended = [...proof.slice(0, at), extra, ...proof.slice(at)];
          expect(verifyConsistency(m, n, root(m), root(n), extended)).toBe(false);
          const truncated = proof.slice(0, at === proof.length ? 0 : at);
          expect(verifyConsistency(m, n, root(m), root(n), truncated)).toBe(false);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('malformed input', () => {
  const good = { leaf: leaves[5]!, index: 5, size: 11, proof: refPath(5, d.slice(0, 11)), root: root(11) };

  it('returns false, never throws, whatever the arguments', () => {
    const anything = fc.anything({ withTypedArray: true, withBigInt: true, withNullPrototype: true });
    fc.assert(
      fc.property(anything, anything, anything, anything, anything, (a, b, c, e, f) => {
        const call = (fn: (...args: never[]) => unknown, ...args: unknown[]) =>
          (fn as (...x: unknown[]) => unknown)(...args);
        expect(call(verifyInclusion, a, b, c, e, f)).toBe(false);
        expect(call(verifyConsistency, a, b, c, e, f)).toBe(false);
        expect(call(rootFromInclusion, a, b, c, e)).toBe(undefined);
      }),
      { numRuns: 500 },
    );
  });

  it('rejects hashes that are not 32 bytes and numbers that are not safe integers >= 0', () => {
    const { leaf, index, size, proof, root: r } = good;
    expect(verifyInclusion(leaf, index, size, proof, r)).toBe(true);
    for (const bad of [leaf.subarray(1), new Uint8Array([...leaf, 0]), new Uint8Array(0)]) {
      expect(verifyInclusion(bad, index, size, proof, r)).toBe(false);
      expect(verifyInclusion(leaf, index, size, proof, bad)).toBe(false);
      expect(verifyInclusion(leaf, index, size, [bad, ...proof.slice(1)], r)).toBe(false);
      expect(verifyConsistency(3, 11, bad, r, refProof(3, d.slice(0, 11)))).toBe(false);
    }
    for (const bad of [-1, 5.5, NaN, Infinity, Number.MAX_SAFE_INTEGER + 1]) {
      expect(verifyInclusion(leaf, bad, size, proof, r)).toBe(false);
      expect(verifyInclusion(leaf, index, bad, proof, r)).toBe(false);
      expect(verifyConsistency(bad, 11, root(3), r, refProof(3, d.slice(0, 11)))).toBe(false);
      expect(verifyConsistency(3, bad, root(3), r, refProof(3, d.slice(0, 11)))).toBe(false);
    }
  });

  it(`rejects a proof longer than ${MAX_PROOF_LENGTH} hashes without reading it`, () => {
    expect(MAX_PROOF_LENGTH).toBe(64);
    let reads = 0;
    const counting = (length: number) =>
      new Proxy(
        Array.from({ length }, () => SOME_HASH),
        {
          get(target, key, receiver) {
            if (typeof key === 'string' && /^\d+$/.test(key)) reads++;
            return Reflect.get(target, key, receiver) as unknown;
          },
        },
      );
    const big = Number.MAX_SAFE_INTEGER;
    expect(verifyInclusion(SOME_HASH, 0, big, counting(MAX_PROOF_LENGTH + 1), SOME_HASH)).toBe(false);
    expect(verifyConsistency(3, big, SOME_HASH, SOME_HASH, counting(MAX_PROOF_LENGTH + 1))).toBe(false);
    expect(reads).toBe(0);
    // A proof of exactly the limit is read (and fails, being garbage).
    expect(verifyInclusion(SOME_HASH, 0, Number.MAX_SAFE_INTEGER, counting(MAX_PROOF_LENGTH), SOME_HASH)).toBe(false);
    expect(reads).toBeGreaterThan(0);
  });

  it('binds a size only through its root: take both from one signed tree head', () => {
    // RFC 9162 §2.1.3.2 and §2.1.4.2 check the shape of the path against the sizes, and the
    // sizes against nothing but the root. Leaf 4 sits at the same place, seen from the root,
    // in trees of 7 and 8 entries, so a proof for size 7 also "verifies" with size 8 when
    // given the root of size 7; with the root of size 8 it fails.
    const proof = refPath(4, d.slice(0, 7));
    expect(verifyInclusion(leaves[4]!, 4, 8, proof, root(7))).toBe(true);
    expect(verifyInclusion(leaves[4]!, 4, 8, proof, root(8))).toBe(false);
    const consistency = refProof(4, d.slice(0, 8));
    expect(verifyConsistency(4, 5, root(4), root(8), consistency)).toBe(true);
    expect(verifyConsistency(4, 5, root(4), root(5), consistency)).toBe(false);
  });
});
