import type { PeerId } from '@libp2p/interface';
import { LIMITS } from '@mutual/interface';
import { openTreeHead, type SignedHead, type VerifyFn } from '@mutual/ledger';
import { pb, toU64, type mutual } from '@mutual/protocol';
import { encodeForkProof, prefixHash, type ReplicaStore } from '@mutual/store';

export interface SyncPeer {
  readonly id: PeerId;
  /** Whether this peer is the bank whose log is caught up (it serves its own newest head). */
  readonly isBank?: boolean;
}

/**
 * Milliseconds a catch-up waits for the other peers' heads once one peer has answered. A peer
 * that takes a request and never answers would otherwise hold every catch-up it is asked in
 * for SYNC_TIMEOUT_MS, and the replica's next catch-up (a new head to follow) behind it.
 */
export const HEAD_ANSWER_GRACE_MS = 1000;

export interface CatchUpDeps {
  /** One sync request to a peer; undefined when the exchange failed. */
  request(peer: SyncPeer, request: Uint8Array): Promise<mutual.v1.SyncResponse | undefined>;
  readonly verify: VerifyFn;
  /** Counts an invalid answer against a peer. */
  strike(peer: SyncPeer, why: string): void;
  readonly signal: AbortSignal;
  /**
   * A verified head of the bank that a peer answered after the catch-up stopped waiting for it
   * (see HEAD_ANSWER_GRACE_MS), recorded already; the catch-up fetches from that peer if the
   * head is ahead, and the caller follows it as any head it learns of.
   */
  late?(head: SignedHead): void;
  /** Default HEAD_ANSWER_GRACE_MS. */
  readonly graceMs?: number;
}

/**
 * Brings the replica of `bank` up to the newest head any of `peers` can serve (a node back
 * from downtime does not know how far the bank has gone: it asks). Every peer is asked for its
 * servable head of the bank at once; each head is verified and recorded as it comes, and from
 * a peer whose head is ahead of the replica come chunks of at most
 * MAX_SYNC_ENTRIES_PER_RESPONSE entries, each proven consistent with that head before it is
 * stored. A peer that answers with something that does not verify is struck and left; the
 * next peer continues where the replica stands, unless the chunk is refused because the
 * peer's tree is not the replica's: then the peer is asked for the fork path between the two
 * heads, and if it proves them inconsistent the bank is marked forked (the peer only served
 * what the bank signed). A bank marked forked is not caught up.
 *
 * The heads are waited for until HEAD_ANSWER_GRACE_MS after the first answer (or until every
 * peer has answered or failed, SYNC_TIMEOUT_MS at most): a peer that does not answer holds
 * the catch-up no longer than that, however many such peers there are. A head that comes
 * later still goes to `deps.late`.
 *
 * With `target` (a head of the bank already verified and recorded, e.g. just gossiped) the
 * bank itself, when it is among `peers`, is asked first for the entries up to `target`,
 * without asking for heads: that is the fast path of every new head. Only if it cannot serve
 * them are the other peers asked as above; the catch-up stops once `target` is reached.
 */
export async function catchUp(bank: Uint8Array, peers: readonly SyncPeer[], replicas: ReplicaStore, deps: CatchUpDeps, target?: SignedHead): Promise<void> {
  const done = () => deps.signal.aborted || replicas.isForked(bank) || (target !== undefined && (replicas.status(bank)?.size ?? 0) >= target.size);
  if (done()) return;
  let others = peers;
  const own = target && peers.find((p) => p.isBank);
  if (target && own) {
    await fetchUpTo(bank, own, target, replicas, deps);
    if (done()) return;
    others = peers.filter((p) => p !== own);
  }
  await fromHeads(bank, others, replicas, deps, done);
}

interface HeadAnswer {
  readonly peer: SyncPeer;
  readonly response: mutual.v1.SyncResponse | undefined;
}

/** Asks every one of `peers` for its head of `bank` at once, and fetches from each head ahead of the replica as it comes (see catchUp). */
async function fromHeads(bank: Uint8Array, peers: readonly SyncPeer[], replicas: ReplicaStore, deps: CatchUpDeps, done: () => boolean): Promise<void> {
  const request = pb.SyncRequest.encode({ getHead: { bank } }).finish();
  const waiting = new Map<SyncPeer, Promise<HeadAnswer>>();
  for (const peer of peers) {
    const asked = deps.request(peer, request).then(
      (response) => ({ peer, response }),
      () => ({ peer, response: undefined }),
    );
    waiting.set(peer, asked);
  }
  let until: number | undefined;
  // Each round takes one answer off `waiting`, or ends the wait: bounded by the peers.
  while (waiting.size > 0 && !done()) {
    const answer = await firstOf([...waiting.values()], until === undefined ? undefined : until - performance.now());
    if (!answer) break;
    waiting.delete(answer.peer);
    until ??= performance.now() + (deps.graceMs ?? HEAD_ANSWER_GRACE_MS);
    const head = openAnswer(bank, answer, deps);
    if (!head) continue;
    await replicas.recordHead(head);
    if (await fetchUpTo(bank, answer.peer, head, replicas, deps)) return;
  }
  // A head that comes after the wait is recorded, handed on, and fetched from the peer that
  // sent it if it is ahead: that peer may be the only one that holds the entries.
  for (const asked of waiting.values()) {
    void asked.then(async (answer) => {
      if (deps.signal.aborted) return;
      const head = openAnswer(bank, answer, deps);
      if (!head) return;
      await replicas.recordHead(head);
      deps.late?.(head);
      if (head.size > (replicas.status(bank)?.size ?? 0) && !done()) await fetchUpTo(bank, answer.peer, head, replicas, deps);
    }).catch(() => {}); // the next catch-up tries again
  }
}

/** The head in a peer's answer to GetHead, verified under `bank`; a head that does not verify is struck. */
function openAnswer(bank: Uint8Array, answer: HeadAnswer, deps: CatchUpDeps): SignedHead | undefined {
  if (!answer.response?.head) return undefined;
  const head = openTreeHead(answer.response.head, deps.verify, bank);
  if (!head) deps.strike(answer.peer, 'a head that does not verify');
  return head;
}

/** The first of `promises` to resolve, or undefined after `ms` (none: no time limit). */
async function firstOf<T>(promises: readonly Promise<T>[], ms: number | undefined): Promise<T | undefined> {
  if (ms === undefined) return Promise.race(promises);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), Math.max(0, ms));
  });
  try {
    return await Promise.race([...promises, timeout]);
  } finally {
    clearTimeout(timer);
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
    if (!r?.entries) break;
    const entries = r.entries.entries ?? [];
    if (entries.length !== count) {
      deps.strike(peer, `asked for ${count} entries, got ${entries.length}`);
      break;
    }
    // The next chunk is asked for while this one is checked and stored.
    next = from + count < head.size ? ask(from + count) : undefined;
    const result = await replicas.append(bank, head.size, from, entries, r.entries.proof ?? []);
    if (result === 'bad-proof' && (await proveFork(bank, peer, head, replicas, deps))) return true;
    if (typeof result === 'string') {
      // Only what the peer sent is its fault: a replica that grew meanwhile (another catch-up)
      // or a head this node no longer holds is this node's state.
      if (result === 'bad-entry' || result === 'bad-proof' || result === 'too-many') deps.strike(peer, `a chunk refused: ${result}`);
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
