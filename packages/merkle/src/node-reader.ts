import { EMPTY_ROOT, isHash, nodeHash } from './hash.ts';
import { assertIndex, isPowerOfTwo, levelOf, splitPoint } from './tree-math.ts';

/**
 * Reads one stored node: the hash of the complete, aligned subtree at `level` and
 * `index`, which covers leaves [index * 2^level, (index + 1) * 2^level). Level 0 holds the
 * leaf hashes. Such a node never changes once the log has grown past its last leaf, so
 * one store answers for every past tree size.
 *
 * The functions of this package only ask for nodes that lie wholly inside the tree size
 * they were given. A reader should throw (or reject) when it does not have the node.
 */
export type NodeReader = (level: number, index: number) => Uint8Array | Promise<Uint8Array>;

/** Reads a node and checks that the store gave back a hash. */
async function readNode(reader: NodeReader, level: number, index: number): Promise<Uint8Array> {
  const hash = await reader(level, index);
  if (!isHash(hash)) {
    throw new TypeError(`the node reader returned no 32-byte hash for node (${level}, ${index})`);
  }
  return hash;
}

/**
 * MTH(D[start:end]) for 1 <= end - start, without argument checks.
 *
 * Follows the recursive definition of RFC 9162 §2.1.1 ("MTH(D_n) = HASH(0x01 ||
 * MTH(D[0:k]) || MTH(D[k:n]))", k the largest power of two < n) applied to the sub-list,
 * and stops as soon as a part is a stored node: a perfect subtree whose start is a
 * multiple of its size.
 *
 * Every range that RFC 9162 proofs ask for starts at a multiple of a power of two at least
 * its length (a left part [s, s+k) of a split of [s, e) is then aligned, and the right part
 * [s+k, e) keeps the property), so it costs one read per set bit of its length. Other ranges
 * are still computed correctly, from smaller nodes, down to single leaves at worst.
 */
export async function rangeHash(reader: NodeReader, start: number, end: number): Promise<Uint8Array> {
  const n = end - start;
  if (n === 1) return readNode(reader, 0, start);
  if (isPowerOfTwo(n) && start % n === 0) return readNode(reader, levelOf(n), start / n);
  const mid = start + splitPoint(n);
  const [left, right] = await Promise.all([rangeHash(reader, start, mid), rangeHash(reader, mid, end)]);
  return nodeHash(left, right);
}

/**
 * The Merkle Tree Hash of the entries [start, end), MTH(D[start:end]) of RFC 9162 §2.1.1,
 * computed from stored complete-subtree nodes.
 *
 * For the ranges that occur in RFC 9162 proofs and tree heads (`start` a multiple of a
 * power of two at least `end - start`, such as any [0, size)) this reads one node per set
 * bit of `end - start`. Any other range is still correct but may read down to the leaves.
 *
 * @param reader - reads stored nodes.
 * @param start - first entry, inclusive.
 * @param end - last entry, exclusive; `end == start` gives {@link EMPTY_ROOT}.
 * @returns the 32-byte hash.
 * @throws RangeError if `start` or `end` is not a safe integer >= 0 or `start > end`.
 */
export async function subtreeHash(reader: NodeReader, start: number, end: number): Promise<Uint8Array> {
  assertIndex('start', start);
  assertIndex('end', end);
  if (start > end) throw new RangeError(`start (${start}) is after end (${end})`);
  if (start === end) return EMPTY_ROOT;
  return rangeHash(reader, start, end);
}

/**
 * The hash of a perfect tree over `leaves` (their leaf hashes, a power of two of them).
 * @throws RangeError if the count is not a power of two.
 */
export function perfectTreeHash(leaves: readonly Uint8Array[]): Uint8Array {
  if (!isPowerOfTwo(leaves.length)) throw new RangeError(`a perfect tree has a power of two of leaves, not ${leaves.length}`);
  let level = leaves;
  while (level.length > 1) {
    const up: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2) up.push(nodeHash(level[i]!, level[i + 1]!));
    level = up;
  }
  return level[0]!;
}

/**
 * Reads the leaf hashes of entries [start, end) of a log, in order (a reader should throw or
 * reject when it does not have one).
 */
export type LeafReader = (start: number, end: number) => readonly Uint8Array[] | Promise<readonly Uint8Array[]>;

/**
 * A node reader for a store that keeps only the nodes of level `lowest` and above: a node
 * below is derived from the leaves it covers (at most 2^(lowest-1) of them). Storing from
 * level 4 up writes about one node per 16 entries instead of two per entry, for at most 8
 * leaf reads per derived node.
 * @param stored - reads the stored nodes; asked only for levels >= `lowest`.
 * @param leaves - reads leaf hashes.
 * @param lowest - the lowest stored level, an integer >= 0.
 */
export function withDerivedLevels(stored: NodeReader, leaves: LeafReader, lowest: number): NodeReader {
  if (!Number.isInteger(lowest) || lowest < 0 || lowest > 32) throw new RangeError(`the lowest stored level must be an integer in [0, 32], not ${lowest}`);
  return async (level, index) => {
    if (level >= lowest) return stored(level, index);
    const width = 2 ** level;
    const hashes = await leaves(index * width, (index + 1) * width);
    if (hashes.length !== width || !hashes.every(isHash)) {
      throw new TypeError(`the leaf reader gave no ${width} hashes of 32 bytes for node (${level}, ${index})`);
    }
    return perfectTreeHash(hashes);
  };
}
