// Reconciliation of interbank transfers across the logs this node holds: its own and its
// verified replicas of the other banks' logs (docs/ARCHITECTURE.md, "Reconciliation").
//
// `Reconciliation` is the pure part: it takes each bank's entries in order, indexes the
// interbank entries, keeps the verdict of every transfer up to date as entries arrive, and
// replays every log through the ledger rules for conservation. `Reconciler` is the I/O around
// it: it reads the logs from the stores, lazily on the first request and then incrementally
// as commits and replica chunks arrive.
import { formatBankId } from '@mutual/codec';
import { leafHash } from '@mutual/merkle';
import {
  bkey,
  bytesEqual,
  conservationProblem,
  decodeEntry,
  MemoryLedgerState,
  netPosition,
  preverifyEntries,
  replayEntries,
  type EntryRef,
  type Position,
  type ReplayProblem,
  type SignatureItem,
  type VerifyFn,
} from '@mutual/ledger';
import { u64 } from '@mutual/protocol';

/** At most this many in-flight items and problems are listed per pair (the counts are exact). */
export const MAX_LISTED_PER_PAIR = 100;
/** At most this many problems of one bank's log (undecodable entries) are kept. */
const MAX_BANK_PROBLEMS = 20;

/** An entry of a bank's log. */
export interface Ref {
  readonly bank: Uint8Array;
  readonly index: number;
}

/**
 * A transfer not settled yet as the logs replicated here show it:
 * - `unanswered`: an outgoing entry the payee's bank has not credited or rejected (yet);
 * - `unrefunded`: a rejection the payer's bank has not refunded (yet);
 * - `source-not-replicated`: a credit or rejection of an outgoing entry past the replica of
 *   the payer's bank held here;
 * - `rejection-not-replicated`: a refund of a rejection past the replica of the payee's bank.
 */
export type InFlightKind = 'unanswered' | 'unrefunded' | 'source-not-replicated' | 'rejection-not-replicated';

export interface InFlightItem {
  readonly kind: InFlightKind;
  /** the entry waiting for its answer */
  readonly entry: Ref;
  /** milli-notes of the transfer */
  readonly amount: bigint;
  /**
   * What the item leaves out of the sum of net positions (milli-notes): + amount for an
   * outgoing not credited nor refunded, − amount for a credit whose outgoing is not seen yet.
   */
  readonly pending: bigint;
}

export type ProblemKind =
  | 'double-answer'
  | 'credit-and-rejection'
  | 'answer-without-outgoing'
  | 'amount-differs'
  | 'payee-differs'
  | 'payer-differs'
  | 'leaf-hash-differs'
  | 'refund-without-rejection'
  | 'refund-without-outgoing'
  | 'double-refund'
  | 'nets-differ';

/** A mismatch, with the entries that prove it. */
export interface Problem {
  readonly kind: ProblemKind;
  readonly message: string;
  readonly entries: readonly Ref[];
}

export type PairState = 'matched' | 'in-flight' | 'mismatched';

export interface PairReport {
  /** the two banks, in the order of the report's banks */
  readonly banks: readonly [Uint8Array, Uint8Array];
  readonly state: PairState;
  /** net position of banks[0] toward banks[1] as banks[0]'s log records it, and the reverse */
  readonly net: readonly [bigint, bigint];
  /** at most MAX_LISTED_PER_PAIR, oldest transfers first */
  readonly inFlight: readonly InFlightItem[];
  readonly inFlightCount: number;
  readonly problems: readonly Problem[];
  readonly problemCount: number;
}

export interface Conservation {
  readonly ok: boolean;
  /** entries replayed by the ledger rules (the figures are theirs) */
  readonly replayed: number;
  readonly balances: bigint;
  readonly issued: bigint;
  readonly retired: bigint;
  readonly sent: bigint;
  readonly refunded: bigint;
  readonly received: bigint;
  /** received − sent + refunded */
  readonly net: bigint;
  /** why it does not hold, or why the log does not replay */
  readonly problem: string | undefined;
}

export interface BankReport {
  readonly bank: Uint8Array;
  /** from its genesis entry; undefined when none of its log is held here */
  readonly name: string | undefined;
  readonly self: boolean;
  /** entries of its log held here (and indexed) */
  readonly replicated: number;
  /** its net position toward all other banks, as its log records it */
  readonly net: bigint;
  readonly positions: ReadonlyArray<{ readonly bank: Uint8Array; readonly position: Readonly<Position>; readonly net: bigint }>;
  /** undefined when none of its log is held here */
  readonly conservation: Conservation | undefined;
  /** entries of its log that do not decode */
  readonly problems: readonly string[];
}

export interface ReconciliationReport {
  /** every pair matched, every bank's log replays and conserves notes, and the federation check holds */
  readonly ok: boolean;
  readonly self: Uint8Array;
  readonly banks: readonly BankReport[];
  readonly pairs: readonly PairReport[];
  readonly federation: {
    readonly ok: boolean;
    /** the sum of every bank's net position */
    readonly positionsSum: bigint;
    /** the sum of what in-flight transfers leave out of it (see InFlightItem.pending) */
    readonly inFlight: bigint;
    readonly inFlightCount: number;
    readonly problems: readonly string[];
  };
}

// ---- internal records ------------------------------------------------------------------

interface Outgoing {
  readonly index: number;
  readonly leafHash: Uint8Array;
  readonly payer: Uint8Array;
  readonly payee: Uint8Array;
  readonly to: Uint8Array;
  readonly amount: bigint;
}

interface Answer {
  readonly bank: Uint8Array;
  readonly index: number;
  readonly kind: 'credit' | 'rejection';
  readonly sourceLeafHash: Uint8Array;
  readonly payee: Uint8Array | undefined;
  readonly amount: bigint;
  /** the answer's own leaf hash (what a refund pins) */
  readonly leafHash: Uint8Array;
}

interface Refund {
  readonly index: number;
  readonly rejection: EntryRef;
  readonly payer: Uint8Array;
  readonly amount: bigint;
}

interface Contribution {
  readonly pair: string;
  readonly inFlight: InFlightItem[];
  readonly problems: Problem[];
}

/** Everything seen about the transfer of outgoing entry `index` of bank `from`. */
interface Transfer {
  readonly key: string;
  readonly from: Uint8Array;
  readonly index: number;
  out: Outgoing | undefined;
  readonly answers: Answer[];
  readonly refunds: Refund[];
  contrib: Contribution[];
}

interface Book {
  readonly bank: Uint8Array;
  readonly hex: string;
  name: string | undefined;
  size: number;
  readonly positions: Map<string, { bank: Uint8Array; position: Position }>;
  readonly problems: string[];
  readonly state: MemoryLedgerState;
  /** entries given but held back from replay: an agreement adoption waiting for its rate schedule */
  held: Uint8Array[];
  replayProblem: ReplayProblem | undefined;
}

interface PairAgg {
  readonly a: Uint8Array;
  readonly b: Uint8Array;
  readonly inFlight: Map<string, InFlightItem[]>;
  readonly problems: Map<string, Problem[]>;
  inFlightCount: number;
  problemCount: number;
}

const hexOf = (b: Uint8Array) => bkey(b);
const short = (b: Uint8Array) => `${formatBankId(b).slice(0, 14)}…`;
const at = (r: Ref) => `${short(r.bank)}#${r.index}`;

/**
 * The reconciliation of the logs given to it (pure: no I/O). Give each bank's entries in
 * order with {@link ingest}; {@link report} costs the number of pairs and banks plus the
 * items listed, never a scan of the logs.
 */
export class Reconciliation {
  readonly self: Uint8Array;
  readonly #verify: VerifyFn;
  readonly #books = new Map<string, Book>();
  readonly #transfers = new Map<string, Transfer>();
  readonly #pairs = new Map<string, PairAgg>();
  /** transfers whose verdict depends on how much of a bank's log is held, by bank */
  readonly #waiting = new Map<string, Set<string>>();
  #pending = 0n;
  #inFlightCount = 0;

  constructor(o: { readonly self: Uint8Array; readonly verify: VerifyFn }) {
    this.self = o.self;
    this.#verify = o.verify;
    this.#book(o.self);
  }

  /** Entries of `bank`'s log held (and indexed) so far. */
  sizeOf(bank: Uint8Array): number {
    return this.#books.get(hexOf(bank))?.size ?? 0;
  }

  /** The replayed state of `bank`'s log, for pre-verifying the signatures of its next entries. */
  stateOf(bank: Uint8Array): MemoryLedgerState {
    return this.#book(bank).state;
  }

  /**
   * Takes entries [from, from + entries.length) of `bank`'s log; `from` must be
   * {@link sizeOf}(bank). `preverified`: signature verdicts by entry index (preverifyEntries).
   */
  ingest(bank: Uint8Array, from: number, entries: readonly Uint8Array[], preverified?: ReadonlyMap<number, { key: Uint8Array; valid: boolean }>): void {
    const book = this.#book(bank);
    if (from !== book.size) throw new RangeError(`entries of ${book.hex} from ${from}, but ${book.size} are held`);
    if (entries.length === 0) return;
    const touched = new Set<string>();
    let heldBack = false;
    entries.forEach((bytes, k) => {
      const index = from + k;
      const d = decodeEntry(bytes);
      if (typeof d === 'string') {
        if (book.problems.length < MAX_BANK_PROBLEMS) book.problems.push(`entry ${index}: ${d}`);
        return;
      }
      const e = d.entry;
      const c = d.command;
      heldBack = e.kind === 'agreementAdopted';
      if (c.type === 'genesis') book.name = c.name;
      else if (c.type === 'instruction' && c.prepared.ok && c.prepared.action.type === 'transfer') {
        const a = c.prepared.action;
        if (!a.payeeBank || bytesEqual(a.payeeBank, bank)) return;
        const amount = u64(e.applied!.amount);
        const t = this.#transfer(bank, index);
        t.out = { index, leafHash: leafHash(bytes), payer: c.prepared.account, payee: a.payee, to: a.payeeBank, amount };
        this.#book(a.payeeBank);
        this.#position(book, a.payeeBank).sent += amount;
        touched.add(t.key);
      } else if (c.type === 'interbankCredit' || c.type === 'interbankReject') {
        const credit = c.type === 'interbankCredit';
        const t = this.#transfer(c.source.bank, c.source.index);
        t.answers.push({
          bank,
          index,
          kind: credit ? 'credit' : 'rejection',
          sourceLeafHash: c.source.leafHash,
          payee: credit ? c.payee : undefined,
          amount: c.amount,
          leafHash: leafHash(bytes),
        });
        this.#book(c.source.bank);
        if (credit) this.#position(book, c.source.bank).received += c.amount;
        touched.add(t.key);
      } else if (c.type === 'interbankRefund') {
        const r = e.interbankRefund!;
        const amount = u64(r.amount);
        const t = this.#transfer(bank, c.outgoingIndex);
        t.refunds.push({ index, rejection: c.rejection, payer: r.payer ?? new Uint8Array(), amount });
        this.#book(c.rejection.bank);
        this.#position(book, c.rejection.bank).refunded += amount;
        touched.add(t.key);
      }
      if (d.index !== index && book.problems.length < MAX_BANK_PROBLEMS) book.problems.push(`entry ${index} records index ${d.index}`);
    });
    book.size = from + entries.length;
    const waiting = this.#waiting.get(book.hex);
    if (waiting) {
      this.#waiting.delete(book.hex);
      for (const k of waiting) touched.add(k);
    }
    for (const k of touched) this.#evaluate(this.#transfers.get(k)!);
    this.#replay(book, entries, heldBack, preverified);
  }

  #replay(book: Book, entries: readonly Uint8Array[], holdLast: boolean, preverified?: ReadonlyMap<number, { key: Uint8Array; valid: boolean }>): void {
    if (book.replayProblem) return;
    const all = book.held.length > 0 ? [...book.held, ...entries] : entries;
    // An AgreementAdopted entry is replayed with the RateScheduleAdopted entry that follows
    // it in the same commit: a chunk that ends between them waits for the next one.
    const n = holdLast ? all.length - 1 : all.length;
    book.held = holdLast ? [all[all.length - 1]!] : [];
    if (n === 0) return;
    book.replayProblem = replayEntries(book.state, n === all.length ? all : all.slice(0, n), this.#verify, preverified);
    // What replay keeps and the rules read again only for retries (which never appear in a
    // valid log) or never (account statements): dropped, so memory does not grow with the log.
    book.state.applied.clear();
    book.state.history.clear();
  }

  #book(bank: Uint8Array): Book {
    const hex = hexOf(bank);
    let b = this.#books.get(hex);
    if (!b) {
      b = { bank, hex, name: undefined, size: 0, positions: new Map(), problems: [], state: new MemoryLedgerState(), held: [], replayProblem: undefined };
      this.#books.set(hex, b);
    }
    return b;
  }

  #position(book: Book, other: Uint8Array): Position {
    const k = hexOf(other);
    let p = book.positions.get(k);
    if (!p) {
      p = { bank: other, position: { sent: 0n, refunded: 0n, received: 0n } };
      book.positions.set(k, p);
    }
    return p.position;
  }

  #transfer(from: Uint8Array, index: number): Transfer {
    const key = `${hexOf(from)}:${index}`;
    let t = this.#transfers.get(key);
    if (!t) {
      t = { key, from, index, out: undefined, answers: [], refunds: [], contrib: [] };
      this.#transfers.set(key, t);
    }
    return t;
  }

  #pair(x: Uint8Array, y: Uint8Array): PairAgg {
    const [a, b] = Buffer.compare(x, y) <= 0 ? [x, y] : [y, x];
    const key = `${hexOf(a)}|${hexOf(b)}`;
    let p = this.#pairs.get(key);
    if (!p) {
      p = { a, b, inFlight: new Map(), problems: new Map(), inFlightCount: 0, problemCount: 0 };
      this.#pairs.set(key, p);
    }
    return p;
  }

  #wait(bank: Uint8Array, t: Transfer): void {
    const k = hexOf(bank);
    let s = this.#waiting.get(k);
    if (!s) this.#waiting.set(k, (s = new Set()));
    s.add(t.key);
  }

  /** Replaces the transfer's contribution to its pairs by its verdict on what is held now. */
  #evaluate(t: Transfer): void {
    for (const c of t.contrib) {
      const p = this.#pairs.get(c.pair)!;
      if (p.inFlight.delete(t.key)) {
        p.inFlightCount -= c.inFlight.length;
        this.#inFlightCount -= c.inFlight.length;
        for (const i of c.inFlight) this.#pending -= i.pending;
      }
      if (p.problems.delete(t.key)) p.problemCount -= c.problems.length;
    }
    const contrib = new Map<string, Contribution>();
    const slot = (x: Uint8Array, y: Uint8Array) => {
      const p = this.#pair(x, y);
      const key = `${hexOf(p.a)}|${hexOf(p.b)}`;
      let c = contrib.get(key);
      if (!c) contrib.set(key, (c = { pair: key, inFlight: [], problems: [] }));
      return c;
    };
    const problem = (x: Uint8Array, y: Uint8Array, kind: ProblemKind, message: string, entries: Ref[]) => slot(x, y).problems.push({ kind, message, entries });
    const inFlight = (x: Uint8Array, y: Uint8Array, item: InFlightItem) => slot(x, y).inFlight.push(item);
    this.#judge(t, problem, inFlight);
    t.contrib = [...contrib.values()];
    for (const c of t.contrib) {
      const p = this.#pairs.get(c.pair)!;
      if (c.inFlight.length > 0) {
        p.inFlight.set(t.key, c.inFlight);
        p.inFlightCount += c.inFlight.length;
        this.#inFlightCount += c.inFlight.length;
        for (const i of c.inFlight) this.#pending += i.pending;
      }
      if (c.problems.length > 0) {
        p.problems.set(t.key, c.problems);
        p.problemCount += c.problems.length;
      }
    }
  }

  #judge(
    t: Transfer,
    problem: (x: Uint8Array, y: Uint8Array, kind: ProblemKind, message: string, entries: Ref[]) => void,
    inFlight: (x: Uint8Array, y: Uint8Array, item: InFlightItem) => void,
  ): void {
    const x = t.from;
    const outRef: Ref = { bank: x, index: t.index };
    const ans = (a: Answer): Ref => ({ bank: a.bank, index: a.index });
    const what = (a: Answer) => `the ${a.kind} ${at(ans(a))}`;
    const o = t.out;
    if (!o) {
      if (this.sizeOf(x) > t.index) {
        for (const a of t.answers) problem(x, a.bank, 'answer-without-outgoing', `${what(a)} answers ${at(outRef)}, which is not an interbank transfer`, [ans(a), outRef]);
        for (const f of t.refunds) {
          problem(x, f.rejection.bank, 'refund-without-outgoing', `the refund ${at({ bank: x, index: f.index })} refunds ${at(outRef)}, which is not an interbank transfer`, [
            { bank: x, index: f.index },
            outRef,
          ]);
        }
      } else {
        this.#wait(x, t);
        for (const a of t.answers) {
          inFlight(x, a.bank, { kind: 'source-not-replicated', entry: ans(a), amount: a.amount, pending: a.kind === 'credit' ? -a.amount : 0n });
        }
      }
      return;
    }

    const y = o.to;
    const mine = t.answers.filter((a) => bytesEqual(a.bank, y));
    for (const a of t.answers) {
      if (!bytesEqual(a.bank, y)) problem(x, a.bank, 'answer-without-outgoing', `${what(a)} answers ${at(outRef)}, a transfer to another bank`, [ans(a), outRef]);
    }
    for (const a of mine) {
      const refs = [outRef, ans(a)];
      if (!bytesEqual(a.sourceLeafHash, o.leafHash)) problem(x, y, 'leaf-hash-differs', `${what(a)} pins another leaf hash than that of ${at(outRef)}`, refs);
      if (a.amount !== o.amount) problem(x, y, 'amount-differs', `${what(a)} is of ${a.amount} milli-notes; ${at(outRef)} sent ${o.amount}`, refs);
      if (a.kind === 'credit' && !bytesEqual(a.payee!, o.payee)) problem(x, y, 'payee-differs', `${what(a)} credits another account than the payee of ${at(outRef)}`, refs);
    }
    const credits = mine.filter((a) => a.kind === 'credit');
    const rejections = mine.filter((a) => a.kind === 'rejection');
    if (mine.length > 1) {
      const kind: ProblemKind = credits.length > 0 && rejections.length > 0 ? 'credit-and-rejection' : 'double-answer';
      problem(x, y, kind, `${at(outRef)} is answered ${mine.length} times: ${mine.map(what).join(', ')}`, [outRef, ...mine.map(ans)]);
    }

    // Refunds: each of the one rejection, with the outgoing amount and payer.
    const refundRef = (f: Refund): Ref => ({ bank: x, index: f.index });
    let waitingForRejection = false;
    if (t.refunds.length > 1) problem(x, y, 'double-refund', `${at(outRef)} is refunded ${t.refunds.length} times`, [outRef, ...t.refunds.map(refundRef)]);
    for (const f of t.refunds) {
      const refs = [outRef, refundRef(f)];
      if (f.amount !== o.amount) problem(x, y, 'amount-differs', `the refund ${at(refundRef(f))} is of ${f.amount} milli-notes; ${at(outRef)} sent ${o.amount}`, refs);
      if (!bytesEqual(f.payer, o.payer)) problem(x, y, 'payer-differs', `the refund ${at(refundRef(f))} credits another account than the payer of ${at(outRef)}`, refs);
      if (!bytesEqual(f.rejection.bank, y)) {
        problem(x, y, 'refund-without-rejection', `the refund ${at(refundRef(f))} names a rejection of another bank than the payee's`, refs);
        continue;
      }
      // A refund of a credited transfer is one problem, said below.
      if (credits.length > 0 && rejections.length === 0) continue;
      const rejection = rejections.find((r) => r.index === f.rejection.index);
      if (rejection) {
        if (!bytesEqual(rejection.leafHash, f.rejection.leafHash)) {
          problem(x, y, 'leaf-hash-differs', `the refund ${at(refundRef(f))} pins another leaf hash than that of ${what(rejection)}`, [...refs, ans(rejection)]);
        }
      } else if (this.sizeOf(y) > f.rejection.index) {
        problem(x, y, 'refund-without-rejection', `the refund ${at(refundRef(f))} names ${at(f.rejection)}, which is not a rejection of ${at(outRef)}`, [...refs, f.rejection]);
      } else {
        waitingForRejection = true;
        this.#wait(y, t);
      }
    }
    if (credits.length > 0 && rejections.length === 0 && t.refunds.length > 0) {
      problem(x, y, 'refund-without-rejection', `${at(outRef)} is refunded though ${what(credits[0]!)} credited it`, [outRef, ans(credits[0]!), ...t.refunds.map(refundRef)]);
    }

    // A refund names a rejection past the payee bank's replica (also when another answer of the
    // transfer is held: what the named one is cannot be told before it is replicated).
    if (waitingForRejection) inFlight(x, y, { kind: 'rejection-not-replicated', entry: refundRef(t.refunds[0]!), amount: o.amount, pending: 0n });
    else if (mine.length === 0) {
      if (t.refunds.length === 0) inFlight(x, y, { kind: 'unanswered', entry: outRef, amount: o.amount, pending: o.amount });
    } else if (credits.length === 0 && t.refunds.length === 0) {
      inFlight(x, y, { kind: 'unrefunded', entry: ans(rejections[0]!), amount: o.amount, pending: o.amount });
    }
  }

  /** The reconciliation as of the entries given so far. */
  report(): ReconciliationReport {
    const books = [...this.#books.values()].sort((p, q) => (p.hex === hexOf(this.self) ? -1 : q.hex === hexOf(this.self) ? 1 : p.hex < q.hex ? -1 : 1));
    const banks = books.map((b) => this.#bankReport(b));
    const netOf = (x: Book, y: Book) => {
      const p = x.positions.get(y.hex);
      return p ? netPosition(p.position) : 0n;
    };
    const pairs: PairReport[] = [];
    for (let i = 0; i < books.length; i++) {
      for (let j = i + 1; j < books.length; j++) {
        const x = books[i]!;
        const y = books[j]!;
        const agg = this.#pairs.get(Buffer.compare(x.bank, y.bank) <= 0 ? `${x.hex}|${y.hex}` : `${y.hex}|${x.hex}`);
        const net: [bigint, bigint] = [netOf(x, y), netOf(y, x)];
        const inFlight = agg ? firstOf(agg.inFlight.values(), MAX_LISTED_PER_PAIR) : [];
        const problems = agg ? firstOf(agg.problems.values(), MAX_LISTED_PER_PAIR) : [];
        let problemCount = agg?.problemCount ?? 0;
        const inFlightCount = agg?.inFlightCount ?? 0;
        if (problemCount === 0 && inFlightCount === 0 && net[0] + net[1] !== 0n) {
          problems.push({
            kind: 'nets-differ',
            message: `with nothing in flight, the net positions ${net[0]} and ${net[1]} milli-notes do not sum to zero`,
            entries: [],
          });
          problemCount = 1;
        }
        const state: PairState = problemCount > 0 ? 'mismatched' : inFlightCount > 0 ? 'in-flight' : 'matched';
        pairs.push({ banks: [x.bank, y.bank], state, net, inFlight, inFlightCount, problems, problemCount });
      }
    }
    const positionsSum = banks.reduce((s, b) => s + b.net, 0n);
    const fedProblems: string[] = [];
    if (positionsSum + this.#pending !== 0n) {
      fedProblems.push(
        `the net positions sum to ${positionsSum} milli-notes and transfers in flight account for ${-this.#pending}: ${positionsSum + this.#pending} milli-notes are unaccounted for`,
      );
    }
    const federation = { ok: fedProblems.length === 0, positionsSum, inFlight: this.#pending, inFlightCount: this.#inFlightCount, problems: fedProblems };
    const ok =
      federation.ok &&
      pairs.every((p) => p.state === 'matched') &&
      banks.every((b) => b.problems.length === 0 && (b.conservation === undefined || b.conservation.ok));
    return { ok, self: this.self, banks, pairs, federation };
  }

  #bankReport(b: Book): BankReport {
    const positions = [...b.positions.values()].map((p) => ({ bank: p.bank, position: { ...p.position }, net: netPosition(p.position) }));
    const net = positions.reduce((s, p) => s + p.net, 0n);
    let conservation: Conservation | undefined;
    if (b.size > 0) {
      const s = b.state;
      const t = s.totals;
      const problem = b.replayProblem ? `the log does not replay: entry ${b.replayProblem.index}: ${b.replayProblem.problem}` : conservationProblem(s);
      conservation = {
        ok: problem === undefined,
        replayed: s.size,
        balances: s.sumOfBalances(),
        issued: t.issued,
        retired: t.retired,
        sent: t.sent,
        refunded: t.refunded,
        received: t.received,
        net: t.received - t.sent + t.refunded,
        problem,
      };
    }
    return { bank: b.bank, name: b.name, self: bytesEqual(b.bank, this.self), replicated: b.size, net, positions, conservation, problems: [...b.problems] };
  }
}

function firstOf<T>(lists: Iterable<readonly T[]>, max: number): T[] {
  const out: T[] = [];
  for (const l of lists) {
    for (const x of l) {
      if (out.length >= max) return out;
      out.push(x);
    }
  }
  return out;
}

// ---- I/O --------------------------------------------------------------------------------

/** What the reconciler reads of the bank's own ledger (a LedgerStore). */
export interface OwnLog {
  readonly bank: { readonly key: Uint8Array };
  readonly size: number;
  getEntries(from: number, to: number): Promise<Uint8Array[]>;
  subscribe(listener: () => void): () => void;
}

/** What the reconciler reads of the replicas (a ReplicaStore). */
export interface ReplicaLogs {
  list(): ReadonlyArray<{ readonly bank: Uint8Array; readonly size: number }>;
  getEntries(bank: Uint8Array, from: number, to: number): Promise<Uint8Array[]>;
  subscribe(listener: () => void): () => void;
}

export interface ReconcilerOptions {
  readonly store: OwnLog;
  readonly replicas?: ReplicaLogs;
  readonly verify: VerifyFn;
  /** checks many signatures at once (the verifier pool); without it each is checked inline */
  readonly verifyBatch?: (items: readonly SignatureItem[]) => Promise<Uint8Array>;
  /** entries read and replayed at a time; default 1000 */
  readonly chunk?: number;
  /** told when a background catch-up fails (the next request tries again) */
  readonly onError?: (err: unknown) => void;
}

/**
 * Keeps a {@link Reconciliation} of the node's own log and its replicas. Nothing is read
 * before the first {@link report}; from then on, every commit and every replica chunk starts a
 * catch-up in the background, so a request reads only what arrived since the last one.
 */
export class Reconciler {
  readonly #o: ReconcilerOptions;
  #rec: Reconciliation | undefined;
  #chain: Promise<unknown> = Promise.resolve();
  #queued = false;
  #stopped = false;
  readonly #unsubscribe: Array<() => void> = [];

  constructor(o: ReconcilerOptions) {
    this.#o = o;
    const onAppend = () => {
      if (this.#rec && !this.#queued && !this.#stopped) {
        this.#queued = true;
        void this.#enqueue(() => {
          this.#queued = false;
          return this.#catchUp();
        }).catch((err: unknown) => o.onError?.(err));
      }
    };
    this.#unsubscribe.push(o.store.subscribe(onAppend));
    if (o.replicas) this.#unsubscribe.push(o.replicas.subscribe(onAppend));
  }

  /** The reconciliation of every log as held now (built on the first call). */
  report(): Promise<ReconciliationReport> {
    return this.#enqueue(async () => {
      await this.#catchUp();
      return this.#rec!.report();
    });
  }

  /** Stops following the logs and waits for a catch-up in progress. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const u of this.#unsubscribe.splice(0)) u();
    await this.#chain.catch(() => {});
  }

  #enqueue<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#chain.then(task);
    this.#chain = run.catch(() => {});
    return run;
  }

  async #catchUp(): Promise<void> {
    const { store, replicas } = this.#o;
    this.#rec ??= new Reconciliation({ self: store.bank.key, verify: this.#o.verify });
    const rec = this.#rec;
    // Up to the sizes held now: a busy log does not keep a request waiting.
    const targets: Array<{ bank: Uint8Array; size: number; read: (from: number, to: number) => Promise<Uint8Array[]> }> = [
      { bank: store.bank.key, size: store.size, read: (f, t) => store.getEntries(f, t) },
    ];
    for (const r of replicas?.list() ?? []) {
      if (!bytesEqual(r.bank, store.bank.key)) targets.push({ bank: r.bank, size: r.size, read: (f, t) => replicas!.getEntries(r.bank, f, t) });
    }
    const chunk = this.#o.chunk ?? 1000;
    for (const t of targets) {
      for (let from = rec.sizeOf(t.bank); from < t.size && !this.#stopped; from = rec.sizeOf(t.bank)) {
        const entries = await t.read(from, Math.min(t.size, from + chunk));
        if (entries.length === 0) break;
        const pre = this.#o.verifyBatch ? await preverifyEntries(rec.stateOf(t.bank), entries, this.#o.verifyBatch) : undefined;
        rec.ingest(t.bank, from, entries, pre);
      }
    }
  }
}
