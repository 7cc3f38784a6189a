import { sha256 } from '@mutual/crypto';
import { appliedKey, bkey, bytesEqual, laborDayKey } from './keys.ts';
import type { AgreementInForce } from './agreement.ts';
import type { Account, AppliedRef, BankInfo, Outgoing, Position, RateSchedule, Totals } from './types.ts';

/** The key of another bank's entry in maps: bank, then index. */
export function entryKey(bank: Uint8Array, index: number): string {
  return `${bkey(bank)}:${index}`;
}

/**
 * Whether `body` is the instruction body that `ref` records: compared byte for byte when the
 * record holds the body, else by SHA-256. A record that holds neither is a broken invariant.
 */
export function sameInstruction(ref: AppliedRef, body: Uint8Array): boolean {
  if (ref.body) return bytesEqual(ref.body, body);
  if (!ref.bodyHash) throw new Error('invariant violated: an applied record without its body or its hash');
  return bytesEqual(ref.bodyHash, sha256(body));
}

export const ZERO_POSITION: Readonly<Position> = Object.freeze({ sent: 0n, refunded: 0n, received: 0n });

/**
 * What the ledger rules read. Reads are synchronous: a disk-backed implementation loads every
 * key a batch can touch (see `readSet`) before the batch is applied.
 */
export interface LedgerState {
  /** The bank; undefined before genesis. */
  readonly bank: BankInfo | undefined;
  /** Number of entries in the log: the index the next entry gets. */
  readonly size: number;
  readonly totals: Readonly<Totals>;
  readonly rates: RateSchedule;
  /** The federation agreement adopted last; undefined before the first adoption. */
  readonly agreement: AgreementInForce | undefined;
  /** @param key - bkey(id), when the caller has it already */
  getAccount(id: Uint8Array, key?: string): Account | undefined;
  getApplied(account: Uint8Array, sequence: bigint): AppliedRef | undefined;
  /** milli-hours credited to `worker` for `day`, across all labor records */
  getLaborDay(worker: Uint8Array, day: number): bigint;
  /** the interbank transfer this bank sent at entry `index`, if that entry is one */
  getOutgoing(index: number): Outgoing | undefined;
  /** index of this bank's credit or rejection of `bank`'s outgoing entry `index`, if answered */
  getInbound(bank: Uint8Array, index: number): number | undefined;
  /** interbank totals with `bank` (zero when none) */
  getPosition(bank: Uint8Array): Readonly<Position>;
}

/** Everything one batch changed, as final values, for the store to write in one batch. */
export interface StateChanges {
  bank: BankInfo | undefined;
  size: number;
  totals: Totals;
  /** set when the batch adopted a new schedule */
  rates: RateSchedule | undefined;
  /** set when the batch adopted an agreement: the view, and the AgreementAdopted bytes to store */
  agreement: AdoptedAgreement | undefined;
  /** final state of every account the batch created or changed */
  accounts: Map<string, Account>;
  applied: Array<{ account: Uint8Array; sequence: bigint; ref: AppliedRef }>;
  laborDays: Map<string, { worker: Uint8Array; day: number; milliHours: bigint }>;
  /**
   * (account, entry index) pairs for account statements. An entry that applies an account's own
   * instruction is not among them: the account's applied record (in `applied`) lists it.
   */
  history: Array<{ account: Uint8Array; entryIndex: number }>;
  /** outgoing transfers created or refunded, by entry index */
  outgoing: Map<number, Outgoing>;
  /** answers to other banks' outgoing entries */
  inbound: Array<{ bank: Uint8Array; index: number; entryIndex: number }>;
  /** final interbank totals with each bank changed, by bank (bkey) */
  positions: Map<string, { bank: Uint8Array; position: Position }>;
}

/** An adopted agreement as the store keeps it. */
export interface AdoptedAgreement {
  readonly inForce: AgreementInForce;
  /** the AgreementAdopted message of the entry (exact Agreement bytes and signatures) */
  readonly record: Uint8Array;
}

/**
 * A copy-on-write view over a base state: the rules write here, the base is never mutated.
 */
export class Overlay implements LedgerState {
  readonly #base: LedgerState;
  readonly changes: StateChanges;
  /** changes.applied by appliedKey, built on the first lookup (only a retry looks) */
  #applied: Map<string, AppliedRef> | undefined;
  readonly #inbound = new Map<string, number>();

  constructor(base: LedgerState) {
    this.#base = base;
    this.changes = {
      bank: base.bank,
      size: base.size,
      totals: { ...base.totals },
      rates: undefined,
      agreement: undefined,
      accounts: new Map(),
      applied: [],
      laborDays: new Map(),
      history: [],
      outgoing: new Map(),
      inbound: [],
      positions: new Map(),
    };
  }

  get bank(): BankInfo | undefined {
    return this.changes.bank;
  }
  get size(): number {
    return this.changes.size;
  }
  get totals(): Totals {
    return this.changes.totals;
  }
  get rates(): RateSchedule {
    return this.changes.rates ?? this.#base.rates;
  }
  get agreement(): AgreementInForce | undefined {
    return this.changes.agreement?.inForce ?? this.#base.agreement;
  }

  getAccount(id: Uint8Array, key = bkey(id)): Account | undefined {
    return this.changes.accounts.get(key) ?? this.#base.getAccount(id, key);
  }

  /** A mutable copy of the account, registered as changed. */
  editAccount(id: Uint8Array, k = bkey(id)): Account | undefined {
    const mine = this.changes.accounts.get(k);
    if (mine) return mine;
    const base = this.#base.getAccount(id, k);
    if (!base) return undefined;
    const copy = { ...base };
    this.changes.accounts.set(k, copy);
    return copy;
  }

  addAccount(account: Account): void {
    this.changes.accounts.set(bkey(account.id), account);
  }

  getApplied(account: Uint8Array, sequence: bigint): AppliedRef | undefined {
    if (this.#applied === undefined) {
      this.#applied = new Map();
      for (const a of this.changes.applied) this.#applied.set(appliedKey(a.account, a.sequence), a.ref);
    }
    return this.#applied.get(appliedKey(account, sequence)) ?? this.#base.getApplied(account, sequence);
  }

  addApplied(account: Uint8Array, sequence: bigint, ref: AppliedRef): void {
    this.#applied?.set(appliedKey(account, sequence), ref);
    this.changes.applied.push({ account, sequence, ref });
  }

  getLaborDay(worker: Uint8Array, day: number): bigint {
    return this.changes.laborDays.get(laborDayKey(worker, day))?.milliHours ?? this.#base.getLaborDay(worker, day);
  }

  setLaborDay(worker: Uint8Array, day: number, milliHours: bigint): void {
    this.changes.laborDays.set(laborDayKey(worker, day), { worker, day, milliHours });
  }

  setRates(rates: RateSchedule): void {
    this.changes.rates = rates;
  }

  getOutgoing(index: number): Outgoing | undefined {
    return this.changes.outgoing.get(index) ?? this.#base.getOutgoing(index);
  }

  /** Records an outgoing transfer (new, or with its refund). */
  setOutgoing(o: Outgoing): void {
    this.changes.outgoing.set(o.index, o);
  }

  getInbound(bank: Uint8Array, index: number): number | undefined {
    return this.#inbound.get(entryKey(bank, index)) ?? this.#base.getInbound(bank, index);
  }

  addInbound(bank: Uint8Array, index: number, entryIndex: number): void {
    this.#inbound.set(entryKey(bank, index), entryIndex);
    this.changes.inbound.push({ bank, index, entryIndex });
  }

  getPosition(bank: Uint8Array): Readonly<Position> {
    return this.changes.positions.get(bkey(bank))?.position ?? this.#base.getPosition(bank);
  }

  /** A mutable copy of the totals with `bank`, registered as changed. */
  editPosition(bank: Uint8Array): Position {
    const k = bkey(bank);
    const mine = this.changes.positions.get(k);
    if (mine) return mine.position;
    const position = { ...this.#base.getPosition(bank) };
    this.changes.positions.set(k, { bank, position });
    return position;
  }

  setAgreement(a: AdoptedAgreement): void {
    this.changes.agreement = a;
  }

  setBank(bank: BankInfo): void {
    this.changes.bank = bank;
  }

  /** Claims the next entry index. */
  nextIndex(): number {
    return this.changes.size++;
  }

  touch(account: Uint8Array, entryIndex: number): void {
    this.changes.history.push({ account, entryIndex });
  }
}

/**
 * A whole ledger state in memory: for tests, for replaying a log (verify, audit) and as the
 * base the rules run on in unit tests.
 */
export class MemoryLedgerState implements LedgerState {
  bank: BankInfo | undefined = undefined;
  size = 0;
  totals: Totals = { issued: 0n, retired: 0n, accounts: 0n, sent: 0n, refunded: 0n, received: 0n };
  rates: RateSchedule = new Map();
  agreement: AgreementInForce | undefined = undefined;
  /** AgreementAdopted bytes of the agreement in force */
  agreementRecord: Uint8Array | undefined = undefined;
  readonly accounts = new Map<string, Account>();
  /** applied instructions, by appliedKey; with the body's hash, not the body, to keep replay's memory small */
  readonly applied = new Map<string, AppliedRef>();
  readonly laborDays = new Map<string, bigint>();
  /** history records by account (bkey): see StateChanges.history */
  readonly history = new Map<string, number[]>();
  readonly outgoing = new Map<number, Outgoing>();
  readonly inbound = new Map<string, number>();
  readonly positions = new Map<string, { bank: Uint8Array; position: Position }>();
  /** commit time of the last entry replayed; entry times never decrease */
  lastTimeMs = 0n;

  getAccount(id: Uint8Array, key = bkey(id)): Account | undefined {
    return this.accounts.get(key);
  }
  getApplied(account: Uint8Array, sequence: bigint): AppliedRef | undefined {
    return this.applied.get(appliedKey(account, sequence));
  }
  getLaborDay(worker: Uint8Array, day: number): bigint {
    return this.laborDays.get(laborDayKey(worker, day)) ?? 0n;
  }
  getOutgoing(index: number): Outgoing | undefined {
    return this.outgoing.get(index);
  }
  getInbound(bank: Uint8Array, index: number): number | undefined {
    return this.inbound.get(entryKey(bank, index));
  }
  getPosition(bank: Uint8Array): Readonly<Position> {
    return this.positions.get(bkey(bank))?.position ?? ZERO_POSITION;
  }

  /** Makes the changes of one batch part of this state. */
  commit(changes: StateChanges): void {
    this.bank = changes.bank;
    this.size = changes.size;
    this.totals = { ...changes.totals };
    if (changes.rates) this.rates = changes.rates;
    if (changes.agreement) {
      this.agreement = changes.agreement.inForce;
      this.agreementRecord = changes.agreement.record;
    }
    for (const [k, a] of changes.accounts) this.accounts.set(k, { ...a });
    for (const { account, sequence, ref } of changes.applied) {
      const bodyHash = ref.bodyHash ?? (ref.body && sha256(ref.body));
      this.applied.set(appliedKey(account, sequence), { entryIndex: ref.entryIndex, bodyHash });
    }
    for (const [k, v] of changes.laborDays) this.laborDays.set(k, v.milliHours);
    for (const { account, entryIndex } of changes.history) {
      const k = bkey(account);
      const list = this.history.get(k);
      if (list) list.push(entryIndex);
      else this.history.set(k, [entryIndex]);
    }
    for (const [i, o] of changes.outgoing) this.outgoing.set(i, { ...o });
    for (const { bank, index, entryIndex } of changes.inbound) this.inbound.set(entryKey(bank, index), entryIndex);
    for (const [k, p] of changes.positions) this.positions.set(k, { bank: p.bank, position: { ...p.position } });
  }

  /** Sum of all balances, for the conservation check. */
  sumOfBalances(): bigint {
    let s = 0n;
    for (const a of this.accounts.values()) s += a.balance;
    return s;
  }
}
