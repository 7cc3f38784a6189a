import { rangeHash, type NodeReader } from './node-reader.ts';
import { assertIndex, splitPoint } from './tree-math.ts';

/**
 * The consistency proof between the tree of `m` entries and the tree of `n` entries that
 * extends it: PROOF(m, D_n) of RFC 9162 §2.1.4.1.
 *
 * RFC 9162 §2.1.4.1: "PROOF(m, D_n) = SUBPROOF(m, D_n, true)", where
 * "SUBPROOF(m, D_m, true) = {}", "SUBPROOF(m, D_m, false) = {MTH(D_m)}", and for m < n,
 * "If m <= k, SUBPROOF(m, D_n, b) = SUBPROOF(m, D[0:k], b) : MTH(D[k:n]); if m > k,
 * SUBPROOF(m, D_n, b) = SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k])".
 *
 * Two cases outside 0 < m < n are defined here, both with an empty proof:
 * - `m == n`: a tree is consistent with itself, as SUBPROOF(m, D_m, true) = {} says.
 * - `m == 0`: the empty tree is a prefix of every tree, so consistency from it is
 *   trivially true and needs no hashes ({@link verifyConsistency} then only checks that
 *   the first root is {@link EMPTY_ROOT}).
 *
 * @param reader - reads stored nodes; only nodes inside [0, n) are read.
 * @param m - the earlier tree size.
 * @param n - the later tree size, m <= n.
 * @returns the proof, at most 54 hashes for any safe-integer size.
 * @throws RangeError unless both are safe integers >= 0 and `m <= n`.
 */
export async function consistencyProof(reader: NodeReader, m: number, n: number): Promise<Uint8Array[]> {
  assertIndex('m', m);
  assertIndex('n', n);
  if (m > n) throw new RangeError(`m (${m}) must not exceed n (${n})`);
  return Promise.all(consistencyRanges(m, n).map(([start, end]) => rangeHash(reader, start, end)));
}

/**
 * The ranges [start, end) of the entries whose hashes MTH(D[start:end]) make up PROOF(m, D_n),
 * in the proof's order; empty when m == 0 or m == n. No argument checks: 0 <= m <= n.
 */
export function consistencyRanges(m: number, n: number): Array<[number, number]> {
  if (m === 0 || m === n) return [];
  // SUBPROOF unrolled: [start, end) is the current D_n, `rest` the current m inside it,
  // `whole` the flag b. Ranges are found root first; the RFC lists them deepest first.
  const ranges: Array<[number, number]> = [];
  let start = 0;
  let end = n;
  let rest = m;
  let whole = true;
  while (rest !== end - start) {
    const mid = start + splitPoint(end - start);
    if (start + rest <= mid) {
      ranges.push([mid, end]);
      end = mid;
    } else {
      ranges.push([start, mid]);
      rest -= mid - start;
      start = mid;
      whole = false;
    }
  }
  if (!whole) ranges.push([start, end]);
  return ranges.reverse();
}
