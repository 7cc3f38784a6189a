import { LIMITS, MutualError } from '@mutual/interface';
import { bytesEqual, openTreeHead, type SignedHead, type VerifyFn } from '@mutual/ledger';
import { consistencyProof, Frontier, leafHash, verifyConsistency, type NodeReader } from '@mutual/merkle';
import { decodeStrict, pb, u64 } from '@mutual/protocol';
import type { Level } from 'level';
import { corrupt } from './errors.ts';
import { decodeU64, encodeU64, keys } from './keys.ts';
import { KEYSPACES } from './keyspaces.ts';
import { replicaKeys } from './replica-keys.ts';

/** What this node holds of another bank's log. */
export interface ReplicaStatus {
  readonly bank: Uint8Array;
  /** Entries [0, size) are stored and verified against a signed head of this bank. */
  readonly size: number;
  /** The latest signed head of the bank this node holds (it may be ahead of `size`). */
  readonly head: SignedHead | undefined;
}

/** Why a chunk of entries was refused; nothing was stored. */
export type ChunkProblem =
  | 'unknown-head'
  | 'not-contiguous'
  | 'too-many'
  | 'bad-entry'
  | 'bad-proof';

interface Replica {
  size: number;
  head: SignedHead | undefined;
  /** Loaded on first append, then kept in step with `size`. */
  frontier: Frontier | undefined;
  /** Appends to one replica run one at a time. */
  lock: Promise<unknown>;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Called after a chunk of another bank's entries is durably appended to its replica. */
export type ReplicaListener = (bank: Uint8Array, from: number, entries: readonly Uint8Array[]) => void;

/**
 * Verified replicas of other banks' logs, in the ledger's LevelDB under their own keyspaces
 * (`replica*` in keyspaces.ts). A replica grows only by chunks of entries that, appended to
 * its Merkle frontier, are proven consistent with a signed head of that bank; every write is
 * one synced batch, so a restart resumes from the stored frontier.
 */
export class ReplicaStore {
  readonly #db: Level<Uint8Array, Uint8Array>;
  readonly #verify: VerifyFn;
  readonly #replicas = new Map<string, Replica>();
  readonly #listeners = new Set<ReplicaListener>();

  private constructor(db: Level<Uint8Array, Uint8Array>, verify: VerifyFn) {
    this.#db = db;
    this.#verify = verify;
  }

  /**
   * Loads the status of every replica from `db` (the ledger's, `LedgerStore.db`). Each head is
   * checked again with `verify`. Throws MutualError DB_CORRUPT when a record is unreadable.
   */
  static async open(db: Level<Uint8Array, Uint8Array>, verify: VerifyFn): Promise<ReplicaStore> {
    const store = new ReplicaStore(db, verify);
    for await (const [k, v] of db.iterator(keys.range(KEYSPACES.replicaMeta))) {
      const bank = k.subarray(1);
      if (bank.length !== 32 || v.length !== 8) throw corrupt('a replica record is unreadable');
      const size = Number(decodeU64(v));
      const head = await store.#latestHead(bank);
      if (size > 0 && (head === undefined || head.size < size)) throw corrupt(`the replica of ${hex(bank)} has no signed head covering it`);
      store.#replicas.set(hex(bank), { size, head, frontier: undefined, lock: Promise.resolve() });
    }
    return store;
  }

  /** Calls `listener` after every chunk appended to any replica. Returns the function that unsubscribes. */
  subscribe(listener: ReplicaListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Every replica, in no particular order. */
  list(): ReplicaStatus[] {
    return [...this.#replicas.entries()].map(([h, r]) => ({ bank: Buffer.from(h, 'hex'), size: r.size, head: r.head }));
  }

  status(bank: Uint8Array): ReplicaStatus | undefined {
    const r = this.#replicas.get(hex(bank));
    return r && { bank, size: r.size, head: r.head };
  }

  /**
   * Records a signed head of another bank; its signature is checked here again. Any head
   * not yet held is stored (an older one too: a peer may be able to serve only up to it).
   * Returns true when it is newer than the latest held. A head of a size already held is not
   * stored again; if its root differs it is evidence of a fork, which a later layer keeps.
   */
  async recordHead(head: SignedHead): Promise<boolean> {
    const checked = openTreeHead(head.bytes, this.#verify, head.bank);
    if (!checked) return false;
    const r = this.#replica(checked.bank);
    if (r.head !== undefined && checked.size === r.head.size) return false;
    const existing = await this.#db.get(replicaKeys.head(checked.bank, checked.size));
    if (existing !== undefined) return false;
    await this.#db.batch(
      [
        { type: 'put', key: replicaKeys.head(checked.bank, checked.size), value: checked.bytes },
        { type: 'put', key: replicaKeys.meta(checked.bank), value: encodeU64(r.size) },
      ],
      { sync: true },
    );
    if (r.head === undefined || checked.size > r.head.size) {
      r.head = checked;
      return true;
    }
    return false;
  }

  /**
   * The latest head of `bank` this replica can prove entries against: the largest held head
   * whose size is at most the verified size (what this node serves to others).
   */
  async servableHead(bank: Uint8Array): Promise<SignedHead | undefined> {
    const r = this.#replicas.get(hex(bank));
    if (!r || r.size === 0) return undefined;
    const { gte } = replicaKeys.heads(bank);
    for await (const v of this.#db.values({ gte, lt: replicaKeys.head(bank, r.size + 1), reverse: true, limit: 1 })) {
      return openTreeHead(v, this.#verify, bank);
    }
    return undefined;
  }

  /** The head of `bank` held for `size`, if any. */
  async headAt(bank: Uint8Array, size: number): Promise<SignedHead | undefined> {
    const v = await this.#db.get(replicaKeys.head(bank, size));
    return v === undefined ? undefined : openTreeHead(v, this.#verify, bank);
  }

  /**
   * Appends entries [from, from + entries.length) to the replica of `bank`, having checked
   * that each decodes strictly as the Entry of its index and that, with them, the tree is
   * consistent with the held head of `treeSize` entries by `proof` (RFC 9162). Returns the
   * new verified size, or the problem (nothing stored).
   */
  append(bank: Uint8Array, treeSize: number, from: number, entries: readonly Uint8Array[], proof: readonly Uint8Array[]): Promise<number | ChunkProblem> {
    const r = this.#replica(bank);
    const run = r.lock.then(() => this.#append(bank, r, treeSize, from, entries, proof));
    r.lock = run.catch(() => {});
    return run;
  }

  async #append(bank: Uint8Array, r: Replica, treeSize: number, from: number, entries: readonly Uint8Array[], proof: readonly Uint8Array[]): Promise<number | ChunkProblem> {
    if (from !== r.size) return 'not-contiguous';
    if (entries.length === 0 || entries.length > LIMITS.MAX_SYNC_ENTRIES_PER_RESPONSE) return 'too-many';
    const end = from + entries.length;
    if (end > treeSize || proof.length > LIMITS.MAX_PROOF_HASHES) return 'bad-proof';
    const head = await this.headAt(bank, treeSize);
    if (!head) return 'unknown-head';
    for (let i = 0; i < entries.length; i++) if (!isEntryOf(bank, from + i, entries[i]!)) return 'bad-entry';

    r.frontier ??= await Frontier.fromNodes(r.size, this.#nodeReader(bank));
    const frontier = new Frontier(r.frontier.size, r.frontier.hashes());
    const ops: { type: 'put'; key: Uint8Array; value: Uint8Array }[] = [];
    entries.forEach((e, i) => {
      ops.push({ type: 'put', key: replicaKeys.entry(bank, from + i), value: e });
      for (const n of frontier.append(leafHash(e))) ops.push({ type: 'put', key: replicaKeys.node(bank, n.level, n.index), value: n.hash });
    });
    const ok = end === treeSize ? bytesEqual(frontier.root(), head.root) && proof.length === 0 : verifyConsistency(end, treeSize, frontier.root(), head.root, proof);
    if (!ok) return 'bad-proof';
    ops.push({ type: 'put', key: replicaKeys.meta(bank), value: encodeU64(end) });
    await this.#db.batch(ops, { sync: true });
    r.frontier = frontier;
    r.size = end;
    for (const l of this.#listeners) {
      try {
        l(bank, from, entries);
      } catch {
        // A listener's failure is its own: the chunk is stored.
      }
    }
    return end;
  }

  /** Verified entries [from, to) of `bank`'s replica (fewer when `to` is past its size). */
  async getEntries(bank: Uint8Array, from: number, to: number): Promise<Uint8Array[]> {
    const r = this.#replicas.get(hex(bank));
    const end = Math.min(to, r?.size ?? 0);
    const out: Uint8Array[] = [];
    if (from >= end) return out;
    for await (const v of this.#db.values({ gte: replicaKeys.entry(bank, from), lt: replicaKeys.entry(bank, end) })) out.push(v);
    if (out.length !== end - from) throw corrupt(`replica entries of ${hex(bank)} between ${from} and ${end} are missing`);
    return out;
  }

  /** RFC 9162 consistency proof between the trees of `from` and `to` entries of a replica. */
  async consistencyProof(bank: Uint8Array, from: number, to: number): Promise<Uint8Array[]> {
    const size = this.#replicas.get(hex(bank))?.size ?? 0;
    if (!(from >= 1 && from <= to && to <= size)) throw new MutualError('INVALID_RANGE', `sizes must satisfy 1 <= from <= to <= ${size}`);
    return consistencyProof(this.#nodeReader(bank), from, to);
  }

  #replica(bank: Uint8Array): Replica {
    const key = hex(bank);
    let r = this.#replicas.get(key);
    if (!r) {
      r = { size: 0, head: undefined, frontier: undefined, lock: Promise.resolve() };
      this.#replicas.set(key, r);
    }
    return r;
  }

  async #latestHead(bank: Uint8Array): Promise<SignedHead | undefined> {
    for await (const v of this.#db.values({ ...replicaKeys.heads(bank), reverse: true, limit: 1 })) {
      const head = openTreeHead(v, this.#verify, bank);
      if (!head) throw corrupt(`the latest head of the replica of ${hex(bank)} does not verify`);
      return head;
    }
    return undefined;
  }

  #nodeReader(bank: Uint8Array): NodeReader {
    return async (level, index) => {
      const v = await this.#db.get(replicaKeys.node(bank, level, index));
      if (!v || v.length !== 32) throw corrupt(`Merkle node (level ${level}, index ${index}) of a replica is missing`);
      return v;
    };
  }
}

/**
 * Whether `bytes` are a well-formed Entry at `index` of `bank`'s log: strict decoding, the
 * index, the size bound, and a genesis that names the bank at index 0. The ledger rules are
 * replayed by an audit, not here: the bank signed the tree, so the chunk is the bank's word.
 */
function isEntryOf(bank: Uint8Array, index: number, bytes: Uint8Array): boolean {
  if (bytes.length > LIMITS.MAX_ENTRY_BYTES) return false;
  const e = decodeStrict(pb.Entry, bytes);
  if (!e || u64(e.index) !== BigInt(index)) return false;
  if (index === 0) return e.genesis?.bank != null && bytesEqual(e.genesis.bank, bank);
  return e.genesis == null;
}
