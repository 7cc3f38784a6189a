import { LIMITS, MutualError } from '@mutual/interface';
import { bytesEqual, openTreeHead, wasOpened, type SignedHead, type VerifyFn } from '@mutual/ledger';
import { consistencyProof, forkPath, forkPathBeyond, Frontier, leafHash, subtreeHash, verifyConsistency, type NodeReader } from '@mutual/merkle';
import { decodeStrict, pb, u64 } from '@mutual/protocol';
import type { Level } from 'level';
import { corrupt } from './errors.ts';
import { checkForkProof, encodeForkProof, type ForkEvidence } from './fork.ts';
import { decodeU64, encodeU64, keys } from './keys.ts';
import { KEYSPACES, LOWEST_STORED_LEVEL } from './keyspaces.ts';
import { logNodeReader, readNow } from './read.ts';
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
  /**
   * Heads held of sizes beyond `size`, by size: what a chunk must agree with, and what a head of
   * the same size must not contradict. In memory only (at most MAX_HEADS_AHEAD; `head`, the
   * newest, is kept apart): they are written with the chunk that reaches them.
   */
  ahead: Map<number, SignedHead>;
  /** The largest held head of a size within `size`: what this node serves the replica against. */
  servable: SignedHead | undefined;
  /**
   * The head the last chunk was proven against and the consistency proof from `size` to it:
   * with the stored nodes, the fork path from any smaller size to that head, which makes it the
   * witness against every head the verified tree contradicts (in memory; none before the first
   * chunk since the store was opened).
   */
  proven: { head: SignedHead; proof: readonly Uint8Array[] } | undefined;
}

/** Heads beyond a replica's verified size kept in memory per bank (see Replica.ahead). */
const MAX_HEADS_AHEAD = 1024;

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Called after a chunk of another bank's entries is durably appended to its replica. */
export type ReplicaListener = (bank: Uint8Array, from: number, entries: readonly Uint8Array[]) => void;

/** Called after a fork proof against a bank is durably recorded (the first one of that bank). */
export type ForkListener = (evidence: ForkEvidence) => void;

/**
 * Stored heads tried, from the verified size down, as the witness of a local fork proof, and
 * at open as the servable head.
 */
const WITNESS_CANDIDATES = 8;

/**
 * Verified replicas of other banks' logs, in the ledger's LevelDB under their own keyspaces
 * (`replica*` in keyspaces.ts). A replica grows only by chunks of entries that, appended to
 * its Merkle frontier, are proven consistent with a signed head of that bank; every write is
 * one atomic batch (not synced: a replica can be fetched again; fork proofs are synced), so a
 * restart resumes from the stored frontier.
 */
export class ReplicaStore {
  readonly #db: Level<Uint8Array, Uint8Array>;
  readonly #verify: VerifyFn;
  readonly #replicas = new Map<string, Replica>();
  readonly #listeners = new Set<ReplicaListener>();
  /** ForkProof bytes held against each forked bank, by bank (hex). */
  readonly #forks = new Map<string, Uint8Array>();
  readonly #forkListeners = new Set<ForkListener>();

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
      const r: Replica = { size, head, frontier: undefined, lock: Promise.resolve(), ahead: new Map(), servable: undefined, proven: undefined };
      await store.#loadHeads(bank, r);
      store.#replicas.set(hex(bank), r);
    }
    for await (const [k, v] of db.iterator(keys.range(KEYSPACES.forks))) {
      const bank = k.subarray(1);
      const evidence = checkForkProof(v, verify);
      if (bank.length !== 32 || !evidence || !bytesEqual(evidence.bank, bank)) throw corrupt('a fork proof record does not verify');
      store.#forks.set(hex(bank), v);
    }
    return store;
  }

  // ---- forks -------------------------------------------------------------------------

  /** Whether this node holds a verified fork proof against `bank`. Synchronous. */
  isForked(bank: Uint8Array): boolean {
    return this.#forks.has(hex(bank));
  }

  /** The ForkProof bytes held against `bank`, if it is forked. */
  forkProof(bank: Uint8Array): Uint8Array | undefined {
    return this.#forks.get(hex(bank));
  }

  /** Every bank held forked, with its proof. */
  forks(): Array<{ bank: Uint8Array; proof: Uint8Array }> {
    return [...this.#forks.entries()].map(([h, proof]) => ({ bank: Buffer.from(h, 'hex'), proof }));
  }

  /**
   * Verifies a ForkProof (`checkForkProof`) and, if it is valid and the first against its
   * bank, stores it (`forks/<bank>`, synced) and tells the `onFork` listeners. Returns whether
   * it was new; false for an invalid proof or a bank already marked forked. One proof per
   * bank is kept: a second proves nothing more.
   */
  async recordFork(bytes: Uint8Array): Promise<boolean> {
    const evidence = checkForkProof(bytes, this.#verify);
    if (!evidence || this.isForked(evidence.bank)) return false;
    const copy = Uint8Array.from(bytes);
    await this.#db.put(replicaKeys.fork(evidence.bank), copy, { sync: true });
    if (this.isForked(evidence.bank)) return false;
    this.#forks.set(hex(evidence.bank), copy);
    for (const l of this.#forkListeners) {
      try {
        l({ ...evidence, bytes: copy });
      } catch {
        // A listener's failure is its own: the proof is stored.
      }
    }
    return true;
  }

  /** Calls `listener` after every new fork proof recorded. Returns the function that unsubscribes. */
  onFork(listener: ForkListener): () => void {
    this.#forkListeners.add(listener);
    return () => this.#forkListeners.delete(listener);
  }

  /**
   * Whether `head` (of a size within the verified replica) has another root than the verified
   * tree at its size. If so, the fork proof against a head of that tree is recorded: the head
   * the last chunk was proven against (`Replica.proven`), or else a held head of a larger size
   * within the replica, the fork path made from the stored nodes. Returns whether the head is
   * inconsistent with the verified tree.
   */
  async #checkAgainstTree(bank: Uint8Array, r: Replica, head: SignedHead): Promise<boolean> {
    // Taken together: `proven` holds a proof from this very size.
    const { size, proven } = r;
    if (head.size < 1 || head.size > size) return false;
    const reader = this.#nodeReader(bank);
    if (bytesEqual(await subtreeHash(reader, 0, head.size), head.root)) return false;
    if (this.isForked(bank)) return true;
    if (proven) {
      const path = await forkPathBeyond(reader, head.size, size, proven.head.size, proven.proof);
      if (path) await this.recordFork(encodeForkProof(head, proven.head, path));
      if (this.isForked(bank)) return true;
    }
    const { gte } = replicaKeys.heads(bank);
    for await (const v of this.#db.values({ gte, lt: replicaKeys.head(bank, size + 1), reverse: true, limit: WITNESS_CANDIDATES })) {
      const witness = openTreeHead(v, this.#verify, bank);
      if (!witness || witness.size <= head.size) break;
      if (!bytesEqual(await subtreeHash(reader, 0, witness.size), witness.root)) continue;
      await this.recordFork(encodeForkProof(head, witness, await forkPath(reader, head.size, witness.size)));
      break;
    }
    return true;
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
   * stored again: if its root differs, the two heads are a fork proof, recorded
   * ({@link recordFork}). So is a head within the verified replica whose root is not the
   * verified tree's, when a held head of the tree is the witness (the head the last chunk was
   * proven against, or a stored one); such a head is never stored. Heads of a bank marked
   * forked are not recorded any more: its replica stays as it was.
   */
  async recordHead(head: SignedHead): Promise<boolean> {
    // A head opened by openTreeHead (gossip, a push, a sync answer) is verified already.
    const checked = wasOpened(head) ? head : openTreeHead(head.bytes, this.#verify, head.bank);
    if (!checked || this.isForked(checked.bank)) return false;
    const r = this.#replica(checked.bank);
    if (checked.size > r.size) {
      // Beyond the verified replica: held in memory, written with the chunk that reaches it (a
      // head lost in a restart is learnt again from the bank's next hello or gossip). Checked
      // and taken in without a pause, so two heads of one size arriving together meet here.
      const same = r.ahead.get(checked.size) ?? (r.head?.size === checked.size ? r.head : undefined);
      if (same !== undefined) {
        if (!bytesEqual(same.root, checked.root)) await this.recordFork(encodeForkProof(same, checked, []));
        return false;
      }
      // Past the bound, the farthest head is let go for a nearer one (what the next chunks
      // reach); the newest is kept as `head` either way.
      if (r.ahead.size >= MAX_HEADS_AHEAD) {
        const farthest = Math.max(...r.ahead.keys());
        if (checked.size < farthest) r.ahead.delete(farthest);
      }
      if (r.ahead.size < MAX_HEADS_AHEAD) r.ahead.set(checked.size, checked);
      if (r.head === undefined || checked.size > r.head.size) {
        r.head = checked;
        return true;
      }
      return false;
    } else {
      // r.head is the largest head held: a larger one cannot be held yet (no read needed).
      const same = checked.size === r.head?.size ? r.head : await this.headAt(checked.bank, checked.size);
      if (same !== undefined) {
        if (!bytesEqual(same.root, checked.root)) await this.recordFork(encodeForkProof(same, checked, []));
        return false;
      }
      if (await this.#checkAgainstTree(checked.bank, r, checked)) return false;
      // The verified tree's own head (an older one arriving late): servable.
      if (checked.size > (r.servable?.size ?? 0)) r.servable = checked;
    }
    // An older head of the verified tree (not newer than `head`), kept as a witness. Not
    // synced: a head lost in a crash is asked for again.
    await this.#db.batch([
      { type: 'put', key: replicaKeys.head(checked.bank, checked.size), value: checked.bytes },
      { type: 'put', key: replicaKeys.meta(checked.bank), value: encodeU64(r.size) },
    ]);
    return false;
  }

  /**
   * The latest head of `bank` this replica can prove entries against: the largest held head
   * whose size is at most the verified size (what this node serves to others).
   */
  async servableHead(bank: Uint8Array): Promise<SignedHead | undefined> {
    const r = this.#replicas.get(hex(bank));
    if (!r || r.size === 0) return undefined;
    return r.servable;
  }

  /** The head of `bank` held for `size`, if any. */
  async headAt(bank: Uint8Array, size: number): Promise<SignedHead | undefined> {
    const r = this.#replicas.get(hex(bank));
    const held = r?.ahead.get(size) ?? (r?.head?.size === size ? r.head : undefined);
    if (held) return held;
    const v = readNow(this.#db, replicaKeys.head(bank, size));
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

    // Heads already held inside the chunk: each must be the tree's at its size.
    const inside = new Map<number, SignedHead>();
    for (const [size, h] of r.ahead) if (size <= end) inside.set(size, h);
    const suspects: SignedHead[] = [];
    let servable = r.servable;

    r.frontier ??= await Frontier.fromNodes(r.size, this.#nodeReader(bank));
    const frontier = new Frontier(r.frontier.size, r.frontier.hashes());
    const keys: Uint8Array[] = [];
    const values: Uint8Array[] = [];
    entries.forEach((e, i) => {
      keys.push(replicaKeys.entry(bank, from + i));
      values.push(e);
      for (const n of frontier.append(leafHash(e))) {
        if (n.level < LOWEST_STORED_LEVEL) continue;
        keys.push(replicaKeys.node(bank, n.level, n.index));
        values.push(n.hash);
      }
      const held = inside.get(from + i + 1);
      if (held && !bytesEqual(held.root, frontier.root())) suspects.push(held);
      else if (held) servable = held;
    });
    const ok = end === treeSize ? bytesEqual(frontier.root(), head.root) && proof.length === 0 : verifyConsistency(end, treeSize, frontier.root(), head.root, proof);
    if (!ok) return 'bad-proof';
    if (suspects.length > 0 && !this.isForked(bank)) {
      // Each suspect and the head the chunk is proven against are a fork proof. It is recorded
      // (synced) before the chunk is written, so that no crash keeps the chunk and loses the
      // suspect; the nodes the fork path needs are the chunk's own, read from the batch.
      const pending = new Map<string, Uint8Array>();
      keys.forEach((k, i) => pending.set(hex(k), values[i]!));
      const reader = this.#nodeReader(bank, pending);
      for (const s of suspects) {
        const path = await forkPathBeyond(reader, s.size, end, treeSize, proof);
        if (path && (await this.recordFork(encodeForkProof(s, head, path)))) break;
      }
    }
    keys.push(replicaKeys.meta(bank));
    values.push(encodeU64(end));
    // The heads the chunk reaches and bears out, and the one it is proven against: what the
    // replica serves against, and covers, after a restart. A suspect is not written, and one
    // already stored (the head an earlier chunk was proven against) is deleted: once the
    // replica's size passes it, it would be the head served after a restart.
    for (const h of [...inside.values(), head]) {
      if (suspects.includes(h)) continue;
      keys.push(replicaKeys.head(bank, h.size));
      values.push(h.bytes);
    }
    // One atomic batch, not synced: a replica is a copy that peers can serve again, and a
    // process crash loses nothing (the OS has the write). What this node does with the entries
    // (a credit, a refund) is committed to its own log with a synced write, which LevelDB
    // orders after this one, so it never outlives the chunk it came from. A chained batch
    // takes each key and value as arguments, which costs the main thread less than objects.
    const batch = this.#db.batch();
    for (let i = 0; i < keys.length; i++) batch.put(keys[i]!, values[i]!);
    for (const h of suspects) batch.del(replicaKeys.head(bank, h.size));
    await batch.write();
    r.frontier = frontier;
    r.size = end;
    // Copied: the hashes may be views of a whole response, which would be kept with them.
    r.proven = { head, proof: proof.map((h) => Uint8Array.from(h)) };
    if (end === treeSize) servable = head;
    r.servable = servable;
    // Heads recorded while the chunk was checked and written, of sizes it now covers, were not
    // among those it was checked against: they are taken in as heads within the replica are.
    const late: SignedHead[] = [];
    for (const [size, h] of r.ahead) {
      if (size > end) continue;
      r.ahead.delete(size);
      if (inside.get(size) !== h) late.push(h);
    }
    for (const l of this.#listeners) {
      try {
        l(bank, from, entries);
      } catch {
        // A listener's failure is its own: the chunk is stored.
      }
    }
    for (const h of late) await this.recordHead(h);
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
      r = { size: 0, head: undefined, frontier: undefined, lock: Promise.resolve(), ahead: new Map(), servable: undefined, proven: undefined };
      this.#replicas.set(key, r);
    }
    return r;
  }

  /**
   * Loads the servable head of `r` (the largest stored within its size whose root is the
   * verified tree's, among the WITNESS_CANDIDATES largest) and the heads stored beyond its size
   * (the first MAX_HEADS_AHEAD of them).
   */
  async #loadHeads(bank: Uint8Array, r: Replica): Promise<void> {
    const { gte, lt } = replicaKeys.heads(bank);
    r.servable = undefined;
    if (r.size > 0) {
      // A stored head is served only if the tree bears it out: one the tree passed while it was
      // not held in memory (beyond MAX_HEADS_AHEAD) was never checked.
      const reader = this.#nodeReader(bank);
      for await (const v of this.#db.values({ gte, lt: replicaKeys.head(bank, r.size + 1), reverse: true, limit: WITNESS_CANDIDATES })) {
        const h = openTreeHead(v, this.#verify, bank);
        if (!h) throw corrupt(`a held head of the replica of ${hex(bank)} does not verify`);
        if (h.size >= 1 && bytesEqual(await subtreeHash(reader, 0, h.size), h.root)) {
          r.servable = h;
          break;
        }
      }
    }
    const ahead = new Map<number, SignedHead>();
    for await (const v of this.#db.values({ gte: replicaKeys.head(bank, r.size + 1), lt, limit: MAX_HEADS_AHEAD })) {
      const h = openTreeHead(v, this.#verify, bank);
      if (!h) throw corrupt(`a held head of the replica of ${hex(bank)} does not verify`);
      ahead.set(h.size, h);
    }
    r.ahead = ahead;
  }

  async #latestHead(bank: Uint8Array): Promise<SignedHead | undefined> {
    for await (const v of this.#db.values({ ...replicaKeys.heads(bank), reverse: true, limit: 1 })) {
      const head = openTreeHead(v, this.#verify, bank);
      if (!head) throw corrupt(`the latest head of the replica of ${hex(bank)} does not verify`);
      return head;
    }
    return undefined;
  }

  /** The node reader of a replica; `pending` holds values by key (hex) not yet written. */
  #nodeReader(bank: Uint8Array, pending?: ReadonlyMap<string, Uint8Array>): NodeReader {
    const read = (key: Uint8Array) => pending?.get(hex(key)) ?? readNow(this.#db, key);
    return logNodeReader({
      node: (level, index) => read(replicaKeys.node(bank, level, index)),
      entry: (i) => read(replicaKeys.entry(bank, i)),
      of: ' of a replica',
    });
  }
}

/**
 * Whether `bytes` are a well-formed Entry at `index` of `bank`'s log: strict decoding, the
 * index, the size bound, and a genesis that names the bank at index 0. The ledger rules are
 * replayed by an audit, not here: the bank signed the tree, so the chunk is the bank's word.
 */
export function isEntryOf(bank: Uint8Array, index: number, bytes: Uint8Array): boolean {
  if (bytes.length > LIMITS.MAX_ENTRY_BYTES) return false;
  const e = decodeStrict(pb.Entry, bytes);
  if (!e || u64(e.index) !== BigInt(index)) return false;
  if (index === 0) return e.genesis?.bank != null && bytesEqual(e.genesis.bank, bank);
  return e.genesis == null;
}
