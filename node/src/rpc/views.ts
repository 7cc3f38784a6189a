import { formatAccountId, formatAmount, formatBankId, formatPublicKey, toBase64, toHex } from '@mutual/codec';
import type { Account, Result, SignedHead } from '@mutual/ledger';
import { accountKindText } from './account-kind.ts';

/** The SignedHead object of docs/RPC.md. */
export function headJson(h: SignedHead) {
  return {
    bank: formatBankId(h.bank),
    size: h.size,
    root: toHex(h.root),
    timeMs: Number(h.timeMs),
    signature: toBase64(h.signature),
    signed: toBase64(h.bytes),
  };
}

/** The Result object of docs/RPC.md. */
export function resultJson(r: Result) {
  if (r.code === 'APPLIED') {
    return {
      code: r.code,
      entryIndex: r.entryIndex,
      duplicate: r.duplicate,
      ...(r.amount === undefined ? {} : { amount: formatAmount(r.amount) }),
    };
  }
  return { code: r.code, message: r.message };
}

/** An account as `GET /v1/accounts/:id` answers it. */
export function accountJson(a: Account) {
  return {
    account: formatAccountId(a.id),
    kind: accountKindText(a.kind),
    label: a.label,
    publicKey: formatPublicKey(a.holderKey),
    balance: formatAmount(a.balance),
    sequence: a.sequence.toString(),
    nextSequence: (a.sequence + 1n).toString(),
    openedIndex: a.openedIndex,
  };
}
