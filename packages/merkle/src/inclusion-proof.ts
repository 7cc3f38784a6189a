import { rangeHash, type NodeReader } from './node-reader.ts';
import { assertIndex, splitPoint } from './tree-math.ts';

/**
 * The inclusion proof of entry `index` in the tree of `size` entries: PATH(m, D_n) of
 * RFC 9162 §2.1.3.1, sibling hashes from the leaf up to the root.
 *
 * RFC 9162 §2.1.3.1: "If m < k, PATH(m, D_n) = PATH(m, D[0:k]) : MTH(D[k:n]); if m >= k,
 * PATH(m, D_n) = PATH(m - k, D[k:n]) : MTH(D[0:k])", with "PATH(0, {d(0)}) = {}".
 *
 * @param reader - reads stored nodes; only nodes inside [0, size) are read.
 * @param index - the entry, 0 <= index < size.
 * @param size - the tree size the proof is for.
 * @returns the proof, at most 53 hashes for any safe-integer size.
 * @throws RangeError unless both are safe integers >= 0 and `index < size`.
 */
export async function inclusionProof(reader: NodeReader, index: number, size: number): Promise<Uint8Array[]> {
  assertIndex('index', index);
  assertIndex('size', size);
  if (index >= size) throw new RangeError(`index (${index}) must be less than size (${size})`);

  // Walk down from the root; each step contributes the hash of the other half. The RFC
  // lists them from the leaf up, the reverse of the order they are found in.
  const siblings: Promise<Uint8Array>[] = [];
  let start = 0;
  let end = size;
  while (end - start > 1) {
    const mid = start + splitPoint(end - start);
    if (index < mid) {
      siblings.push(rangeHash(reader, mid, end));
      end = mid;
    } else {
      siblings.push(rangeHash(reader, start, mid));
      start = mid;
    }
  }
  return (await Promise.all(siblings)).reverse();
}
