import { sha256 } from '@mutual/crypto';

/** Bytes in every hash of the tree: SHA-256, the hash of RFC 9162 §2.1.1. */
export const HASH_BYTES = 32;

// RFC 9162 §2.1.1 prefixes leaves with 0x00 and interior nodes with 0x01 so that no leaf
// can be passed off as an interior node (second-preimage resistance).
const LEAF_PREFIX = new Uint8Array([0x00]);
const NODE_PREFIX = new Uint8Array([0x01]);

/**
 * Root of the tree with no entries, RFC 9162 §2.1.1: "MTH({}) = HASH()", that is
 * SHA-256 of the empty string (e3b0c442...b855). Like every hash here, it is to be treated
 * as immutable.
 */
export const EMPTY_ROOT: Uint8Array = sha256();

/**
 * Hash of one log entry, RFC 9162 §2.1.1: "MTH({d(0)}) = HASH(0x00 || d(0))".
 * @param entry - the exact bytes of the entry.
 * @returns a 32-byte hash.
 */
export function leafHash(entry: Uint8Array): Uint8Array {
  return sha256(LEAF_PREFIX, entry);
}

/**
 * Hash of an interior node, RFC 9162 §2.1.1: "HASH(0x01 || MTH(D[0:k]) || MTH(D[k:n]))".
 * The lengths of `left` and `right` are not checked here (this is the hot path of every
 * append); callers that take hashes from outside check them first.
 * @param left - hash of the left subtree.
 * @param right - hash of the right subtree.
 * @returns a 32-byte hash.
 */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  return sha256(NODE_PREFIX, left, right);
}

/** Whether `value` is a 32-byte hash. Never throws. */
export function isHash(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array && value.length === HASH_BYTES;
}

/** Byte-wise equality of two hashes (public data: no need for constant time). */
export function hashesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
