import { appliedKey, bkey, laborDayKey, type Account, type AgreementInForce, type AppliedRef, type BankInfo, type LedgerState, type RateSchedule, type Totals } from '@mutual/ledger';

/**
 * The ledger state one batch is applied to: the store's current totals and schedule, and the
 * records the batch can read, loaded beforehand. Reading a record that was not loaded is a
 * programmer error (the loader and the rules disagree about what a batch touches).
 */
export class BatchState implements LedgerState {
  readonly accounts = new Map<string, Account | null>();
  readonly applied = new Map<string, AppliedRef | null>();
  readonly laborDays = new Map<string, bigint>();
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

  getAccount(id: Uint8Array): Account | undefined {
    const a = this.accounts.get(bkey(id));
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
}
