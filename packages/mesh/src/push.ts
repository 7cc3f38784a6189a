import { LIMITS } from '@mutual/interface';
import { bytesEqual, openTreeHead, type SignedHead, type VerifyFn } from '@mutual/ledger';
import { leafHash, rootFromInclusion } from '@mutual/merkle';
import { decodeStrict, pb, toU64, u64 } from '@mutual/protocol';
import { isEntryOf } from '@mutual/store';

/** One entry of a bank's log, as a push or a replica delivers it. */
export interface IndexedEntry {
  readonly index: number;
  /** the Entry bytes, as signed into the bank's tree */
  readonly bytes: Uint8Array;
}

/** A push that verified: entries of `head.bank`'s log, each proven included in `head`. */
export interface CheckedPush {
  readonly head: SignedHead;
  readonly entries: readonly IndexedEntry[];
}

/**
 * Encodes a Push: `entries` of the bank's log (indexes increasing, at most MAX_PUSH_ENTRIES),
 * each with its inclusion proof in the tree of `head`, in the same order.
 */
export function encodePush(head: SignedHead, entries: readonly IndexedEntry[], proofs: readonly (readonly Uint8Array[])[]): Uint8Array {
  return pb.Push.encode({
    head: head.bytes,
    entries: entries.map((e, i) => ({ index: toU64(BigInt(e.index)), entry: e.bytes, proof: [...proofs[i]!] })),
  }).finish();
}

/**
 * Checks a push received from the bank whose key is `sender` (the connection's peer key, which
 * the noise handshake proved): strict decoding; a head of `sender` whose signature verifies;
 * 1 to MAX_PUSH_ENTRIES entries in increasing index order, each below the head's size, a
 * well-formed Entry of its index, and proven included in the head's tree. Returns the reason
 * when it is refused; nothing is stored either way.
 */
export function checkPush(bytes: Uint8Array, sender: Uint8Array, verify: VerifyFn): CheckedPush | string {
  const p = decodeStrict(pb.Push, bytes);
  if (!p) return 'not a well-formed Push';
  const list = p.entries ?? [];
  if (list.length < 1 || list.length > LIMITS.MAX_PUSH_ENTRIES) return `${list.length} entries in one push (1 to ${LIMITS.MAX_PUSH_ENTRIES})`;
  const head = p.head ? openTreeHead(p.head, verify) : undefined;
  if (!head) return 'the head does not verify';
  if (!bytesEqual(head.bank, sender)) return 'the head is not of the bank that sent it';
  const entries: IndexedEntry[] = [];
  let last = -1;
  for (const e of list) {
    const index = u64(e.index);
    if (index >= BigInt(head.size) || Number(index) <= last) return 'entry indexes must increase and be below the head size';
    const bytes = e.entry ?? new Uint8Array(0);
    if (!isEntryOf(head.bank, Number(index), bytes)) return `entry ${index} is not a well-formed entry of its index`;
    const proof = e.proof ?? [];
    if (proof.length > LIMITS.MAX_PROOF_HASHES) return `entry ${index}: a proof of ${proof.length} hashes`;
    const root = rootFromInclusion(leafHash(bytes), Number(index), head.size, proof);
    if (!root || !bytesEqual(root, head.root)) return `entry ${index} is not proven included in the head`;
    last = Number(index);
    entries.push({ index: last, bytes });
  }
  return { head, entries };
}
