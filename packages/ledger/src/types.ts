import type { Code, RejectCode } from '@mutual/interface';
import type { AccountKindNumber } from '@mutual/protocol';

/** The state of one account, as materialized after every commit. */
export interface Account {
  readonly id: Uint8Array; // 20 bytes
  readonly holderKey: Uint8Array; // 32 bytes
  readonly kind: AccountKindNumber;
  readonly label: string;
  readonly openedIndex: number;
  /** milli-notes; never negative */
  balance: bigint;
  /** last applied sequence number; 0n before the first instruction */
  sequence: bigint;
}

/**
 * What an applied instruction produced, kept so that a retry returns the original result: the
 * entry it appended, and what tells a retry of the same bytes from another instruction with the
 * same sequence number. One of `body` and `bodyHash` is set (see {@link sameInstruction}).
 */
export interface AppliedRef {
  readonly entryIndex: number;
  /** the SignedInstruction.body that was applied, as in the entry */
  readonly body?: Uint8Array;
  /** SHA-256 of that body, where the body itself is not kept */
  readonly bodyHash?: Uint8Array;
}

/** Ledger-wide totals that the conservation check needs. */
export interface Totals {
  /** milli-notes issued since genesis */
  issued: bigint;
  /** milli-notes retired since genesis */
  retired: bigint;
  /** accounts opened since genesis */
  accounts: bigint;
  /** milli-notes of this bank's outgoing interbank transfers (payers debited) */
  sent: bigint;
  /** milli-notes refunded to payers after the payee's bank rejected an outgoing transfer */
  refunded: bigint;
  /** milli-notes credited to payees here by other banks' outgoing transfers */
  received: bigint;
}

/** An entry of another bank's log, pinned by its RFC 9162 leaf hash. */
export interface EntryRef {
  readonly bank: Uint8Array; // 32 bytes
  readonly index: number;
  readonly leafHash: Uint8Array; // 32 bytes
}

/** Interbank totals of this bank with one other bank (milli-notes). */
export interface Position {
  /** outgoing transfers to that bank */
  sent: bigint;
  /** of those, refunded after that bank rejected them */
  refunded: bigint;
  /** credited here for that bank's outgoing transfers */
  received: bigint;
}

/** An interbank transfer this bank sent: its outgoing entry. */
export interface Outgoing {
  readonly index: number;
  readonly payer: Uint8Array; // 20 bytes
  readonly bank: Uint8Array; // 32 bytes: the payee's bank
  readonly payee: Uint8Array; // 20 bytes
  readonly amount: bigint;
  /** index of this bank's refund entry, once refunded */
  refundIndex: number | undefined;
}

/** Category name to rate x 1000 (standard: 1000, unpleasant: 1500). */
export type RateSchedule = ReadonlyMap<string, number>;

/** The bank a ledger belongs to. */
export interface BankInfo {
  readonly key: Uint8Array; // 32 bytes
  readonly name: string;
  readonly bioregion: string;
}

/**
 * Bank-authored commands (the admin side) and holder-signed instructions, in the order the
 * bank received them.
 */
export type Command =
  | { readonly type: 'genesis'; readonly name: string; readonly bioregion: string }
  | {
      readonly type: 'openAccount';
      readonly holderKey: Uint8Array;
      readonly kind: AccountKindNumber;
      readonly label: string;
    }
  | { readonly type: 'adoptRates'; readonly rates: ReadonlyArray<readonly [string, number]> }
  | { readonly type: 'instruction'; readonly prepared: Prepared }
  /** SignedAgreement bytes: adopt a complete federation agreement (two entries). */
  | { readonly type: 'adoptAgreement'; readonly signed: Uint8Array }
  /**
   * Answer another bank's outgoing entry `source` naming this bank: credit `payee` if the
   * interbank rules allow it, else record a rejection. Exactly one answer per source entry.
   */
  | { readonly type: 'interbankCredit'; readonly source: EntryRef; readonly payee: Uint8Array; readonly amount: bigint }
  /** Record a rejection of `source` with `code` (the node decided, e.g. the sender is forked). */
  | { readonly type: 'interbankReject'; readonly source: EntryRef; readonly amount: bigint; readonly code: string }
  /** Refund this bank's outgoing entry `outgoingIndex`, which `rejection` (the payee bank's entry) refused. */
  | { readonly type: 'interbankRefund'; readonly rejection: EntryRef; readonly outgoingIndex: number };

/** A signed instruction that passed every check that needs no ledger state. */
export interface PreparedOk {
  readonly ok: true;
  /** SignedInstruction.body as received */
  readonly body: Uint8Array;
  /** SignedInstruction.signature as received */
  readonly signature: Uint8Array;
  readonly bank: Uint8Array;
  readonly account: Uint8Array;
  readonly sequence: bigint;
  readonly action: Action;
  /**
   * Signature validity already established (for example by a worker pool) for the holder key
   * `verifiedKey`. The core uses it only if that key is the account's holder key.
   */
  verified?: { readonly key: Uint8Array; readonly valid: boolean };
}

export interface PreparedRejected {
  readonly ok: false;
  readonly code: RejectCode;
  readonly message: string;
}

export type Prepared = PreparedOk | PreparedRejected;

export type Action =
  | {
      readonly type: 'transfer';
      readonly payee: Uint8Array;
      readonly amount: bigint;
      readonly memo: string;
      /** undefined: the payee is at the same bank */
      readonly payeeBank: Uint8Array | undefined;
    }
  | {
      readonly type: 'labor';
      readonly worker: Uint8Array;
      readonly day: number;
      readonly milliHours: bigint;
      readonly category: string;
      readonly memo: string;
    }
  | { readonly type: 'retirement'; readonly amount: bigint; readonly memo: string };

/** Why an agreement was not adopted (docs/errors.md). */
export type AgreementRefusal = Extract<Code, 'AGREEMENT_INVALID' | 'AGREEMENT_INCOMPLETE' | 'NOT_AGREEMENT_MEMBER' | 'AGREEMENT_NOT_CURRENT'>;

/** The outcome of one command, in the order of the commands. */
export type Result =
  | {
      readonly code: 'APPLIED';
      readonly entryIndex: number;
      /** true when this is a retry of an instruction applied before: nothing changed */
      readonly duplicate: boolean;
      /** milli-notes moved or issued (instructions) */
      readonly amount?: bigint;
      /** the account opened (openAccount) */
      readonly account?: Uint8Array;
      /** interbankCredit: the code of the rejection recorded instead of a credit */
      readonly rejected?: string;
    }
  | { readonly code: RejectCode | AgreementRefusal | Extract<Code, 'ACCOUNT_EXISTS' | 'VALIDATION_FAILED' | 'RATE_SCHEDULE_INVALID'>; readonly message: string };

export function isApplied(r: Result): r is Extract<Result, { code: 'APPLIED' }> {
  return r.code === 'APPLIED';
}
