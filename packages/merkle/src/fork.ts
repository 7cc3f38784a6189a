import { hashesEqual, isHash } from './hash.ts';
import { consistencyProof, consistencyRanges } from './consistency-proof.ts';
import { nodeHash } from './hash.ts';
import { rangeHash, type NodeReader } from './node-reader.ts';
import { isProof } from './proof-input.ts';
import { assertIndex, isIndex, isPowerOfTwo, splitPoint } from './tree-math.ts';
import { rootsFromPath } from './verify-consistency.ts';

/**
 * Whether two roots of one log, `rootM` at size `m` and `rootN` at size `n`, are proven
 * inconsistent: no append-only log can have both. Pure and synchronous; false, never throws,
 * on any malformed input.
 *
 * - `m == n` (1 or more): the path is empty and the roots differ.
 * - `1 <= m < n`: `path` is a fork path (see {@link forkPath}): the consistency path of
 *   RFC 9162 §2.1.4.1 from `m` to `n`, preceded, when `m` is a power of two, by the hash of
 *   the first `m` entries of the tree of `n` (the standard proof omits it, being the first
 *   root). Steps 3 to 7 of RFC 9162 §2.1.4.2 run over it must yield `rootN` for the tree of
 *   `n` entries and, for its first `m` entries, a root that is not `rootM`.
 *
 * The sizes are bound only through the roots: take each size and its root from one signed
 * tree head.
 */
export function verifyForkPath(m: number, n: number, rootM: Uint8Array, rootN: Uint8Array, path: readonly Uint8Array[]): boolean {
  if (!isIndex(m) || !isIndex(n) || m < 1 || m > n || !isHash(rootM) || !isHash(rootN) || !isProof(path)) return false;
  if (m === n) return path.length === 0 && !hashesEqual(rootM, rootN);
  const roots = rootsFromPath(m, n, path);
  return roots !== undefined && hashesEqual(roots[1], rootN) && !hashesEqual(roots[0], rootM);
}

/**
 * The fork path from the tree of `m` entries to the tree of `n` entries, from stored nodes:
 * the consistency proof of RFC 9162 §2.1.4.1, with MTH(D[0:m]) prepended when `m` is a power
 * of two. For a tree whose first `m` entries have another root than a head of size `m`, it
 * is what {@link verifyForkPath} checks. Empty when m == n.
 *
 * @throws RangeError unless 1 <= m <= n are safe integers.
 */
export async function forkPath(reader: NodeReader, m: number, n: number): Promise<Uint8Array[]> {
  assertIndex('m', m);
  assertIndex('n', n);
  if (m < 1 || m > n) throw new RangeError(`sizes must satisfy 1 <= m (${m}) <= n (${n})`);
  if (m === n) return [];
  const proof = await consistencyProof(reader, m, n);
  return isPowerOfTwo(m) ? [await rangeHash(reader, 0, m), ...proof] : proof;
}

/**
 * A fork path made from a standard consistency proof: `proof` from `m` to `n`, and, when `m` is
 * a power of two, `firstHash`, the hash of the first `m` entries of the tree of `n` as its
 * holder has it (undefined otherwise, or when not known).
 */
export function toForkPath(m: number, proof: readonly Uint8Array[], firstHash: Uint8Array | undefined): Uint8Array[] | undefined {
  if (!isPowerOfTwo(m)) return [...proof];
  return firstHash === undefined ? undefined : [firstHash, ...proof];
}

/**
 * The fork path from `m` to `n` (as {@link forkPath} makes it) for a tree of which `reader`
 * holds only the first `size` entries (1 <= m <= size <= n), given `proof`, a verified
 * consistency proof from `size` to the tree of `n` entries: what a replica that has verified
 * its first `size` entries against a head of size `n` can prove about a head of size `m`.
 *
 * The hashes of the proof's ranges that lie beyond `size` are the subtrees the path from
 * `size` passes on the right; every range the path from `m` needs is held by `reader`, one of
 * those, or made of both (it then straddles `size`, and so lies on the path from `size`).
 * Undefined when `proof` does not have the length PROOF(size, D_n) has.
 */
export async function forkPathBeyond(reader: NodeReader, m: number, size: number, n: number, proof: readonly Uint8Array[]): Promise<Uint8Array[] | undefined> {
  assertIndex('m', m);
  assertIndex('size', size);
  assertIndex('n', n);
  if (m < 1 || m > size || size > n) throw new RangeError(`sizes must satisfy 1 <= m (${m}) <= size (${size}) <= n (${n})`);
  if (m === n) return [];
  const beyond = new Map<string, Uint8Array>();
  const ranges = consistencyRanges(size, n);
  if (ranges.length !== proof.length) return undefined;
  ranges.forEach(([start, end], i) => {
    if (start >= size) beyond.set(`${start}-${end}`, proof[i]!);
  });
  const hash = async (start: number, end: number): Promise<Uint8Array | undefined> => {
    if (end <= size) return rangeHash(reader, start, end);
    const given = beyond.get(`${start}-${end}`);
    if (given || start >= size) return given;
    const mid = start + splitPoint(end - start);
    const [left, right] = await Promise.all([hash(start, mid), hash(mid, end)]);
    return left && right && nodeHash(left, right);
  };
  const needed = consistencyRanges(m, n);
  // A power-of-two `m` is the first hash of the path, which a consistency proof leaves out.
  if (isPowerOfTwo(m)) needed.unshift([0, m]);
  const path: Uint8Array[] = [];
  for (const [start, end] of needed) {
    const h = await hash(start, end);
    if (!h) return undefined;
    path.push(h);
  }
  return path;
}
