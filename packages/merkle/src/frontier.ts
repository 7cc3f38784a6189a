import { EMPTY_ROOT, HASH_BYTES, isHash, nodeHash } from './hash.ts';
import type { NodeReader } from './node-reader.ts';
import { assertIndex, setBitLevels } from './tree-math.ts';

/**
 * A stored node: the hash of the complete, aligned subtree that covers leaves
 * [index * 2^level, (index + 1) * 2^level). Level 0 is the leaf hashes.
 */
export interface MerkleNode {
  readonly level: number;
  readonly index: number;
  readonly hash: Uint8Array;
}

/**
 * The right edge of a growing tree (its "compact range" over [0, size)): the hashes of the
 * maximal complete subtrees that cover [0, size), one per set bit of `size`. This is all
 * that appending needs, and it gives the root of the current size.
 *
 * Appending a leaf completes the leaf itself and then one parent for each trailing set bit
 * of the old size; {@link Frontier.append} returns exactly those nodes so that the caller
 * can store every complete aligned subtree, which is what proofs are built from.
 *
 * Hashes given to and returned by a frontier are shared, not copied: treat them as
 * immutable.
 */
export class Frontier {
  #size: number;
  /** #levels[L] is the complete subtree of 2^L leaves on the right edge, if bit L of #size is set. */
  readonly #levels: (Uint8Array | undefined)[];
  #root: Uint8Array | undefined;

  /**
   * A frontier restored from {@link Frontier.hashes} (or empty, with no arguments).
   * @param size - the tree size, a safe integer >= 0.
   * @param hashes - the hashes of the maximal complete subtrees covering [0, size), left to
   *   right: popcount(size) hashes of 32 bytes.
   * @throws RangeError if `size` is not a safe integer >= 0 or the count does not match.
   * @throws TypeError if a hash is not 32 bytes.
   */
  constructor(size = 0, hashes: readonly Uint8Array[] = []) {
    assertIndex('size', size);
    const levels = setBitLevels(size);
    if (hashes.length !== levels.length) {
      throw new RangeError(`a tree of size ${size} has ${levels.length} frontier hashes, got ${hashes.length}`);
    }
    this.#size = size;
    this.#levels = [];
    // Left to right is the highest level first.
    for (let i = 0; i < levels.length; i++) {
      const hash = hashes[hashes.length - 1 - i];
      if (!isHash(hash)) throw new TypeError(`frontier hash ${hashes.length - 1 - i} is not ${HASH_BYTES} bytes`);
      this.#levels[levels[i]!] = hash;
    }
    this.#root = undefined;
  }

  /**
   * Rebuilds the frontier of a tree of `size` entries from its stored nodes.
   * @param size - the tree size, a safe integer >= 0.
   * @param getNode - reads stored nodes; reads popcount(size) of them.
   * @throws RangeError if `size` is not a safe integer >= 0.
   * @throws TypeError if the reader returns something other than a 32-byte hash.
   */
  static async fromNodes(size: number, getNode: NodeReader): Promise<Frontier> {
    assertIndex('size', size);
    const reads: (Uint8Array | Promise<Uint8Array>)[] = [];
    let start = 0;
    for (const level of setBitLevels(size).reverse()) {
      const width = 2 ** level;
      reads.push(getNode(level, start / width));
      start += width;
    }
    return new Frontier(size, await Promise.all(reads));
  }

  /** The number of leaves appended so far. */
  get size(): number {
    return this.#size;
  }

  /**
   * Appends one leaf.
   * @param leafHash - the leaf's hash, {@link leafHash} of the entry (32 bytes).
   * @returns every node this leaf completes, lowest first: the leaf at level 0, then each
   *   parent it completes. Storing these after every append stores every complete,
   *   aligned subtree.
   * @throws TypeError if `leafHash` is not 32 bytes.
   * @throws RangeError if the tree already holds Number.MAX_SAFE_INTEGER leaves.
   */
  append(leafHash: Uint8Array): MerkleNode[] {
    if (!isHash(leafHash)) throw new TypeError(`a leaf hash is ${HASH_BYTES} bytes`);
    if (this.#size === Number.MAX_SAFE_INTEGER) throw new RangeError('the tree is full');
    let index = this.#size;
    let level = 0;
    let hash = leafHash;
    const completed: MerkleNode[] = [{ level, index, hash }];
    // An odd index is a right child: its left sibling is the frontier hash at this level,
    // and together they complete their parent (one nodeHash per completed parent).
    while (index % 2 === 1) {
      hash = nodeHash(this.#levels[level]!, hash);
      this.#levels[level] = undefined;
      level++;
      index = (index - 1) / 2;
      completed.push({ level, index, hash });
    }
    this.#levels[level] = hash;
    this.#size++;
    this.#root = undefined;
    return completed;
  }

  /**
   * The root of the current tree, MTH(D[0:size]) of RFC 9162 §2.1.1, or
   * {@link EMPTY_ROOT} when empty. Computed on demand and cached until the next append.
   */
  root(): Uint8Array {
    if (this.#root === undefined) this.#root = this.#computeRoot();
    return this.#root;
  }

  #computeRoot(): Uint8Array {
    // RFC 9162 §2.1.1 splits off the largest power of two on the left, again and again, so
    // the root folds the frontier from its smallest (rightmost) subtree leftwards.
    let root: Uint8Array | undefined;
    for (const hash of this.#levels) {
      if (hash !== undefined) root = root === undefined ? hash : nodeHash(hash, root);
    }
    return root ?? EMPTY_ROOT;
  }

  /**
   * The hashes of the maximal complete subtrees covering [0, size), left to right
   * (popcount(size) of them): with {@link Frontier.size}, what to persist to restore this
   * frontier with `new Frontier(size, hashes)`.
   */
  hashes(): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (let level = this.#levels.length - 1; level >= 0; level--) {
      const hash = this.#levels[level];
      if (hash !== undefined) out.push(hash);
    }
    return out;
  }
}
