import { EMPTY_ROOT, hashesEqual, isHash, nodeHash } from './hash.ts';
import { isProof } from './proof-input.ts';
import { isIndex, isPowerOfTwo } from './tree-math.ts';

/**
 * Verifies a consistency proof, RFC 9162 §2.1.4.2: that the tree of `n` entries with root
 * `rootN` extends the tree of `m` entries with root `rootM`. Pure and synchronous; returns
 * false, never throws, on any malformed input.
 *
 * Beyond the RFC's 0 < m < n, matching {@link consistencyProof}:
 * - `m == n`: true exactly when the proof is empty and the roots are equal.
 * - `m == 0`: consistency from the empty tree is trivially true, so true exactly when the
 *   proof is empty and `rootM` is {@link EMPTY_ROOT}, the only root of an empty tree.
 *
 * The sizes are bound only through the roots: always take each size and its root from
 * the same signed tree head.
 *
 * @param m - the earlier tree size.
 * @param n - the later tree size.
 * @param rootM - the root of the tree of `m` entries (32 bytes).
 * @param rootN - the root of the tree of `n` entries (32 bytes).
 * @param proof - the consistency path, at most {@link MAX_PROOF_LENGTH} hashes of 32 bytes.
 */
export function verifyConsistency(
  m: number,
  n: number,
  rootM: Uint8Array,
  rootN: Uint8Array,
  proof: readonly Uint8Array[],
): boolean {
  if (!isIndex(m) || !isIndex(n) || m > n || !isHash(rootM) || !isHash(rootN) || !isProof(proof)) return false;
  if (m === 0) return proof.length === 0 && hashesEqual(rootM, EMPTY_ROOT) && (n > 0 || hashesEqual(rootN, EMPTY_ROOT));
  if (m === n) return proof.length === 0 && hashesEqual(rootM, rootN);

  // 1. "If consistency_path is an empty array, stop and fail the proof verification."
  if (proof.length === 0) return false;
  // 2. "If first is an exact power of 2, then prepend first_hash to the consistency_path
  // array."
  const roots = rootsFromPath(m, n, isPowerOfTwo(m) ? [rootM, ...proof] : proof);
  // 7. "verify that the fr calculated is equal to the first_hash supplied, that the sr
  // calculated is equal to the second_hash supplied, and that sn is 0."
  return roots !== undefined && hashesEqual(roots[0], rootM) && hashesEqual(roots[1], rootN);
}

/**
 * Steps 3 to 7 of RFC 9162 §2.1.4.2 over a full path (for a power-of-two `m`, the hash of the
 * first `m` entries already prepended): the roots [fr, sr] that the path yields for the trees
 * of `m` and `n` entries, or undefined when the path does not fit the sizes (the iteration
 * fails, or ends with sn != 0). Requires 0 < m < n and a non-empty path of 32-byte hashes.
 * Every hash that enters fr also enters sr, so when sr is the root of a tree of `n`
 * entries, fr is the root of its first `m` entries.
 */
export function rootsFromPath(m: number, n: number, path: readonly Uint8Array[]): [Uint8Array, Uint8Array] | undefined {
  if (path.length === 0) return undefined;
  // 3. "Set fn to first - 1 and sn to second - 1."
  let fn = m - 1;
  let sn = n - 1;
  // 4. "If LSB(fn) is set, then right-shift both fn and sn equally until LSB(fn) is not
  // set."
  while (fn % 2 === 1) {
    fn = (fn - 1) / 2;
    sn = Math.floor(sn / 2);
  }
  // 5. "Set both fr and sr to the first value in the consistency_path array."
  let fr = path[0]!;
  let sr = fr;
  // 6. "For each subsequent value c in the consistency_path array:"
  for (let i = 1; i < path.length; i++) {
    const c = path[i]!;
    // a. "If sn is 0, then stop the iteration and fail the proof verification."
    if (sn === 0) return undefined;
    // b. "If LSB(fn) is set, or if fn is equal to sn, then:"
    if (fn % 2 === 1 || fn === sn) {
      // i. "Set fr to HASH(0x01 || c || fr)." ii. "Set sr to HASH(0x01 || c || sr)."
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      // iii. "If LSB(fn) is not set, then right-shift both fn and sn equally until either
      // LSB(fn) is set or fn is 0."
      while (fn % 2 === 0 && fn !== 0) {
        fn /= 2;
        sn = Math.floor(sn / 2);
      }
    } else {
      // "Otherwise: Set sr to HASH(0x01 || sr || c)."
      sr = nodeHash(sr, c);
    }
    // c. "Finally, right-shift both fn and sn one time."
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  // 7. "verify that the fr calculated is equal to the first_hash supplied, that the sr
  // calculated is equal to the second_hash supplied, and that sn is 0."
  return sn === 0 ? [fr, sr] : undefined;
}
