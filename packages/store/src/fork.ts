import { LIMITS } from '@mutual/interface';
import { openTreeHead, type SignedHead, type VerifyFn } from '@mutual/ledger';
import { leafHash, nodeHash, verifyForkPath } from '@mutual/merkle';
import { decodeStrict, pb } from '@mutual/protocol';

/** A verified fork proof: two signed heads of one bank that no append-only log can both have. */
export interface ForkEvidence {
  readonly bank: Uint8Array;
  /** the head of the smaller size (either one when the sizes are equal) */
  readonly first: SignedHead;
  readonly second: SignedHead;
  readonly path: readonly Uint8Array[];
  /** the ForkProof bytes, as checked */
  readonly bytes: Uint8Array;
}

/**
 * Checks a ForkProof (protocol/README.md, "Fork proofs"): at most MAX_FORK_PROOF_BYTES,
 * well-formed, `first` and `second` valid SignedTreeHeads of one bank, 1 <= first size <=
 * second size, and `path` proving their roots inconsistent (`verifyForkPath`). Pure apart
 * from `verify`; undefined when anything is wrong, never throws.
 */
export function checkForkProof(bytes: Uint8Array, verify: VerifyFn): ForkEvidence | undefined {
  if (!(bytes instanceof Uint8Array) || bytes.length > LIMITS.MAX_FORK_PROOF_BYTES) return undefined;
  const p = decodeStrict(pb.ForkProof, bytes);
  if (!p?.first?.length || !p.second?.length) return undefined;
  const path = p.path ?? [];
  if (path.length > LIMITS.MAX_PROOF_HASHES) return undefined;
  const first = openTreeHead(p.first, verify);
  if (!first) return undefined;
  const second = openTreeHead(p.second, verify, first.bank);
  if (!second || first.size > second.size) return undefined;
  if (!verifyForkPath(first.size, second.size, first.root, second.root, path)) return undefined;
  return { bank: first.bank, first, second, path, bytes };
}

/**
 * The ForkProof of two heads of one bank and their fork path (empty for equal sizes); the
 * smaller head goes first. The caller checks the result with {@link checkForkProof}.
 */
export function encodeForkProof(a: SignedHead, b: SignedHead, path: readonly Uint8Array[]): Uint8Array {
  const [first, second] = a.size <= b.size ? [a, b] : [b, a];
  return pb.ForkProof.encode({ first: first.bytes, second: second.bytes, path: [...path] }).finish();
}

/**
 * The hash of the first `m` entries (m a power of two) of a tree, from its entry 0 and the
 * consistency proof from 1 to that tree's size (as a sync GetEntries of entry 0 answers):
 * that proof lists, bottom up, the right siblings of the subtrees [0, 1), [0, 2), [0, 4), …
 * Undefined when the proof is too short. Whether the hash is right is decided by the fork path
 * it enters, which must reproduce the signed root.
 */
export function prefixHash(entry0: Uint8Array, proofFrom1: readonly Uint8Array[], m: number): Uint8Array | undefined {
  let h = leafHash(entry0);
  for (let width = 1, i = 0; width < m; width *= 2, i++) {
    const sibling = proofFrom1[i];
    if (sibling?.length !== 32) return undefined;
    h = nodeHash(h, sibling);
  }
  return h;
}
