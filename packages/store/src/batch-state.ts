import { appliedKey, bkey, entryKey, laborDayKey, ZERO_POSITION, type Outgoing, type Position, type Account, type AgreementInForce, type AppliedRef, type BankInfo, type LedgerState, type RateSchedule, type Totals } from '@mutual/ledger';

/**
 * The ledger state one batch is applied to: the store's current totals and schedule, and the
 * records the batch can read, loaded beforehand. Reading a record that was not loaded is a
 * programmer error (the loader and the rules disagree about what a batch touches).
 */
export class BatchState implements LedgerState {
  readonly accounts = new Map<string, Account | null>();
  readonly applied = new Map<string, AppliedRef | null>();
  readonly laborDays = new Map<string, bigint>();
  readonly outgoing = new Map<number, Outgoing | null>();
  readonly inbound = new Map<string, number | null>();
  /** every bank's position (the store keeps them all in memory) */
  positions: ReadonlyMap<string, Position> = new Map();
  bank: BankInfo | undefined;
  size: number;
  totals: Totals;
  rates: RateSchedule;
  agreement: AgreementInForce | undefined;

  constructor(base: { bank: BankInfo | undefined; size: number; totals: Totals; rates: RateSchedule; agreement: AgreementInForce | undefined }) {
    this.bank = base.bank;
    this.size = base.size;
    this.totals = base.totals;
    this.rates = base.rates;
    this.agreement = base.agreement;
  }

  getAccount(id: Uint8Array, key = bkey(id)): Account | undefined {
    const a = this.accounts.get(key);
    if (a === undefined) throw new Error('invariant violated: account read by a batch was not loaded');
    return a ?? undefined;
  }

  getApplied(account: Uint8Array, sequence: bigint): AppliedRef | undefined {
    const r = this.applied.get(appliedKey(account, sequence));
    if (r === undefined) throw new Error('invariant violated: applied record read by a batch was not loaded');
    return r ?? undefined;
  }

  getLaborDay(worker: Uint8Array, day: number): bigint {
    const v = this.laborDays.get(laborDayKey(worker, day));
    if (v === undefined) throw new Error('invariant violated: labor day read by a batch was not loaded');
    return v;
  }

  getOutgoing(index: number): Outgoing | undefined {
    const v = this.outgoing.get(index);
    if (v === undefined) throw new Error('invariant violated: outgoing record read by a batch was not loaded');
    return v ?? undefined;
  }

  getInbound(bank: Uint8Array, index: number): number | undefined {
    const v = this.inbound.get(entryKey(bank, index));
    if (v === undefined) throw new Error('invariant violated: inbound record read by a batch was not loaded');
    return v ?? undefined;
  }

  getPosition(bank: Uint8Array): Readonly<Position> {
    return this.positions.get(bkey(bank)) ?? ZERO_POSITION;
  }
}
