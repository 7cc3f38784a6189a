import { LIMITS, type Code } from '@mutual/interface';
import type { mutual } from '@mutual/protocol';
import { isMember } from './agreement.ts';
import { bytesEqual } from './keys.ts';
import type { Overlay } from './state.ts';
import { u64Field } from './u64.ts';
import type { EntryRef, Position, Result } from './types.ts';

/** Appends one entry of the given kind and returns its index. */
type Append = (kind: Omit<mutual.v1.Entry.$Properties, 'index' | 'timeMs'>) => number;

/**
 * What a bank's interbank rules need to know beyond its own state: whether it holds a fork
 * proof against another bank. Absent: no bank is known forked (a replay of a log).
 */
export type ForkCheck = ((bank: Uint8Array) => boolean) | undefined;

/**
 * The net position of this bank toward `bank` as this bank records it: what this bank has
 * received from it minus what it sent and was not refunded. Negative: this bank's members
 * paid more to that bank's members than they were paid (notes left this bank).
 */
export function netPosition(p: Readonly<Position>): bigint {
  return p.received - p.sent + p.refunded;
}

/** Why an interbank transfer (outgoing, or its credit) is refused, or undefined. */
function federationProblem(o: Overlay, me: Uint8Array, other: Uint8Array, isForked: ForkCheck): { code: Code; message: string } | undefined {
  const a = o.agreement;
  if (!a || !isMember(a, me) || !isMember(a, other)) {
    return { code: 'INTERBANK_UNAVAILABLE', message: 'no federation agreement in force covers both banks' };
  }
  if (isForked?.(other)) return { code: 'BANK_FORKED', message: 'the other bank signed inconsistent tree heads' };
  return undefined;
}

/**
 * Step 8 of an outgoing transfer (payee at `payeeBank`, another bank), after the checks every
 * transfer shares: the rejection, or undefined when it may be sent.
 */
export function outgoingProblem(o: Overlay, me: Uint8Array, payeeBank: Uint8Array, balance: bigint, amount: bigint, isForked: ForkCheck): { code: Code; message: string } | undefined {
  const fed = federationProblem(o, me, payeeBank, isForked);
  if (fed) return fed;
  if (balance < amount) return { code: 'INSUFFICIENT_FUNDS', message: 'the balance is lower than the amount' };
  const limit = o.agreement!.clearingLimit;
  if (-(netPosition(o.getPosition(payeeBank)) - amount) > limit) {
    return { code: 'CLEARING_LIMIT', message: `the net position toward the payee's bank would pass the clearing limit of ${limit} milli-notes` };
  }
  return undefined;
}

/** Records a sent transfer at entry `index`: the totals and position (the caller debits the payer). */
export function recordOutgoing(o: Overlay, index: number, payer: Uint8Array, payeeBank: Uint8Array, payee: Uint8Array, amount: bigint): void {
  o.editPosition(payeeBank).sent += amount;
  o.totals.sent += amount;
  o.setOutgoing({ index, payer, bank: payeeBank, payee, amount, refundIndex: undefined });
}

function refProblem(ref: EntryRef, me: Uint8Array): string | undefined {
  if (ref.bank.length !== 32 || ref.leafHash.length !== 32) return 'an entry reference has a 32-byte bank and leaf hash';
  if (bytesEqual(ref.bank, me)) return 'an entry reference names another bank than this one';
  if (!Number.isSafeInteger(ref.index) || ref.index < 1) return 'an entry reference has an index of 1 or more';
  return undefined;
}

function refField(ref: EntryRef): mutual.v1.IEntryRef {
  return { bank: ref.bank, index: u64Field(ref.index), leafHash: ref.leafHash };
}

function amountProblem(amount: bigint): string | undefined {
  return amount < 1n || amount > LIMITS.MAX_AMOUNT_MILLI ? 'the amount is out of bounds' : undefined;
}

/**
 * Answers another bank's outgoing entry: a credit to `payee`, or a rejection recorded with its
 * code. A source already answered returns the original answer (`duplicate`).
 */
export function applyCredit(
  o: Overlay,
  me: Uint8Array,
  c: { source: EntryRef; payee: Uint8Array; amount: bigint },
  isForked: ForkCheck,
  append: Append,
): Result {
  const bad = refProblem(c.source, me) ?? amountProblem(c.amount) ?? (c.payee.length === 20 ? undefined : 'the payee is 20 bytes');
  if (bad) return { code: 'VALIDATION_FAILED', message: bad };
  const prior = o.getInbound(c.source.bank, c.source.index);
  if (prior !== undefined) return { code: 'APPLIED', entryIndex: prior, duplicate: true };

  let refusal = federationProblem(o, me, c.source.bank, isForked);
  const payee = refusal ? undefined : o.getAccount(c.payee);
  if (!refusal && !payee) refusal = { code: 'UNKNOWN_PAYEE', message: 'the payee account does not exist at this bank' };
  if (!refusal && netPosition(o.getPosition(c.source.bank)) + c.amount > o.agreement!.clearingLimit) {
    refusal = { code: 'CLEARING_LIMIT', message: 'the net position toward the payer bank would pass the clearing limit' };
  }
  if (!refusal && payee!.balance + c.amount > LIMITS.MAX_BALANCE_MILLI) refusal = { code: 'BALANCE_LIMIT', message: 'the payee balance would exceed its limit' };
  if (refusal) return reject(o, { source: c.source, amount: c.amount, code: refusal.code }, append);

  const index = append({ interbankCredit: { source: refField(c.source), payee: c.payee, amount: u64Field(c.amount) } });
  o.addInbound(c.source.bank, c.source.index, index);
  o.editAccount(c.payee)!.balance += c.amount;
  o.editPosition(c.source.bank).received += c.amount;
  o.totals.received += c.amount;
  o.touch(c.payee, index);
  return { code: 'APPLIED', entryIndex: index, duplicate: false, amount: c.amount };
}

/** The codes an InterbankRejection may carry (protocol/README.md, "Interbank transfers"). */
export const REJECTION_CODES: ReadonlySet<string> = new Set<Code>(['INTERBANK_UNAVAILABLE', 'BANK_FORKED', 'UNKNOWN_PAYEE', 'CLEARING_LIMIT', 'BALANCE_LIMIT']);

/** Records a rejection of another bank's outgoing entry (nothing moves at this bank). */
export function applyReject(o: Overlay, me: Uint8Array, c: { source: EntryRef; amount: bigint; code: string }, append: Append): Result {
  const bad = refProblem(c.source, me) ?? amountProblem(c.amount) ?? (REJECTION_CODES.has(c.code) ? undefined : 'the rejection code is not one a rejection may carry');
  if (bad) return { code: 'VALIDATION_FAILED', message: bad };
  const prior = o.getInbound(c.source.bank, c.source.index);
  if (prior !== undefined) return { code: 'APPLIED', entryIndex: prior, duplicate: true };
  return reject(o, c, append);
}

function reject(o: Overlay, c: { source: EntryRef; amount: bigint; code: string }, append: Append): Result {
  const index = append({ interbankRejection: { source: refField(c.source), amount: u64Field(c.amount), code: c.code } });
  o.addInbound(c.source.bank, c.source.index, index);
  return { code: 'APPLIED', entryIndex: index, duplicate: false, amount: 0n, rejected: c.code };
}

/**
 * Refunds this bank's outgoing entry `outgoingIndex` after the payee's bank rejected it in
 * entry `rejection`. A transfer already refunded returns the original refund (`duplicate`).
 */
export function applyRefund(o: Overlay, me: Uint8Array, c: { rejection: EntryRef; outgoingIndex: number }, append: Append): Result {
  const bad = refProblem(c.rejection, me);
  if (bad) return { code: 'VALIDATION_FAILED', message: bad };
  const out = Number.isSafeInteger(c.outgoingIndex) ? o.getOutgoing(c.outgoingIndex) : undefined;
  if (!out) return { code: 'VALIDATION_FAILED', message: `entry ${c.outgoingIndex} is not an interbank transfer of this bank` };
  if (!bytesEqual(out.bank, c.rejection.bank)) return { code: 'VALIDATION_FAILED', message: 'the rejection comes from another bank than the payee bank' };
  if (out.refundIndex !== undefined) return { code: 'APPLIED', entryIndex: out.refundIndex, duplicate: true };

  const index = append({
    interbankRefund: { rejection: refField(c.rejection), outgoingIndex: u64Field(out.index), payer: out.payer, amount: u64Field(out.amount) },
  });
  o.setOutgoing({ ...out, refundIndex: index });
  o.editAccount(out.payer)!.balance += out.amount;
  o.editPosition(out.bank).refunded += out.amount;
  o.totals.refunded += out.amount;
  o.touch(out.payer, index);
  return { code: 'APPLIED', entryIndex: index, duplicate: false, amount: out.amount };
}
