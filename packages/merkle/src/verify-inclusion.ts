import { hashesEqual, isHash, nodeHash } from './hash.ts';
import { isProof } from './proof-input.ts';
import { isIndex } from './tree-math.ts';

/**
 * The root that an inclusion proof leads to, by the algorithm of RFC 9162 §2.1.3.2, or
 * undefined when the proof cannot be one for `index` in a tree of `size` entries (wrong
 * length, index not below size, malformed input). Never throws.
 *
 * The tree size is bound only through the root it is compared with: always take `size`
 * and the root from the same signed tree head.
 *
 * @param leafHash - the leaf's hash (32 bytes).
 * @param index - the leaf's index, 0 <= index < size.
 * @param size - the tree size.
 * @param proof - the inclusion path, at most {@link MAX_PROOF_LENGTH} hashes of 32 bytes.
 */
export function rootFromInclusion(
  leafHash: Uint8Array,
  index: number,
  size: number,
  proof: readonly Uint8Array[],
): Uint8Array | undefined {
  if (!isHash(leafHash) || !isIndex(index) || !isIndex(size) || !isProof(proof)) return undefined;
  // 1. "If leaf_index is greater than or equal to tree_size, then fail".
  if (index >= size) return undefined;
  // 2. "Set fn to leaf_index and sn to tree_size - 1." 3. "Set r to hash."
  let fn = index;
  let sn = size - 1;
  let r = leafHash;
  // 4. "For each value p in the inclusion_path array:"
  for (let i = 0; i < proof.length; i++) {
    const p = proof[i]!;
    // a. "If sn is 0, then stop the iteration and fail the proof verification."
    if (sn === 0) return undefined;
    // b. "If LSB(fn) is set, or if fn is equal to sn, then:"
    if (fn % 2 === 1 || fn === sn) {
      // i. "Set r to HASH(0x01 || p || r)."
      r = nodeHash(p, r);
      // ii. "If LSB(fn) is not set, then right-shift both fn and sn equally until either
      // LSB(fn) is set or fn is 0."
      while (fn % 2 === 0 && fn !== 0) {
        fn /= 2;
        sn = Math.floor(sn / 2);
      }
    } else {
      // "Otherwise: Set r to HASH(0x01 || r || p)."
      r = nodeHash(r, p);
    }
    // c. "Finally, right-shift both fn and sn one time."
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  // 5. "Compare sn to 0."
  return sn === 0 ? r : undefined;
}

/**
 * Verifies an inclusion proof, RFC 9162 §2.1.3.2: that the leaf with hash `leafHash` is
 * entry `index` of the tree of `size` entries whose root is `root`. Pure and synchronous;
 * returns false, never throws, on any malformed input.
 *
 * The tree size is bound only through `root`: always take `size` and `root` from the same
 * signed tree head.
 *
 * @param leafHash - the leaf's hash (32 bytes).
 * @param index - the leaf's index.
 * @param size - the tree size.
 * @param proof - the inclusion path, at most {@link MAX_PROOF_LENGTH} hashes of 32 bytes.
 * @param root - the root of the tree of `size` entries (32 bytes).
 */
export function verifyInclusion(
  leafHash: Uint8Array,
  index: number,
  size: number,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  if (!isHash(root)) return false;
  const computed = rootFromInclusion(leafHash, index, size, proof);
  // 5. "Compare r against the root_hash."
  return computed !== undefined && hashesEqual(computed, root);
}
