import type { PeerId } from '@libp2p/interface';
import { LIMITS } from '@mutual/interface';
import { openTreeHead, type VerifyFn } from '@mutual/ledger';
import { pb, toU64, type mutual } from '@mutual/protocol';
import type { ReplicaStore } from '@mutual/store';

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
 * servable head of the bank (verified and recorded), then, if it is ahead, chunks of at most MAX_SYNC_ENTRIES_PER_RESPONSE entries, each proven consistent with
 * that head before it is stored. A peer that answers with something that does not verify is
 * struck and left; the next peer continues where the replica stands.
 */
export async function catchUp(bank: Uint8Array, peers: readonly SyncPeer[], replicas: ReplicaStore, deps: CatchUpDeps): Promise<void> {
  for (const peer of peers) {
    if (deps.signal.aborted) return;
    const res = await deps.request(peer, pb.SyncRequest.encode({ getHead: { bank } }).finish());
    if (!res?.head) continue;
    const head = openTreeHead(res.head, deps.verify, bank);
    if (!head) {
      deps.strike(peer, 'a head that does not verify');
      continue;
    }
    await replicas.recordHead(head);
    let size = replicas.status(bank)?.size ?? 0;
    if (head.size <= size) continue;
    // Each round stores a chunk or leaves this peer, so the loop is bounded by the chunks.
    const rounds = Math.ceil((head.size - size) / LIMITS.MAX_SYNC_ENTRIES_PER_RESPONSE);
    for (let i = 0; i < rounds && size < head.size && !deps.signal.aborted; i++) {
      const count = Math.min(LIMITS.MAX_SYNC_ENTRIES_PER_RESPONSE, head.size - size);
      const req = pb.SyncRequest.encode({ getEntries: { bank, from: toU64(BigInt(size)), count, treeSize: toU64(BigInt(head.size)) } }).finish();
      const r = await deps.request(peer, req);
      if (!r?.entries) break;
      const entries = r.entries.entries ?? [];
      if (entries.length !== count) {
        deps.strike(peer, `asked for ${count} entries, got ${entries.length}`);
        break;
      }
      const result = await replicas.append(bank, head.size, size, entries, r.entries.proof ?? []);
      if (typeof result === 'string') {
        deps.strike(peer, `a chunk refused: ${result}`);
        break;
      }
      size = result;
    }
  }
}
