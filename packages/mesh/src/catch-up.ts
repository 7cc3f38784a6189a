import type { PeerId } from '@libp2p/interface';
import { LIMITS } from '@mutual/interface';
import { openTreeHead, type SignedHead, type VerifyFn } from '@mutual/ledger';
import { pb, toU64, type mutual } from '@mutual/protocol';
import { encodeForkProof, prefixHash, type ReplicaStore } from '@mutual/store';

export interface SyncPeer {
  readonly id: PeerId;
}

export interface CatchUpDeps {
  /** One sync request to a peer; undefined when the exchange failed. */
  request(peer: SyncPeer, request: Uint8Array): Promise<mutual.v1.SyncResponse | undefined>;
  readonly verify: VerifyFn;
  /** Counts an invalid answer against a peer. */
  strike(peer: SyncPeer, why: string): void;
  readonly signal: AbortSignal;
}

/**
 * Brings the replica of `bank` up to the newest head any of `peers` can serve (a node back
 * from downtime does not know how far the bank has gone: it asks). From each peer: its
 * servable head of the bank (verified and recorded), then, if it is ahead, chunks of at most
 * MAX_SYNC_ENTRIES_PER_RESPONSE entries, each proven consistent with that head before it is
 * stored. A peer that answers with something that does not verify is struck and left; the
 * next peer continues where the replica stands, unless the chunk is refused because the
 * peer's tree is not the replica's: then the peer is asked for the fork path between the two
 * heads, and if it proves them inconsistent the bank is marked forked (the peer only served
 * what the bank signed). A bank marked forked is not caught up.
 *
 * With `target` (a head of the bank already verified and recorded, e.g. just gossiped) it asks
 * no peer for heads: it fetches the entries up to `target` from the first peer that can serve
 * them (the bank itself first) and stops there. That is the fast path of every new head.
 */
export async function catchUp(bank: Uint8Array, peers: readonly SyncPeer[], replicas: ReplicaStore, deps: CatchUpDeps, target?: SignedHead): Promise<void> {
  if (target) {
    for (const peer of peers) {
      if (deps.signal.aborted || replicas.isForked(bank) || (replicas.status(bank)?.size ?? 0) >= target.size) return;
      await fetchUpTo(bank, peer, target, replicas, deps);
    }
    return;
  }
  for (const peer of peers) {
    if (deps.signal.aborted || replicas.isForked(bank)) return;
    const res = await deps.request(peer, pb.SyncRequest.encode({ getHead: { bank } }).finish());
    if (!res?.head) continue;
    const head = openTreeHead(res.head, deps.verify, bank);
    if (!head) {
      deps.strike(peer, 'a head that does not verify');
      continue;
    }
    await replicas.recordHead(head);
    if (await fetchUpTo(bank, peer, head, replicas, deps)) return;
  }
}

/**
 * Fetches from `peer` the entries of `bank` between the replica's size and `head` (which the
 * replica holds), one request ahead. Returns true when the bank turned out to be forked.
 */
async function fetchUpTo(bank: Uint8Array, peer: SyncPeer, head: SignedHead, replicas: ReplicaStore, deps: CatchUpDeps): Promise<boolean> {
  let size = replicas.status(bank)?.size ?? 0;
  if (head.size <= size) return false;
  // The next chunk is asked for as soon as one arrives, so that the peer serves it while
  // this node checks and stores the one before (one request ahead). Each round stores a
  // chunk or leaves this peer, so the loop is bounded by the chunks.
  interface Asked {
    readonly from: number;
    readonly count: number;
    readonly response: Promise<mutual.v1.SyncResponse | undefined>;
  }
  const ask = (from: number): Asked => {
    const count = Math.min(LIMITS.MAX_SYNC_ENTRIES_PER_RESPONSE, head.size - from);
    const req = pb.SyncRequest.encode({ getEntries: { bank, from: toU64(BigInt(from)), count, treeSize: toU64(BigInt(head.size)) } }).finish();
    return { from, count, response: deps.request(peer, req) };
  };
  const rounds = Math.ceil((head.size - size) / LIMITS.MAX_SYNC_ENTRIES_PER_RESPONSE);
  let next: Asked | undefined = ask(size);
  for (let i = 0; i < rounds && next && !deps.signal.aborted; i++) {
    const asked: Asked = next;
    const { from, count } = asked;
    const r: mutual.v1.SyncResponse | undefined = await asked.response;
    next = r?.entries && from + count < head.size ? ask(from + count) : undefined;
    if (!r?.entries) break;
    const entries = r.entries.entries ?? [];
    if (entries.length !== count) {
      deps.strike(peer, `asked for ${count} entries, got ${entries.length}`);
      break;
    }
    const result = await replicas.append(bank, head.size, from, entries, r.entries.proof ?? []);
    if (result === 'bad-proof' && (await proveFork(bank, peer, head, replicas, deps))) return true;
    if (typeof result === 'string') {
      deps.strike(peer, `a chunk refused: ${result}`);
      break;
    }
    size = result;
  }
  // A request still in flight after a failure is left to finish on its own (it never throws).
  return false;
}

const isPowerOfTwo = (n: number) => n >= 1 && 2 ** Math.round(Math.log2(n)) === n;

/**
 * Asks `peer` for the fork path between the latest held head within the verified replica
 * (size m) and `head` (size n > m), which the peer serves: the consistency proof from m to n,
 * and, when m is a power of two, entry 0 with its proof from 1 to n (from which the hash of
 * the peer's first m entries follows). Records the fork proof if it holds. Returns whether the
 * bank is now marked forked.
 */
async function proveFork(bank: Uint8Array, peer: SyncPeer, head: SignedHead, replicas: ReplicaStore, deps: CatchUpDeps): Promise<boolean> {
  const held = await replicas.servableHead(bank);
  if (!held || held.size >= head.size) return false;
  const m = toU64(BigInt(held.size));
  const n = toU64(BigInt(head.size));
  const c = await deps.request(peer, pb.SyncRequest.encode({ getConsistency: { bank, fromSize: m, toSize: n } }).finish());
  const proof = c?.consistency?.path;
  if (!proof) return false;
  let path = proof;
  if (isPowerOfTwo(held.size)) {
    const r = await deps.request(peer, pb.SyncRequest.encode({ getEntries: { bank, from: toU64(0n), count: 1, treeSize: n } }).finish());
    const e0 = r?.entries?.entries?.[0];
    const first = e0 && prefixHash(e0, r.entries?.proof ?? [], held.size);
    if (!first) return false;
    path = [first, ...proof];
  }
  if (path.length > LIMITS.MAX_PROOF_HASHES) return false;
  await replicas.recordFork(encodeForkProof(held, head, path));
  return replicas.isForked(bank);
}
