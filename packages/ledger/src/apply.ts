import { deriveAccountId } from '@mutual/codec';
import { LIMITS } from '@mutual/interface';
import { AccountKind, DOMAIN, PROTOCOL_VERSION, pb, signedMessage, type mutual } from '@mutual/protocol';
import { adoptAgreement } from './adopt.ts';
import { bkey, bytesEqual } from './keys.ts';
import { isName, isWellFormedText } from './prepare.ts';
import { u64Field } from './u64.ts';
import { applyCredit, applyRefund, applyReject, outgoingProblem, recordOutgoing, type ForkCheck } from './interbank.ts';
import { issuedFor, rateScheduleProblem, toSchedule } from './rates.ts';
import { Overlay, sameInstruction, type LedgerState, type StateChanges } from './state.ts';
import type { Command, PreparedOk, Result } from './types.ts';

/** Ed25519 verification: the node's one verifier (strict rules, protocol/README.md). */
export type VerifyFn = (signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array) => boolean;

export interface ApplyContext {
  /** The bank's public key: every instruction must be addressed to it. */
  readonly bankKey: Uint8Array;
  /** The commit time, written in every entry of the batch (ms since 1970-01-01 UTC). */
  readonly timeMs: bigint;
  readonly verify: VerifyFn;
  /** Whether this bank holds a fork proof against a bank (interbank rules); default: none. */
  readonly isForked?: ForkCheck;
}

export interface BatchOutcome {
  /** one per command, in order */
  readonly results: Result[];
  /** the encoded entries appended, in log order, from index `state.size` on */
  readonly entries: Uint8Array[];
  readonly changes: StateChanges;
}

const MS_PER_DAY = 86_400_000n;
const utf8 = new TextEncoder();

/**
 * Applies `commands` in order to `state` and returns one result per command, the entries
 * to append and the state changes. `state` itself is not modified. Bad input never throws:
 * it is a rejected result. A broken invariant throws (programmer error).
 */
export function applyBatch(state: LedgerState, commands: readonly Command[], ctx: ApplyContext): BatchOutcome {
  const o = new Overlay(state);
  const entries: Uint8Array[] = [];
  const results: Result[] = [];
  const today = Number(ctx.timeMs / MS_PER_DAY);
  for (const c of commands) {
    const r = applyOne(o, c, ctx, today, entries);
    results.push(r);
  }
  assert(o.size === state.size + entries.length, 'log size grows by the entries appended');
  return { results, entries, changes: o.changes };
}

/** Encodes and appends one entry; returns its index. */
export type AppendEntry = (kind: Omit<mutual.v1.Entry.$Properties, 'index' | 'timeMs'>) => number;

function appendEntry(o: Overlay, ctx: ApplyContext, entries: Uint8Array[], kind: Omit<mutual.v1.Entry.$Properties, 'index' | 'timeMs'>): number {
  const index = o.nextIndex();
  const bytes = pb.Entry.encode({ index: u64Field(index), timeMs: u64Field(ctx.timeMs), ...kind }).finish();
  assert(bytes.length <= LIMITS.MAX_ENTRY_BYTES, 'entry within MAX_ENTRY_BYTES');
  entries.push(bytes);
  return index;
}

function applyOne(o: Overlay, c: Command, ctx: ApplyContext, today: number, entries: Uint8Array[]): Result {
  if (c.type === 'genesis') {
    assert(o.size === 0 && o.bank === undefined, 'genesis only on an empty log');
    for (const s of [c.name, c.bioregion]) {
      if (!isName(s)) return { code: 'VALIDATION_FAILED', message: `bank and bioregion names are at most ${LIMITS.MAX_NAME_BYTES} bytes of well-formed text` };
    }
    o.setBank({ key: ctx.bankKey, name: c.name, bioregion: c.bioregion });
    const index = appendEntry(o, ctx, entries, {
      genesis: { bank: ctx.bankKey, name: c.name, bioregion: c.bioregion, protocolVersion: PROTOCOL_VERSION },
    });
    return { code: 'APPLIED', entryIndex: index, duplicate: false };
  }
  assert(o.bank !== undefined, 'commands follow genesis');

  switch (c.type) {
    case 'openAccount': {
      if (c.holderKey.length !== 32) return { code: 'VALIDATION_FAILED', message: 'holder key must be 32 bytes' };
      if (!Object.values(AccountKind).includes(c.kind)) return { code: 'VALIDATION_FAILED', message: 'unknown account kind' };
      if (utf8.encode(c.label).length > LIMITS.MAX_LABEL_BYTES || !isWellFormedText(c.label)) {
        return { code: 'VALIDATION_FAILED', message: `label is at most ${LIMITS.MAX_LABEL_BYTES} bytes of well-formed text` };
      }
      const id = deriveAccountId(ctx.bankKey, c.holderKey);
      if (o.getAccount(id)) return { code: 'ACCOUNT_EXISTS', message: 'an account for this holder key exists already' };
      const index = appendEntry(o, ctx, entries, {
        accountOpened: { account: id, holderKey: c.holderKey, kind: c.kind, label: c.label },
      });
      o.addAccount({ id, holderKey: c.holderKey, kind: c.kind, label: c.label, openedIndex: index, balance: 0n, sequence: 0n });
      o.totals.accounts += 1n;
      o.touch(id, index);
      return { code: 'APPLIED', entryIndex: index, duplicate: false, account: id };
    }
    case 'adoptRates': {
      const problem = rateScheduleProblem(c.rates);
      if (problem) return { code: 'RATE_SCHEDULE_INVALID', message: problem };
      const index = appendEntry(o, ctx, entries, {
        rateSchedule: { rates: c.rates.map(([category, rateMilli]) => ({ category, rateMilli })) },
      });
      o.setRates(toSchedule(c.rates));
      return { code: 'APPLIED', entryIndex: index, duplicate: false };
    }
    case 'adoptAgreement':
      return adoptAgreement(o, c.signed, ctx, (kind) => appendEntry(o, ctx, entries, kind));
    case 'interbankCredit':
      return applyCredit(o, ctx.bankKey, c, ctx.isForked, (kind) => appendEntry(o, ctx, entries, kind));
    case 'interbankReject':
      return applyReject(o, ctx.bankKey, c, (kind) => appendEntry(o, ctx, entries, kind));
    case 'interbankRefund':
      return applyRefund(o, ctx.bankKey, c, (kind) => appendEntry(o, ctx, entries, kind));
    case 'instruction': {
      const p = c.prepared;
      if (!p.ok) return { code: p.code, message: p.message };
      return applyInstruction(o, p, ctx, today, entries);
    }
  }
}

/** Steps 4 to 8 of the validation order (protocol/README.md): the checks that need state. */
function applyInstruction(o: Overlay, p: PreparedOk, ctx: ApplyContext, today: number, entries: Uint8Array[]): Result {
  // 4. addressed to this bank
  if (!bytesEqual(p.bank, ctx.bankKey)) return { code: 'WRONG_BANK', message: 'the instruction is addressed to another bank' };
  // 5. the signer's account exists
  const signerKey = bkey(p.account);
  const signer = o.getAccount(p.account, signerKey);
  if (!signer) return { code: 'UNKNOWN_ACCOUNT', message: 'the signing account does not exist at this bank' };
  // 6. the signature verifies under the holder key
  const valid =
    p.verified && bytesEqual(p.verified.key, signer.holderKey)
      ? p.verified.valid
      : ctx.verify(p.signature, signedMessage(DOMAIN.instruction, p.body), signer.holderKey);
  if (!valid) return { code: 'BAD_SIGNATURE', message: "the signature does not verify under the account holder's key" };
  // 7. sequence: the next one, or a retry of the same bytes
  if (p.sequence <= signer.sequence) {
    const prior = o.getApplied(p.account, p.sequence);
    if (prior && sameInstruction(prior, p.body)) {
      return { code: 'APPLIED', entryIndex: prior.entryIndex, duplicate: true };
    }
    return { code: 'SEQUENCE_REPLAYED', message: `sequence ${p.sequence} was used by another instruction; the next is ${signer.sequence + 1n}` };
  }
  if (p.sequence !== signer.sequence + 1n) {
    return { code: 'SEQUENCE_GAP', message: `sequence ${p.sequence} is ahead; the next is ${signer.sequence + 1n}` };
  }

  // 8. the action's rules
  const a = p.action;
  let amount: bigint;
  let rateMilli = 0;
  let payeeKey: string | undefined;
  switch (a.type) {
    case 'transfer': {
      if (a.payeeBank && !bytesEqual(a.payeeBank, ctx.bankKey)) {
        const problem = outgoingProblem(o, ctx.bankKey, a.payeeBank, signer.balance, a.amount, ctx.isForked);
        if (problem) return problem as Result;
        amount = a.amount;
        break;
      }
      if (bytesEqual(a.payee, p.account)) return { code: 'SELF_TRANSFER', message: 'payer and payee are the same account' };
      const payee = o.getAccount(a.payee, (payeeKey = bkey(a.payee)));
      if (!payee) return { code: 'UNKNOWN_PAYEE', message: 'the payee account does not exist at this bank' };
      if (signer.balance < a.amount) return { code: 'INSUFFICIENT_FUNDS', message: 'the balance is lower than the amount' };
      if (payee.balance + a.amount > LIMITS.MAX_BALANCE_MILLI) return { code: 'BALANCE_LIMIT', message: 'the payee balance would exceed its limit' };
      amount = a.amount;
      break;
    }
    case 'labor': {
      if (signer.kind !== AccountKind.cooperative) return { code: 'NOT_A_COOPERATIVE', message: 'only a cooperative account can attest labor' };
      const worker = o.getAccount(a.worker);
      if (!worker) return { code: 'UNKNOWN_WORKER', message: 'the worker account does not exist at this bank' };
      if (worker.kind !== AccountKind.member) return { code: 'WORKER_NOT_A_MEMBER', message: 'labor is credited to member accounts only' };
      const rate = o.rates.get(a.category);
      if (rate === undefined) return { code: 'UNKNOWN_CATEGORY', message: `"${a.category}" is not in the current rate schedule` };
      if (a.day > today + LIMITS.MAX_LABOR_DAYS_AHEAD) return { code: 'DAY_IN_FUTURE', message: 'the labor record is dated in the future' };
      if (a.day < today - LIMITS.MAX_LABOR_DAYS_BACK) {
        return { code: 'DAY_TOO_OLD', message: `labor records are accepted for the last ${LIMITS.MAX_LABOR_DAYS_BACK} days only` };
      }
      const dayTotal = o.getLaborDay(a.worker, a.day) + a.milliHours;
      if (dayTotal > BigInt(LIMITS.MAX_MILLI_HOURS_PER_DAY)) {
        return { code: 'DAILY_HOURS_EXCEEDED', message: 'more than 24 hours would be credited to the worker for that day' };
      }
      amount = issuedFor(a.milliHours, rate);
      if (amount === 0n) return { code: 'HOURS_INVALID', message: 'too few hours to issue 0.001 notes at this rate' };
      if (worker.balance + amount > LIMITS.MAX_BALANCE_MILLI) return { code: 'BALANCE_LIMIT', message: 'the worker balance would exceed its limit' };
      rateMilli = rate;
      break;
    }
    case 'retirement': {
      if (signer.balance < a.amount) return { code: 'INSUFFICIENT_FUNDS', message: 'the balance is lower than the amount' };
      amount = a.amount;
      break;
    }
  }

  // Every check passed: append, then change the state.
  const index = appendEntry(o, ctx, entries, {
    applied: { body: p.body, signature: p.signature, amount: u64Field(amount), rateMilli },
  });
  const payer = o.editAccount(p.account, signerKey)!;
  payer.sequence = p.sequence;
  // The signer's applied record lists this entry in its statement: no history record for it.
  o.addApplied(p.account, p.sequence, { entryIndex: index, body: p.body });
  switch (a.type) {
    case 'transfer': {
      if (a.payeeBank && !bytesEqual(a.payeeBank, ctx.bankKey)) {
        payer.balance -= amount;
        recordOutgoing(o, index, p.account, a.payeeBank, a.payee, amount);
        break;
      }
      const payee = o.editAccount(a.payee, payeeKey)!;
      payer.balance -= amount;
      payee.balance += amount;
      o.touch(a.payee, index);
      break;
    }
    case 'labor': {
      const worker = o.editAccount(a.worker)!;
      worker.balance += amount;
      o.setLaborDay(a.worker, a.day, o.getLaborDay(a.worker, a.day) + a.milliHours);
      o.totals.issued += amount;
      o.touch(a.worker, index);
      break;
    }
    case 'retirement':
      payer.balance -= amount;
      o.totals.retired += amount;
      break;
  }
  assert(payer.balance >= 0n, 'balances never negative');
  return { code: 'APPLIED', entryIndex: index, duplicate: false, amount };
}

/** A broken invariant is a programmer error: fail loudly. */
export function assert(cond: boolean, invariant: string): asserts cond {
  if (!cond) throw new Error(`invariant violated: ${invariant}`);
}
