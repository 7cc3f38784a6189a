import { deriveAccountId } from '@mutual/codec';
import { LIMITS, MutualError } from '@mutual/interface';
import {
  appliedKey,
  applyBatch,
  assert,
  bkey,
  bytesEqual,
  DEFAULT_RATES,
  entryKey,
  entryRefOf,
  isName,
  laborDayKey,
  openTreeHead,
  prepareInstruction,
  signTreeHead,
  toSchedule,
  type Account,
  type AgreementInForce,
  type AppliedRef,
  type BankInfo,
  type Command,
  type EntryRef,
  type Outgoing,
  type Position,
  type PreparedOk,
  type RateSchedule,
  type Result,
  type SignedHead,
  type StateChanges,
  type Totals,
  type VerifyFn,
} from '@mutual/ledger';
import { consistencyProof, Frontier, inclusionProof, leafHash, perfectTreeHash, type NodeReader } from '@mutual/merkle';
import { decodeStrict, DOMAIN, pb } from '@mutual/protocol';
import { Level } from 'level';
import { BatchState } from './batch-state.ts';
import { corrupt, openError } from './errors.ts';
import { decodeU64, encodeU64, keys } from './keys.ts';
import { FORMAT_VERSION, KEYSPACES, LOWEST_STORED_LEVEL, META } from './keyspaces.ts';
import { migrate } from './migrate.ts';
import { logNodeReader, readMany, readNow } from './read.ts';
import { records } from './records.ts';
import { RecentNodes, RecentRing } from './recent-ring.ts';

/** One signature to check: the verifier pool's unit of work. */
export interface VerifyItem {
  readonly signature: Uint8Array;
  readonly message: Uint8Array;
  readonly publicKey: Uint8Array;
}

export interface StoreOptions {
  /** The data directory's database folder. */
  readonly dir: string;
  /** The bank's Ed25519 public key. */
  readonly bankKey: Uint8Array;
  /** Signs with the bank's key: tree heads. */
  readonly sign: (message: Uint8Array) => Uint8Array;
  /** The node's one verifier (strict rules). */
  readonly verify: VerifyFn;
  /** Verifies many signatures at once (a worker pool); 1 or 0 per item, in order. */
  readonly verifyBatch?: (items: readonly VerifyItem[]) => Promise<Uint8Array>;
  /** Milliseconds since 1970-01-01 UTC. */
  readonly clock?: () => bigint;
  /** Name and bioregion written in the genesis entry of a new ledger. */
  readonly genesis?: { readonly name: string; readonly bioregion: string };
  /** Accounts kept in memory (records of the most recently used accounts). */
  readonly maxCachedAccounts?: number;
  /** Entries of the latest commits kept in memory for readers (default RECENT_ENTRIES, 8,192). */
  readonly recentEntries?: number;
  /** Called once if a write fails: the store stops accepting work and must be reopened. */
  readonly onFatal?: (err: Error) => void;
  /** Whether this bank holds a fork proof against another bank (interbank rules); default: none. */
  readonly isForked?: (bank: Uint8Array) => boolean;
}

/** Where an interbank transfer this bank sent stands. */
export type OutgoingState = 'pending' | 'settled' | 'refunded';

/** An interbank transfer this bank sent, with its state. */
export interface OutgoingStatus extends Outgoing {
  readonly state: OutgoingState;
  /** the payee bank's credit, once settled */
  readonly credit?: EntryRef;
}

/** What one durable commit appended, for subscribers (events, metrics, replication). */
export interface CommitEvent {
  /** index of the first entry appended */
  readonly firstIndex: number;
  /** the entries appended, in order */
  readonly entries: readonly Uint8Array[];
  /** the head signed for this commit */
  readonly head: SignedHead;
  /** the results of every command of the commit, including rejections and retries */
  readonly results: readonly Result[];
  /** from the start of applying to the end of the synced write */
  readonly durationMs: number;
}

export type CommitListener = (event: CommitEvent) => void;

interface Submission {
  readonly commands: readonly Command[];
  resolve(results: Result[]): void;
  reject(err: unknown): void;
  /** set once the signatures of its instructions have been checked */
  verified: boolean;
  readonly verifying: Promise<void>;
}

type WriteBatch = ReturnType<Level<Uint8Array, Uint8Array>['batch']>;

const EMPTY = new Uint8Array(0);

/** Merkle nodes of the latest commits kept in memory for proofs: every level over this many entries (about 0.5 MB). */
const RECENT_NODE_ENTRIES = 8_192;
/** Entries of the latest commits kept in memory: what peers catch up on and the clearing reads (about 2 MB). */
const RECENT_ENTRIES = 8_192;
/** Batches smaller than this are verified on the calling thread. */
const MIN_POOL_BATCH = 64;
const DEFAULT_MAX_CACHED_ACCOUNTS = 100_000;
/** Records one listing of outgoing transfers looks at, at most (its answer then says where to go on). */
export const MAX_OUTGOING_SCAN = 10_000;

/**
 * A bank's ledger on disk: the log, its Merkle tree, signed heads and the materialized state
 * (balances, sequence numbers, indexes), all written by group commits, each one atomic and
 * synced before anything in it is acknowledged.
 */
export class LedgerStore {
  readonly #db: Level<Uint8Array, Uint8Array>;
  readonly #opts: StoreOptions;
  readonly #clock: () => bigint;
  readonly #maxCached: number;

  // State as applied (may be ahead of the disk by one batch being written).
  #bank: BankInfo | undefined;
  #totals: Totals = { issued: 0n, retired: 0n, accounts: 0n, sent: 0n, refunded: 0n, received: 0n };
  /** interbank totals with every other bank, all in memory (one record per bank) */
  #positions = new Map<string, Position>();
  readonly #positionBanks = new Map<string, Uint8Array>();
  #rates: RateSchedule = new Map();
  #agreement: AgreementInForce | undefined;
  #frontier = new Frontier();
  /** Merkle nodes of the latest commits (see RECENT_NODE_ENTRIES). */
  readonly #recentNodes = new RecentNodes(RECENT_NODE_ENTRIES);
  /** Entries of the latest commits, by index (see RECENT_ENTRIES). */
  readonly #recentEntries: RecentRing<Uint8Array>;
  #lastTimeMs = 0n;
  #formatWritten = true;

  // State on disk: what readers see.
  #durableHead: SignedHead | undefined;

  readonly #accounts = new Map<string, Account>();
  /** holder keys never change for an account: safe to cache apart from account state */
  readonly #holderKeys = new Map<string, Uint8Array>();
  /** commands queued and not yet committed */
  #queuedCommands = 0;
  /**
   * records of the batch applied but not yet on disk; the applied records are looked up by
   * appliedKey only for a retry, so their map is built on the first lookup
   */
  #dirtyAppliedList: StateChanges['applied'] = [];
  #dirtyAppliedMap: Map<string, AppliedRef> | undefined;
  #dirtyLaborDays = new Map<string, bigint>();
  #dirtyOutgoing = new Map<number, Outgoing>();
  #dirtyInbound = new Map<string, number>();

  readonly #queue: Submission[] = [];
  readonly #listeners = new Set<CommitListener>();
  #running: Promise<void> | undefined;
  /**
   * Unsynced bookkeeping writes (settlement marks, clearing cursors) waiting for the write in
   * flight: written together in one batch when it completes, in the order they were asked for.
   */
  #sidePending: { keys: Uint8Array[]; values: Uint8Array[]; done: Promise<void>; resolve: () => void; reject: (e: unknown) => void } | undefined;
  #sideWriting: Promise<void> | undefined;
  #closed = false;
  #failure: Error | undefined;

  private constructor(db: Level<Uint8Array, Uint8Array>, opts: StoreOptions, recentEntries: RecentRing<Uint8Array>) {
    this.#db = db;
    this.#opts = opts;
    this.#clock = opts.clock ?? (() => BigInt(Date.now()));
    this.#maxCached = opts.maxCachedAccounts ?? DEFAULT_MAX_CACHED_ACCOUNTS;
    this.#recentEntries = recentEntries;
  }

  /**
   * Opens (or creates) the ledger in `opts.dir`, checking the format version and that the
   * materialized log agrees with the latest signed head. Throws MutualError DATA_DIR_IN_USE,
   * DB_FORMAT_MISMATCH or DB_CORRUPT.
   */
  static async open(opts: StoreOptions): Promise<LedgerStore> {
    // Made first: a bad `recentEntries` is a RangeError before the database is locked.
    const recentEntries = new RecentRing<Uint8Array>(opts.recentEntries ?? RECENT_ENTRIES);
    const db = new Level<Uint8Array, Uint8Array>(opts.dir, { keyEncoding: 'view', valueEncoding: 'view' });
    try {
      await db.open();
    } catch (err) {
      throw openError(opts.dir, err);
    }
    const store = new LedgerStore(db, opts, recentEntries);
    try {
      await store.#load();
    } catch (err) {
      await db.close().catch(() => {});
      if (err instanceof MutualError) throw err;
      throw corrupt((err as Error).message, err);
    }
    return store;
  }

  async #load(): Promise<void> {
    const get = (name: string) => this.#db.get(keys.meta(name));
    const format = await get(META.format);
    if (format === undefined) {
      for await (const _ of this.#db.keys({ limit: 1 })) throw corrupt('it has records but no format version');
      this.#formatWritten = false;
      if (!this.#opts.genesis) throw new MutualError('CONFIG_INVALID', 'a new ledger needs a bank name and bioregion');
      // Checked before the commit: a refused genesis would leave the rates of the same commit without a bank.
      for (const s of [this.#opts.genesis.name, this.#opts.genesis.bioregion]) {
        if (!isName(s)) throw new MutualError('CONFIG_INVALID', `genesis refused: bank and bioregion names are at most ${LIMITS.MAX_NAME_BYTES} bytes of well-formed text`);
      }
      const results = await this.submit([
        { type: 'genesis', name: this.#opts.genesis.name, bioregion: this.#opts.genesis.bioregion },
        { type: 'adoptRates', rates: DEFAULT_RATES },
      ]);
      for (const r of results) if (r.code !== 'APPLIED') throw new MutualError('CONFIG_INVALID', `genesis refused: ${r.message}`);
      return;
    }
    let version = format.length === 4 ? new DataView(format.buffer, format.byteOffset, 4).getUint32(0) : -1;
    if (version < FORMAT_VERSION && version >= 1) version = await migrate(this.#db, version);
    if (version !== FORMAT_VERSION) {
      throw new MutualError('DB_FORMAT_MISMATCH', `database format ${version} is not the format this version reads (${FORMAT_VERSION})`);
    }
    const [bankB, sizeB, totalsB, ratesB, headB, agreementB] = await this.#db.getMany([
      keys.meta(META.bank),
      keys.meta(META.size),
      keys.meta(META.totals),
      keys.meta(META.rates),
      keys.meta(META.head),
      keys.meta(META.agreement),
    ]);
    const bank = bankB && records.bank.decode(bankB);
    if (!bank) throw corrupt('the bank identity record is missing or unreadable');
    if (!bytesEqual(bank.key, this.#opts.bankKey)) {
      throw new MutualError('KEY_FILE_INVALID', 'the database belongs to another bank key than the one in the data directory');
    }
    if (sizeB?.length !== 8) throw corrupt('the log size record is missing or unreadable');
    const size = decodeU64(sizeB);
    const totals = totalsB && records.totals.decode(totalsB);
    if (!totals) throw corrupt('the totals record is missing or unreadable');
    const rates = ratesB && records.rates.decode(ratesB);
    if (!rates) throw corrupt('the rate schedule record is missing or unreadable');
    const agreement = agreementB ? records.agreement.decode(agreementB, this.#opts.verify) : undefined;
    if (agreementB && !agreement) throw corrupt('the record of the agreement in force is unreadable or its signatures do not verify');
    const head = headB && openTreeHead(headB, this.#opts.verify, bank.key);
    if (!head) throw corrupt('the latest signed tree head is missing or its signature does not verify');
    if (BigInt(head.size) !== size) throw corrupt(`the log size (${size}) is not the size of the latest signed head (${head.size})`);
    let frontier: Frontier;
    try {
      frontier = await Frontier.fromNodes(head.size, this.#nodes);
    } catch (err) {
      throw corrupt(`Merkle tree nodes of the log are missing or unreadable (${(err as Error).message})`, err);
    }
    if (!bytesEqual(frontier.root(), head.root)) throw corrupt('the Merkle tree nodes do not match the root of the latest signed head');
    // The last entry must be there and be the last leaf; nothing may follow it.
    const last = await this.#db.get(keys.entry(head.size - 1));
    if (!last) throw corrupt(`entry ${head.size - 1} (the last one) is missing`);
    // When the log ends a stored node, the root was read from that node: check it against the entries.
    const block = 2 ** LOWEST_STORED_LEVEL;
    if (head.size % block === 0) {
      const index = head.size / block - 1;
      const entries = await this.#db.getMany(Array.from({ length: block }, (_, i) => keys.entry(index * block + i)));
      const node = await this.#db.get(keys.node(LOWEST_STORED_LEVEL, index));
      if (entries.some((e) => !e) || !node || !bytesEqual(perfectTreeHash(entries.map((e) => leafHash(e!))), node)) {
        throw corrupt(`the last ${block} entries do not match their Merkle node`);
      }
    }
    if (await this.#db.get(keys.entry(head.size))) throw corrupt(`an entry exists past the end of the log (${head.size})`);

    for await (const [k, v] of this.#db.iterator(keys.range(KEYSPACES.positions))) {
      const p = records.position.decode(v);
      if (k.length !== 33 || !p) throw corrupt('an interbank position record is unreadable');
      const bank = Uint8Array.from(k.subarray(1));
      this.#positions.set(bkey(bank), p);
      this.#positionBanks.set(bkey(bank), bank);
    }
    this.#bank = bank;
    this.#totals = totals;
    this.#rates = rates;
    this.#agreement = agreement;
    this.#frontier = frontier;
    this.#durableHead = head;
    this.#lastTimeMs = head.timeMs;
  }

  /** Merkle nodes of the log: the latest commits' from memory (every level), else stored or derived. */
  readonly #nodes: NodeReader = (() => {
    const stored = logNodeReader({
      node: (level, index) => readNow(this.#db, keys.node(level, index)),
      entry: (i) => this.#recentEntries.get(i) ?? readNow(this.#db, keys.entry(i)),
      of: '',
    });
    return async (level: number, index: number) => this.#recentNodes.get(level, index) ?? stored(level, index);
  })();

  // ---------------------------------------------------------------------------------------
  // Reading (what is on disk)
  // ---------------------------------------------------------------------------------------

  /** The bank; set from genesis on. */
  get bank(): BankInfo {
    assert(this.#bank !== undefined, 'an open store has a bank');
    return this.#bank;
  }

  /** Whether the store stopped after a failed write (it then refuses work until reopened). */
  get failed(): boolean {
    return this.#failure !== undefined;
  }

  /** The latest durable signed tree head. */
  get head(): SignedHead {
    assert(this.#durableHead !== undefined, 'an open store has a head');
    return this.#durableHead;
  }

  /** Entries on disk. */
  get size(): number {
    return this.#durableHead?.size ?? 0;
  }

  get totals(): Readonly<Totals> {
    return this.#totals;
  }

  get rates(): RateSchedule {
    return this.#rates;
  }

  /** The federation agreement this bank adopted last (what interbank rules read); undefined before any. */
  get agreementInForce(): AgreementInForce | undefined {
    return this.#agreement;
  }

  /**
   * Commands accepted and not yet taken into a commit: the count `submit` compares with
   * LIMITS.MAX_QUEUED_INSTRUCTIONS before it refuses with OVERLOADED.
   */
  get queued(): number {
    return this.#queuedCommands;
  }

  async getAccount(id: Uint8Array): Promise<Account | undefined> {
    this.#checkOpen();
    const v = readNow(this.#db, keys.account(id));
    if (!v) return undefined;
    const a = records.account.decode(id, v);
    if (!a) throw corrupt(`the record of an account is unreadable`);
    return a;
  }

  async getEntry(index: number): Promise<Uint8Array | undefined> {
    this.#checkOpen();
    if (!Number.isSafeInteger(index) || index < 0 || index >= this.size) return undefined;
    const e = this.#recentEntries.get(index) ?? readNow(this.#db, keys.entry(index));
    if (!e) throw corrupt(`entry ${index} is missing`);
    return e;
  }

  /** The leaf hash of entry `index` (its level-0 Merkle node), from memory for the latest commits. */
  async leafHash(index: number): Promise<Uint8Array | undefined> {
    this.#checkOpen();
    if (!Number.isSafeInteger(index) || index < 0 || index >= this.size) return undefined;
    return this.#nodes(0, index);
  }

  /** Entries [from, to) in order, at most `limit`. */
  async getEntries(from: number, to: number): Promise<Uint8Array[]> {
    this.#checkOpen();
    const end = Math.min(to, this.size);
    const out: Uint8Array[] = [];
    if (from >= end) return out;
    if (this.#recentEntries.has(from) && this.#recentEntries.has(end - 1)) {
      for (let i = from; i < end; i++) out.push(this.#recentEntries.get(i)!);
      return out;
    }
    for await (const v of this.#db.values({ gte: keys.entry(from), lt: keys.entry(end) })) out.push(v);
    if (out.length !== end - from) throw corrupt(`entries between ${from} and ${end} are missing`);
    return out;
  }

  /** The signed head recorded when the log had `size` entries, if a commit ended there. */
  async getHead(size: number): Promise<SignedHead | undefined> {
    this.#checkOpen();
    const v = readNow(this.#db, keys.head(size));
    if (!v) return undefined;
    const h = openTreeHead(v, this.#opts.verify, this.bank.key);
    if (!h) throw corrupt(`the signed head of size ${size} does not verify`);
    return h;
  }

  /** RFC 9162 inclusion proof of entry `index` in the tree of `size` entries (default: the head). */
  async inclusionProof(index: number, size = this.size): Promise<Uint8Array[]> {
    this.#checkOpen();
    if (!(index >= 0 && index < size && size <= this.size)) throw new MutualError('INVALID_RANGE', `no entry ${index} in a log of ${size}`);
    return inclusionProof(this.#nodes, index, size);
  }

  /** RFC 9162 consistency proof between the trees of `from` and `to` entries. */
  async consistencyProof(from: number, to: number): Promise<Uint8Array[]> {
    this.#checkOpen();
    if (!(from >= 1 && from <= to && to <= this.size)) throw new MutualError('INVALID_RANGE', `sizes must satisfy 1 <= from <= to <= ${this.size}`);
    return consistencyProof(this.#nodes, from, to);
  }

  /** Indexes of the entries that touch `account`, newest first, before `before` (exclusive). */
  async history(account: Uint8Array, opts: { before?: number; limit: number }): Promise<number[]> {
    this.#checkOpen();
    const upTo = Math.min(opts.before ?? Number.MAX_SAFE_INTEGER, this.size);
    // The entries of the account's own instructions are listed by its applied records; the
    // others (credits, its opening, refunds) by its history records. Both newest first, merged.
    const others: number[] = [];
    for await (const k of this.#db.keys({ gte: keys.history(account, 0), lt: keys.history(account, upTo), reverse: true, limit: opts.limit })) {
      others.push(Number(decodeU64(k.subarray(21))));
    }
    const own = await this.#ownEntries(account, upTo, opts.limit);
    const out: number[] = [];
    let i = 0;
    let j = 0;
    while (out.length < opts.limit && (i < others.length || j < own.length)) {
      const next = Math.max(others[i] ?? -1, own[j] ?? -1);
      if (others[i] === next) i++;
      if (own[j] === next) j++;
      out.push(next);
    }
    return out;
  }

  /**
   * Indexes of the entries that applied `account`'s own instructions before entry `upTo`, newest
   * first, at most `limit`: its applied records, whose sequence order is index order. The newest
   * sequence before `upTo` is found by bisection, so a page deep in a long statement reads
   * about log2(sequence) records before its own.
   */
  async #ownEntries(account: Uint8Array, upTo: number, limit: number): Promise<number[]> {
    if (limit <= 0) return [];
    const indexOf = (v: Uint8Array | undefined): number => {
      const r = v && records.applied.decode(v);
      if (!r) throw corrupt('an applied-instruction record is missing or unreadable');
      return r.entryIndex;
    };
    let top: bigint | undefined;
    let topIndex = 0;
    for await (const [k, v] of this.#db.iterator({ gt: keys.applied(account, 0n), lte: keys.applied(account, MAX_U64), reverse: true, limit: 1 })) {
      top = decodeU64(k.subarray(21));
      topIndex = indexOf(v);
    }
    if (top === undefined) return [];
    let hi = top;
    if (topIndex >= upTo) {
      // Sequences 1..top are all applied, and their entry indexes increase with them.
      let lo = 1n;
      hi = 0n;
      let end = top - 1n;
      while (lo <= end) {
        const mid = (lo + end) / 2n;
        if (indexOf(readNow(this.#db, keys.applied(account, mid))) < upTo) {
          hi = mid;
          lo = mid + 1n;
        } else end = mid - 1n;
      }
      if (hi === 0n) return [];
    }
    const out: number[] = [];
    for await (const v of this.#db.values({ gt: keys.applied(account, 0n), lte: keys.applied(account, hi), reverse: true, limit })) {
      out.push(indexOf(v));
    }
    return out;
  }

  // ---------------------------------------------------------------------------------------
  // Interbank
  // ---------------------------------------------------------------------------------------

  /** Interbank totals with every bank this bank has exchanged with (as committed). */
  positions(): Array<{ bank: Uint8Array; position: Readonly<Position> }> {
    return [...this.#positions].map(([k, position]) => ({ bank: this.#positionBanks.get(k)!, position }));
  }

  /** An interbank transfer this bank sent at entry `index`, with its state; undefined if that entry is none. */
  async getOutgoing(index: number): Promise<OutgoingStatus | undefined> {
    this.#checkOpen();
    if (!Number.isSafeInteger(index) || index < 0 || index >= this.size) return undefined;
    const v = readNow(this.#db, keys.outgoing(index));
    const settled = v && readNow(this.#db, keys.settled(index));
    if (!v) return undefined;
    return this.#outgoingStatus(index, v, settled);
  }

  #outgoingStatus(index: number, v: Uint8Array, settled: Uint8Array | undefined): OutgoingStatus {
    const o = records.outgoing.decode(index, v);
    if (!o) throw corrupt('an outgoing transfer record is unreadable');
    if (o.refundIndex !== undefined) return { ...o, state: 'refunded' };
    if (settled) {
      const credit = entryRefOf(decodeStrict(pb.EntryRef, settled));
      if (!credit) throw corrupt('a settlement record is unreadable');
      return { ...o, state: 'settled', credit };
    }
    return { ...o, state: 'pending' };
  }

  /**
   * Interbank transfers this bank sent, newest first, before entry `before`, at most `limit`,
   * only those in `state` when given. One listing looks at MAX_OUTGOING_SCAN transfers at most,
   * so a filtered one may hold fewer than `limit` while older ones match: `next`, when given,
   * is the `before` of the listing that goes on (absent once every transfer was looked at).
   */
  async listOutgoing(opts: { before?: number; limit: number; state?: OutgoingState }): Promise<{ transfers: OutgoingStatus[]; next?: number }> {
    this.#checkOpen();
    const transfers: OutgoingStatus[] = [];
    const lt = keys.outgoing(Math.min(opts.before ?? Number.MAX_SAFE_INTEGER, this.size));
    let scanned = 0;
    let lowest: number | undefined;
    for await (const [k, v] of this.#db.iterator({ gte: keys.outgoing(0), lt, reverse: true })) {
      if (transfers.length >= opts.limit || scanned++ >= MAX_OUTGOING_SCAN) return { transfers, ...(lowest !== undefined ? { next: lowest } : {}) };
      const index = Number(decodeU64(k.subarray(1)));
      lowest = index;
      const status = this.#outgoingStatus(index, v, readNow(this.#db, keys.settled(index)));
      if (!opts.state || status.state === opts.state) transfers.push(status);
    }
    return { transfers };
  }

  /**
   * Records that the payee bank credited outgoing transfer `index` (its entry `credit`), unless
   * it was refunded. Returns whether the state changed.
   */
  async markSettled(index: number, credit: EntryRef): Promise<boolean> {
    const [changed] = await this.markSettledMany([{ index, credit }]);
    return changed === true;
  }

  /**
   * {@link markSettled} for several transfers, written together (one batch). Returns, per
   * item, whether its state changed.
   */
  async markSettledMany(items: ReadonlyArray<{ readonly index: number; readonly credit: EntryRef }>): Promise<boolean[]> {
    this.#checkOpen();
    const changed: boolean[] = [];
    const puts: Array<[Uint8Array, Uint8Array]> = [];
    for (const { index, credit } of items) {
      const current = await this.getOutgoing(index);
      const pending = current?.state === 'pending';
      changed.push(pending);
      if (pending) puts.push([keys.settled(index), pb.EntryRef.encode({ bank: credit.bank, index: credit.index, leafHash: credit.leafHash }).finish()]);
    }
    // Not synced: the mark is derived from the payee bank's log (its credit), which the clearing
    // reads again after a crash from a cursor written after this mark; LevelDB keeps the order.
    if (puts.length > 0) await this.#writeSide(puts);
    return changed;
  }

  /**
   * Writes `puts` unsynced, in one batch with the other side writes asked for while the one
   * before is in flight (group commit for bookkeeping: under load one thread-pool write per
   * round instead of one per push). Batches are written in order, so a write asked for after
   * another is never applied before it. Resolves once the batch holding `puts` is written.
   */
  #writeSide(puts: ReadonlyArray<readonly [Uint8Array, Uint8Array]>): Promise<void> {
    this.#checkOpen();
    let group = this.#sidePending;
    if (!group) {
      let resolve!: () => void;
      let reject!: (e: unknown) => void;
      const done = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      group = this.#sidePending = { keys: [], values: [], done, resolve, reject };
    }
    for (const [k, v] of puts) {
      group.keys.push(k);
      group.values.push(v);
    }
    if (!this.#sideWriting) this.#sideWriting = this.#flushSide();
    return group.done;
  }

  async #flushSide(): Promise<void> {
    try {
      for (let group = this.#sidePending; group; group = this.#sidePending) {
        this.#sidePending = undefined;
        try {
          const batch = this.#db.batch();
          for (let i = 0; i < group.keys.length; i++) batch.put(group.keys[i]!, group.values[i]!);
          await batch.write();
          group.resolve();
        } catch (err) {
          group.reject(err);
        }
      }
    } finally {
      this.#sideWriting = undefined;
    }
  }

  /** Index of this bank's credit or rejection of `bank`'s outgoing entry `index`, once committed. */
  async getInbound(bank: Uint8Array, index: number): Promise<number | undefined> {
    this.#checkOpen();
    const v = readNow(this.#db, keys.inbound(bank, index));
    return v ? Number(decodeU64(v)) : undefined;
  }

  /** How many entries of `bank`'s replica the clearing has handled. */
  async clearingCursor(bank: Uint8Array): Promise<number> {
    this.#checkOpen();
    const v = readNow(this.#db, keys.clearing(bank));
    return v ? Number(decodeU64(v)) : 0;
  }

  /** Not synced: after a crash the clearing reads some entries again, which the rules answer as duplicates. */
  async setClearingCursor(bank: Uint8Array, handled: number): Promise<void> {
    await this.#writeSide([[keys.clearing(bank), encodeU64(handled)]]);
  }

  // ---------------------------------------------------------------------------------------
  // Writing: group commit
  // ---------------------------------------------------------------------------------------

  /** Prepares signed instructions (as received) and submits them. */
  submitSigned(signed: readonly Uint8Array[]): Promise<Result[]> {
    return this.submit(signed.map((s) => ({ type: 'instruction', prepared: prepareInstruction(s) })));
  }

  /**
   * Applies commands in order and resolves with one result per command once every entry
   * they appended is on disk (synced). Commands submitted together, and submissions that
   * arrive while a commit is being written, are committed together.
   */
  submit(commands: readonly Command[]): Promise<Result[]> {
    if (this.#failure) return Promise.reject(new MutualError('STORE_CLOSED', 'the store stopped after a write failed', { cause: this.#failure }));
    if (this.#closed) return Promise.reject(new MutualError('STORE_CLOSED', 'the store is closed'));
    if (commands.length > LIMITS.MAX_ENTRIES_PER_COMMIT) {
      return Promise.reject(new MutualError('TOO_MANY_INSTRUCTIONS', `at most ${LIMITS.MAX_ENTRIES_PER_COMMIT} commands per submission`));
    }
    if (this.#queuedCommands + commands.length > LIMITS.MAX_QUEUED_INSTRUCTIONS) {
      return Promise.reject(new MutualError('OVERLOADED', `more than ${LIMITS.MAX_QUEUED_INSTRUCTIONS} instructions are waiting to be committed`));
    }
    return new Promise<Result[]>((resolve, reject) => {
      // Signatures are checked as soon as instructions arrive, on the worker pool, so that
      // verification never waits for commits (their validity does not depend on state).
      const sub: Submission = { commands, resolve, reject, verified: false, verifying: Promise.resolve() };
      (sub as { verifying: Promise<void> }).verifying = this.#preverify(commands).finally(() => {
        sub.verified = true;
      });
      this.#queue.push(sub);
      this.#queuedCommands += commands.length;
      this.#kick();
    });
  }

  #kick(): void {
    this.#running ??= this.#run().finally(() => {
      this.#running = undefined;
      if (this.#queue.length > 0 && !this.#failure) this.#kick();
    });
  }

  /**
   * Takes whole submissions in arrival order, up to MAX_ENTRIES_PER_COMMIT commands: the
   * first one, and after it those whose signatures are already checked.
   */
  async #take(): Promise<Submission[]> {
    if (this.#queue.length === 0) return [];
    await this.#queue[0]!.verifying;
    const taken: Submission[] = [];
    let n = 0;
    while (this.#queue.length > 0) {
      const next = this.#queue[0]!;
      if (taken.length > 0 && (!next.verified || n + next.commands.length > LIMITS.MAX_ENTRIES_PER_COMMIT)) break;
      taken.push(this.#queue.shift()!);
      n += next.commands.length;
    }
    this.#queuedCommands -= n;
    return taken;
  }

  /**
   * Checks the signatures of a submission's instructions whose signer is known, and records
   * each verdict with the key it was checked against. The rules re-check any instruction
   * without a verdict for the right key, so a failure here only costs speed.
   */
  async #preverify(commands: readonly Command[]): Promise<void> {
    try {
      const pending: PreparedOk[] = [];
      const missing = new Map<string, Uint8Array>();
      for (const c of commands) {
        if (c.type !== 'instruction' || !c.prepared.ok || c.prepared.verified) continue;
        pending.push(c.prepared);
        const k = bkey(c.prepared.account);
        if (!this.#holderKeys.has(k)) missing.set(k, c.prepared.account);
      }
      if (pending.length === 0) return;
      if (missing.size > 0) {
        const ids = [...missing.values()];
        const values = await readMany(this.#db, ids.map((id) => keys.account(id)));
        ids.forEach((id, i) => {
          const a = values[i] && records.account.decode(id, values[i]);
          if (a) this.#rememberHolderKey(a);
        });
      }
      const items: VerifyItem[] = [];
      const targets: PreparedOk[] = [];
      const prefix = DOMAIN.instruction;
      let bytes = 0;
      for (const p of pending) bytes += prefix.length + p.body.length;
      // The messages (prefix || body, as signedMessage builds them) share one buffer: one
      // allocation per submission instead of one per instruction.
      const messages = new Uint8Array(bytes);
      let at = 0;
      for (const p of pending) {
        const key = this.#holderKeys.get(bkey(p.account));
        if (!key) continue;
        const start = at;
        messages.set(prefix, at);
        messages.set(p.body, at + prefix.length);
        at += prefix.length + p.body.length;
        items.push({ signature: p.signature, message: messages.subarray(start, at), publicKey: key });
        targets.push(p);
      }
      const valid = await this.#verifyAll(items);
      targets.forEach((p, i) => {
        p.verified = { key: items[i]!.publicKey, valid: valid[i] === 1 };
      });
    } catch {
      // Left to the rules' own verification.
    }
  }

  #rememberHolderKey(a: Account, k = bkey(a.id)): void {
    if (this.#holderKeys.size >= this.#maxCached) this.#holderKeys.clear();
    this.#holderKeys.set(k, a.holderKey);
  }

  async #run(): Promise<void> {
    // While batch N is being written, batch N+1 is loaded and its signatures verified; it is
    // applied only once N is on disk, so results never depend on a write that may yet fail.
    let writing: Promise<void> | undefined;
    for (;;) {
      const subs = await this.#take();
      if (subs.length === 0) {
        await writing;
        if (this.#queue.length === 0 || this.#failure) return;
        continue;
      }
      const commands = subs.flatMap((s) => s.commands);
      let state: BatchState;
      try {
        state = await this.#loadBatch(commands);
        await writing;
      } catch (err) {
        for (const s of subs) s.reject(err);
        await writing?.catch(() => {});
        continue;
      }
      if (this.#failure) {
        for (const s of subs) s.reject(new MutualError('STORE_CLOSED', 'the store stopped after a write failed', { cause: this.#failure }));
        continue;
      }
      writing = this.#commit(state, commands, subs);
    }
  }

  /** Loads every record the batch can read. */
  async #loadBatch(commands: readonly Command[]): Promise<BatchState> {
    const accountIds = new Map<string, Uint8Array>();
    const want = (id: Uint8Array) => accountIds.set(bkey(id), id);
    const state = new BatchState({ bank: this.#bank, size: 0, totals: this.#totals, rates: this.#rates, agreement: this.#agreement });
    await this.#loadInterbank(commands, state, want);
    for (const c of commands) {
      if (c.type === 'openAccount' && c.holderKey.length === 32) want(deriveAccountId(this.#opts.bankKey, c.holderKey));
      if (c.type !== 'instruction' || !c.prepared.ok) continue;
      const p = c.prepared;
      want(p.account);
      if (p.action.type === 'transfer') want(p.action.payee);
      if (p.action.type === 'labor') want(p.action.worker);
    }
    const missing: Uint8Array[] = [];
    accountIds.forEach((id, k) => {
      const cached = this.#accounts.get(k);
      if (cached) state.accounts.set(k, cached);
      else missing.push(id);
    });
    if (missing.length > 0) {
      const values = await readMany(this.#db, missing.map((id) => keys.account(id)));
      missing.forEach((id, i) => {
        const v = values[i];
        const a = v ? records.account.decode(id, v) : null;
        if (v && !a) throw corrupt('the record of an account is unreadable');
        state.accounts.set(bkey(id), a ?? null);
        if (a) this.#cacheAccount(a);
      });
    }

    // Second round: what depends on the accounts (retries, daily hours).
    const appliedWanted: Array<[string, Uint8Array]> = [];
    const daysWanted: Array<[string, Uint8Array]> = [];
    for (const c of commands) {
      if (c.type !== 'instruction' || !c.prepared.ok) continue;
      const p = c.prepared;
      const signer = state.accounts.get(bkey(p.account));
      if (!signer) continue;
      if (p.sequence <= signer.sequence) {
        const k = appliedKey(p.account, p.sequence);
        const dirty = this.#dirtyApplied(k);
        if (dirty) state.applied.set(k, dirty);
        else if (!state.applied.has(k)) appliedWanted.push([k, keys.applied(p.account, p.sequence)]);
      }
      if (p.action.type === 'labor') {
        const k = laborDayKey(p.action.worker, p.action.day);
        const dirty = this.#dirtyLaborDays.get(k);
        if (dirty !== undefined) state.laborDays.set(k, dirty);
        else if (!state.laborDays.has(k)) daysWanted.push([k, keys.laborDay(p.action.worker, p.action.day)]);
      }
    }
    const [appliedValues, dayValues] = await Promise.all([
      appliedWanted.length ? readMany(this.#db, appliedWanted.map(([, key]) => key)) : [],
      daysWanted.length ? readMany(this.#db, daysWanted.map(([, key]) => key)) : [],
    ]);
    // A retry is told from another instruction with the same sequence by the body in the entry
    // that the applied record names (format 2 records carry the body's hash instead).
    const bodiesWanted: Array<[string, number]> = [];
    appliedWanted.forEach(([k], i) => {
      const v = appliedValues[i];
      const r = v ? records.applied.decode(v) : null;
      if (v && !r) throw corrupt('an applied-instruction record is unreadable');
      if (r && !r.bodyHash) bodiesWanted.push([k, r.entryIndex]);
      else state.applied.set(k, r ?? null);
    });
    if (bodiesWanted.length > 0) {
      const fromDb = bodiesWanted.filter(([, index]) => !this.#recentEntries.has(index));
      const read = fromDb.length > 0 ? await readMany(this.#db, fromDb.map(([, index]) => keys.entry(index))) : [];
      const readAt = new Map(fromDb.map(([, index], i) => [index, read[i]]));
      for (const [k, entryIndex] of bodiesWanted) {
        const bytes = this.#recentEntries.get(entryIndex) ?? readAt.get(entryIndex);
        const body = bytes && appliedBodyOf(bytes);
        if (!body) throw corrupt(`entry ${entryIndex}, named by an applied-instruction record, is missing or applies no instruction`);
        state.applied.set(k, { entryIndex, body });
      }
    }
    daysWanted.forEach(([k], i) => {
      const v = dayValues[i];
      state.laborDays.set(k, v ? decodeU64(v) : 0n);
    });
    return state;
  }

  /** Loads the interbank records a batch can read: answers to other banks' entries, outgoing transfers to refund. */
  async #loadInterbank(commands: readonly Command[], state: BatchState, want: (id: Uint8Array) => void): Promise<void> {
    const inboundWanted: Array<[string, Uint8Array]> = [];
    const outgoingWanted: number[] = [];
    for (const c of commands) {
      if (c.type === 'interbankCredit' || c.type === 'interbankReject') {
        if (c.type === 'interbankCredit' && c.payee.length === 20) want(c.payee);
        if (c.source.bank.length !== 32 || !Number.isSafeInteger(c.source.index) || c.source.index < 0) continue;
        const k = entryKey(c.source.bank, c.source.index);
        const dirty = this.#dirtyInbound.get(k);
        if (dirty !== undefined) state.inbound.set(k, dirty);
        else if (!state.inbound.has(k)) {
          state.inbound.set(k, null);
          inboundWanted.push([k, keys.inbound(c.source.bank, c.source.index)]);
        }
      } else if (c.type === 'interbankRefund') {
        const i = c.outgoingIndex;
        if (!Number.isSafeInteger(i) || i < 0 || state.outgoing.has(i)) continue;
        const dirty = this.#dirtyOutgoing.get(i);
        if (dirty) state.outgoing.set(i, dirty);
        else {
          state.outgoing.set(i, null);
          outgoingWanted.push(i);
        }
      }
    }
    const [inboundValues, outgoingValues] = await Promise.all([
      inboundWanted.length ? readMany(this.#db, inboundWanted.map(([, key]) => key)) : [],
      outgoingWanted.length ? readMany(this.#db, outgoingWanted.map((i) => keys.outgoing(i))) : [],
    ]);
    inboundWanted.forEach(([k], i) => {
      const v = inboundValues[i];
      if (v) state.inbound.set(k, Number(decodeU64(v)));
    });
    outgoingWanted.forEach((index, i) => {
      const v = outgoingValues[i];
      if (!v) return;
      const o = records.outgoing.decode(index, v);
      if (!o) throw corrupt('an outgoing transfer record is unreadable');
      state.outgoing.set(index, o);
    });
    for (const o of state.outgoing.values()) if (o) want(o.payer);
  }

  async #verifyAll(items: readonly VerifyItem[]): Promise<Uint8Array> {
    if (this.#opts.verifyBatch && items.length >= MIN_POOL_BATCH) return this.#opts.verifyBatch(items);
    const out = new Uint8Array(items.length);
    items.forEach((it, i) => {
      out[i] = this.#opts.verify(it.signature, it.message, it.publicKey) ? 1 : 0;
    });
    return out;
  }

  /** The applied record `k` (appliedKey) of the batch being written, if it wrote one. */
  #dirtyApplied(k: string): AppliedRef | undefined {
    if (this.#dirtyAppliedMap === undefined) {
      this.#dirtyAppliedMap = new Map();
      for (const { account, sequence, ref } of this.#dirtyAppliedList) this.#dirtyAppliedMap.set(appliedKey(account, sequence), ref);
    }
    return this.#dirtyAppliedMap.get(k);
  }

  #cacheAccount(a: Account, k = bkey(a.id)): void {
    this.#accounts.delete(k);
    this.#accounts.set(k, a);
  }

  /** Applies a loaded batch, writes it in one synced batch, then acknowledges it. */
  #commit(state: BatchState, commands: readonly Command[], subs: readonly Submission[]): Promise<void> {
    const started = performance.now();
    let timeMs = this.#clock();
    if (timeMs < this.#lastTimeMs) timeMs = this.#lastTimeMs; // entry times never go backwards
    state.bank = this.#bank;
    state.size = this.#frontier.size;
    state.totals = this.#totals;
    state.rates = this.#rates;
    state.agreement = this.#agreement;
    state.positions = this.#positions;

    let outcome;
    try {
      outcome = applyBatch(state, commands, { bankKey: this.#opts.bankKey, timeMs, verify: this.#opts.verify, isForked: this.#opts.isForked });
    } catch (err) {
      // A broken invariant: nothing was changed; stop rather than guess.
      this.#fail(err as Error);
      for (const s of subs) s.reject(err);
      return Promise.resolve();
    }
    const { results, entries, changes } = outcome;
    const deliver = () => {
      let i = 0;
      for (const s of subs) {
        s.resolve(results.slice(i, i + s.commands.length));
        i += s.commands.length;
      }
    };
    if (entries.length === 0) {
      deliver();
      return Promise.resolve();
    }

    let ops;
    try {
      ops = this.#opsFor(entries, changes, timeMs);
    } catch (err) {
      // Building the batch moves the in-memory tree and caches before it can fail (the head's
      // signature, a broken invariant): nothing is written, and the store stops as after a
      // failed write, showing only what is durable.
      const e = new MutualError('STORE_CLOSED', `making a commit failed: ${(err as Error).message}`, { cause: err });
      this.#fail(e);
      for (const s of subs) s.reject(e);
      return Promise.resolve();
    }
    this.#lastTimeMs = timeMs;
    const firstIndex = changes.size - entries.length;
    return ops.batch.write({ sync: true }).then(
      () => {
        this.#durableHead = ops.head;
        this.#takeIn(changes);
        this.#dirtyAppliedList = [];
        this.#dirtyAppliedMap = undefined;
        this.#dirtyLaborDays = new Map();
        this.#dirtyOutgoing = new Map();
        this.#dirtyInbound = new Map();
        this.#evict();
        deliver();
        const event: CommitEvent = { firstIndex, entries, head: ops.head, results, durationMs: performance.now() - started };
        for (const l of this.#listeners) {
          try {
            l(event);
          } catch {
            // A subscriber's failure is its own; the commit is durable and acknowledged.
          }
        }
      },
      (err: unknown) => {
        const e = new MutualError('STORE_CLOSED', `writing a commit failed: ${(err as Error).message}`, { cause: err });
        this.#fail(e);
        for (const s of subs) s.reject(e);
      },
    );
  }

  /**
   * The puts of one commit, and the in-memory state it moves to. A chained batch rather than
   * an array of operations: the binding then takes each key and value as arguments instead of
   * reading them from objects, which halves the main thread's cost per put. The write is the
   * same single atomic LevelDB batch.
   */
  #opsFor(entries: readonly Uint8Array[], changes: StateChanges, timeMs: bigint): { batch: WriteBatch; head: SignedHead } {
    const batch = this.#db.batch();
    try {
      return { batch, head: this.#fillBatch(batch, entries, changes, timeMs) };
    } catch (err) {
      void batch.close();
      throw err;
    }
  }

  #fillBatch(batch: WriteBatch, entries: readonly Uint8Array[], changes: StateChanges, timeMs: bigint): SignedHead {
    const put = (key: Uint8Array, value: Uint8Array) => batch.put(key, value);
    const start = this.#frontier.size;
    assert(start === changes.size - entries.length, 'entries continue the log');
    entries.forEach((e, i) => {
      put(keys.entry(start + i), e);
      this.#recentEntries.set(start + i, e);
      for (const n of this.#frontier.append(leafHash(e))) {
        if (n.level >= LOWEST_STORED_LEVEL) put(keys.node(n.level, n.index), n.hash);
        this.#recentNodes.set(n.level, n.index, n.hash);
      }
    });
    // Proofs are mostly asked for recent entries (pushes, catch-up of peers): the nodes and
    // entries of the latest commits are kept in memory, in rings that forget the oldest.
    const head = signTreeHead(this.#opts.bankKey, this.#frontier.size, this.#frontier.root(), timeMs, this.#opts.sign);
    put(keys.head(head.size), head.bytes);
    put(keys.meta(META.head), head.bytes);
    put(keys.meta(META.size), encodeU64(head.size));
    put(keys.meta(META.totals), records.totals.encode(changes.totals));
    if (!this.#formatWritten) {
      const f = new Uint8Array(4);
      new DataView(f.buffer).setUint32(0, FORMAT_VERSION);
      put(keys.meta(META.format), f);
      this.#formatWritten = true;
    }
    if (changes.bank && !this.#bank) put(keys.meta(META.bank), records.bank.encode(changes.bank));
    if (changes.rates) put(keys.meta(META.rates), records.rates.encode(changes.rates));
    if (changes.agreement) put(keys.meta(META.agreement), changes.agreement.record);
    changes.accounts.forEach((a, k) => {
      assert(a.balance >= 0n && a.balance <= LIMITS.MAX_BALANCE_MILLI, 'balances within [0, MAX_BALANCE_MILLI]');
      put(keys.account(a.id), records.account.encode(a));
      this.#cacheAccount(a, k);
      // A holder key never changes: remembered once.
      if (!this.#holderKeys.has(k)) this.#rememberHolderKey(a, k);
    });
    for (const { account, sequence, ref } of changes.applied) put(keys.applied(account, sequence), records.applied.encode(ref));
    this.#dirtyAppliedList = changes.applied;
    this.#dirtyAppliedMap = undefined;
    for (const [k, d] of changes.laborDays) {
      put(keys.laborDay(d.worker, d.day), encodeU64(d.milliHours));
      this.#dirtyLaborDays.set(k, d.milliHours);
    }
    for (const h of changes.history) put(keys.history(h.account, h.entryIndex), EMPTY);
    for (const o of changes.outgoing.values()) {
      put(keys.outgoing(o.index), records.outgoing.encode(o));
      this.#dirtyOutgoing.set(o.index, o);
    }
    for (const x of changes.inbound) {
      put(keys.inbound(x.bank, x.index), encodeU64(x.entryIndex));
      this.#dirtyInbound.set(entryKey(x.bank, x.index), x.entryIndex);
    }
    for (const { bank, position } of changes.positions.values()) put(keys.position(bank), records.position.encode(position));
    return head;
  }

  /**
   * What a commit changed of the state this store shows (bank, totals, rates, agreement, net
   * positions), taken in once its batch is durable: a read never sees a commit that may yet
   * fail, and after a failed write the store still shows its last durable state.
   */
  #takeIn(changes: StateChanges): void {
    if (changes.positions.size > 0) {
      const positions = new Map(this.#positions);
      for (const [k, { bank, position }] of changes.positions) {
        positions.set(k, { ...position });
        this.#positionBanks.set(k, bank);
      }
      this.#positions = positions;
    }
    this.#bank = changes.bank;
    this.#totals = changes.totals;
    if (changes.rates) this.#rates = changes.rates;
    if (changes.agreement) this.#agreement = changes.agreement.inForce;
  }

  #evict(): void {
    let excess = this.#accounts.size - this.#maxCached;
    if (excess <= 0) return;
    for (const k of this.#accounts.keys()) {
      if (excess-- <= 0) break;
      this.#accounts.delete(k);
    }
  }

  #fail(err: Error): void {
    if (this.#failure) return;
    this.#failure = err;
    for (const s of this.#queue.splice(0)) s.reject(new MutualError('STORE_CLOSED', 'the store stopped after a failure', { cause: err }));
    this.#queuedCommands = 0;
    this.#opts.onFatal?.(err);
  }

  #checkOpen(): void {
    if (this.#closed) throw new MutualError('STORE_CLOSED', 'the store is closed');
  }

  /**
   * Calls `listener` after every durable commit that appended entries, in log order.
   * Returns the function that unsubscribes.
   */
  subscribe(listener: CommitListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The database, for the verification routine and tools in this package. */
  get db(): Level<Uint8Array, Uint8Array> {
    return this.#db;
  }

  get options(): StoreOptions {
    return this.#opts;
  }

  /** Finishes the commit in progress, then closes the database. Later submissions fail. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#running?.catch(() => {});
    // Side writes already asked for are written (a write asked for after this is refused).
    await this.#sideWriting;
    for (const s of this.#queue.splice(0)) s.reject(new MutualError('STORE_CLOSED', 'the store is closed'));
    this.#queuedCommands = 0;
    await this.#db.close();
  }
}

const MAX_U64 = 2n ** 64n - 1n;

/** The instruction body an entry applied; undefined when the bytes are no InstructionApplied entry. */
function appliedBodyOf(entry: Uint8Array): Uint8Array | undefined {
  const e = decodeStrict(pb.Entry, entry);
  return e?.kind === 'applied' && e.applied?.body && e.applied.body.length > 0 ? e.applied.body : undefined;
}
