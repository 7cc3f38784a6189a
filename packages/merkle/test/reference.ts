// The definitions of RFC 9162 §2.1, transcribed as directly as possible (recursion over
// lists of entries, no stored nodes, no shortcuts), to check the package against. Slow on
// purpose, except for one memo: MTH of a slice is remembered by its first entry (the same
// object in every slice) and its length, which changes nothing but the speed.
import { sha256 } from '@mutual/crypto';

const bytes = (...b: number[]) => new Uint8Array(b);

/** §2.1.1: "the largest power of two smaller than n (i.e., k < n <= 2k)". */
export function refSplit(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** §2.1.1: MTH({}) = HASH(), MTH({d(0)}) = HASH(0x00 || d(0)), and the split rule. */
export function refMth(d: readonly Uint8Array[]): Uint8Array {
  const n = d.length;
  if (n === 0) return sha256();
  const byLength = memo.get(d[0]!) ?? new Map<number, Uint8Array>();
  memo.set(d[0]!, byLength);
  let hash = byLength.get(n);
  if (hash === undefined) {
    if (n === 1) {
      hash = sha256(bytes(0x00), d[0]!);
    } else {
      const k = refSplit(n);
      hash = sha256(bytes(0x01), refMth(d.slice(0, k)), refMth(d.slice(k)));
    }
    byLength.set(n, hash);
  }
  return hash;
}

const memo = new WeakMap<Uint8Array, Map<number, Uint8Array>>();

/** §2.1.3.1: PATH(m, D_n). */
export function refPath(m: number, d: readonly Uint8Array[]): Uint8Array[] {
  const n = d.length;
  if (n === 1) return [];
  const k = refSplit(n);
  if (m < k) return [...refPath(m, d.slice(0, k)), refMth(d.slice(k))];
  return [...refPath(m - k, d.slice(k)), refMth(d.slice(0, k))];
}

/** §2.1.4.1: SUBPROOF(m, D_n, b). */
function refSubproof(m: number, d: readonly Uint8Array[], b: boolean): Uint8Array[] {
  const n = d.length;
  if (m === n) return b ? [] : [refMth(d)];
  const k = refSplit(n);
  if (m <= k) return [...refSubproof(m, d.slice(0, k), b), refMth(d.slice(k))];
  return [...refSubproof(m - k, d.slice(k), false), refMth(d.slice(0, k))];
}

/** §2.1.4.1: PROOF(m, D_n) = SUBPROOF(m, D_n, true), for 0 < m < n. */
export function refProof(m: number, d: readonly Uint8Array[]): Uint8Array[] {
  return refSubproof(m, d, true);
}

/** Distinct entries for tests: entry i is "entry <i>". */
export function entries(n: number): Uint8Array[] {
  return Array.from({ length: n }, (_, i) => new TextEncoder().encode(`entry ${i}`));
}

export const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
export const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));

/**
 * The root an inclusion proof leads to, read by the structure of PATH (§2.1.3.1) rather
 * than by the bit arithmetic of §2.1.3.2: the last hash is the sibling at the top split.
 * Undefined when the proof has the wrong length for (m, n).
 */
export function refRootFromPath(
  leaf: Uint8Array,
  m: number,
  n: number,
  proof: readonly Uint8Array[],
): Uint8Array | undefined {
  if (m >= n) return undefined;
  if (n === 1) return proof.length === 0 ? leaf : undefined;
  const last = proof[proof.length - 1];
  if (last === undefined) return undefined;
  const rest = proof.slice(0, -1);
  const k = refSplit(n);
  const below = m < k ? refRootFromPath(leaf, m, k, rest) : refRootFromPath(leaf, m - k, n - k, rest);
  if (below === undefined) return undefined;
  return m < k ? sha256(bytes(0x01), below, last) : sha256(bytes(0x01), last, below);
}

/**
 * The roots (old, new) a consistency proof leads to, read by the structure of SUBPROOF
 * (§2.1.4.1) rather than by the bit arithmetic of §2.1.4.2. Undefined when the proof has
 * the wrong length for (m, n).
 */
function refSubproofRoots(
  m: number,
  n: number,
  b: boolean,
  proof: readonly Uint8Array[],
  rootM: Uint8Array,
): [Uint8Array, Uint8Array] | undefined {
  if (m === n) {
    if (b) return proof.length === 0 ? [rootM, rootM] : undefined;
    return proof.length === 1 ? [proof[0]!, proof[0]!] : undefined;
  }
  const last = proof[proof.length - 1];
  if (last === undefined) return undefined;
  const rest = proof.slice(0, -1);
  const k = refSplit(n);
  if (m <= k) {
    const below = refSubproofRoots(m, k, b, rest, rootM);
    return below && [below[0], sha256(bytes(0x01), below[1], last)];
  }
  // k < m < n <= 2k, so D[0:m] splits at the same k.
  const below = refSubproofRoots(m - k, n - k, false, rest, rootM);
  return below && [sha256(bytes(0x01), last, below[0]), sha256(bytes(0x01), last, below[1])];
}

/** Consistency verification by the structure of PROOF, for 0 < m < n. */
export function refVerifyProof(
  m: number,
  n: number,
  rootM: Uint8Array,
  rootN: Uint8Array,
  proof: readonly Uint8Array[],
): boolean {
  if (!(0 < m && m < n)) throw new RangeError('the reference only covers 0 < m < n');
  const roots = refSubproofRoots(m, n, true, proof, rootM);
  return roots !== undefined && hex(roots[0]) === hex(rootM) && hex(roots[1]) === hex(rootN);
}
