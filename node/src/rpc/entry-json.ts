import { formatAccountId, formatAmount, formatBankId, formatDay, formatHours, formatPublicKey, toBase64 } from '@mutual/codec';
import { MutualError } from '@mutual/interface';
import { decodeStrict, pb, u64 } from '@mutual/protocol';
import { agreementId } from '@mutual/ledger';
import { accountKindText, type AccountKindText } from './account-kind.ts';

/** `kind` of an Entry as the RPC names it (docs/RPC.md, "Objects"). */
export type EntryKind =
  | 'genesis'
  | 'account-opened'
  | 'rate-schedule'
  | 'agreement-adopted'
  | 'transfer'
  | 'labor'
  | 'retirement'
  | 'interbank-credit'
  | 'interbank-rejection'
  | 'interbank-refund';

/** Every EntryKind, in the order of docs/RPC.md. */
export const ENTRY_KINDS: readonly EntryKind[] = [
  'genesis',
  'account-opened',
  'rate-schedule',
  'agreement-adopted',
  'transfer',
  'labor',
  'retirement',
  'interbank-credit',
  'interbank-rejection',
  'interbank-refund',
];

const KIND_OF_ENTRY: Partial<Record<string, EntryKind>> = {
  genesis: 'genesis',
  accountOpened: 'account-opened',
  rateSchedule: 'rate-schedule',
  agreementAdopted: 'agreement-adopted',
  interbankCredit: 'interbank-credit',
  interbankRejection: 'interbank-rejection',
  interbankRefund: 'interbank-refund',
};
const KIND_OF_ACTION: Partial<Record<string, EntryKind>> = { transfer: 'transfer', labor: 'labor', retirement: 'retirement' };

/**
 * The `kind` entryJson gives `bytes`, without building the rest of it (an instruction's entry
 * is decoded as far as its action); undefined for bytes that entryJson refuses as damaged.
 */
export function entryKindOf(bytes: Uint8Array): EntryKind | undefined {
  const e = decodeStrict(pb.Entry, bytes);
  if (!e?.kind) return undefined;
  if (e.kind !== 'applied') return KIND_OF_ENTRY[e.kind];
  const ins = e.applied?.body ? decodeStrict(pb.Instruction, e.applied.body) : undefined;
  return ins?.action ? KIND_OF_ACTION[ins.action] : undefined;
}

/** Another bank's entry an interbank entry answers. */
export interface EntryRefJson {
  bank: string;
  index: number;
  /** RFC 9162 leaf hash of that entry (hex) */
  leafHash: string;
}

/** The decoded view of a log entry; `bytes` is authoritative. Only the fields of its kind are present. */
export interface EntryJson {
  index: number;
  timeMs: number;
  kind: EntryKind;
  bytes: string;
  account?: string;
  payee?: string;
  /** transfer to another bank: the payee's bank */
  payeeBank?: string;
  worker?: string;
  amount?: string;
  hours?: string;
  category?: string;
  day?: string;
  rate?: string;
  memo?: string;
  sequence?: string;
  kindOfAccount?: AccountKindText;
  publicKey?: string;
  label?: string;
  name?: string;
  bioregion?: string;
  rates?: Array<{ category: string; rate: string }>;
  /** agreement ID (hex): the agreement adopted, or the one that set a rate schedule */
  agreement?: string;
  /** interbank credit or rejection: the payer bank's outgoing entry */
  source?: EntryRefJson;
  /** interbank refund: the payee bank's rejection */
  rejection?: EntryRefJson;
  /** interbank refund: this bank's outgoing entry refunded */
  outgoingIndex?: number;
  /** interbank rejection: why */
  code?: string;
}

function refJson(r: { bank?: Uint8Array | null; index?: unknown; leafHash?: Uint8Array | null } | null | undefined): EntryRefJson {
  if (!r?.bank || r.bank.length !== 32 || !r.leafHash) throw damaged('references another entry without bank or leaf hash');
  return { bank: formatBankId(r.bank), index: Number(u64(r.index as never)), leafHash: hex(r.leafHash) };
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function damaged(what: string): MutualError {
  return new MutualError('DB_CORRUPT', `database is damaged: a stored entry ${what}`);
}

/**
 * The Entry JSON of docs/RPC.md for the exact bytes of a stored log entry. The store only
 * holds entries it produced, so bytes that do not decode mean a damaged database (DB_CORRUPT).
 */
export function entryJson(bytes: Uint8Array): EntryJson {
  const e = decodeStrict(pb.Entry, bytes);
  if (!e) throw damaged('does not decode');
  const base = { index: Number(u64(e.index)), timeMs: Number(u64(e.timeMs)), bytes: toBase64(bytes) };
  switch (e.kind) {
    case 'genesis': {
      const g = e.genesis!;
      return { ...base, kind: 'genesis', name: g.name ?? '', bioregion: g.bioregion ?? '' };
    }
    case 'accountOpened': {
      const a = e.accountOpened!;
      const kindOfAccount = accountKindText(a.kind ?? 0);
      if (!a.account || !a.holderKey || !kindOfAccount) throw damaged('opens an account without ID, key or kind');
      return {
        ...base,
        kind: 'account-opened',
        account: formatAccountId(a.account),
        kindOfAccount,
        publicKey: formatPublicKey(a.holderKey),
        label: a.label ?? '',
      };
    }
    case 'rateSchedule':
      return {
        ...base,
        kind: 'rate-schedule',
        rates: (e.rateSchedule!.rates ?? []).map((r) => ({ category: r.category ?? '', rate: formatAmount(BigInt(r.rateMilli ?? 0)) })),
        ...(e.rateSchedule!.agreement?.length ? { agreement: hex(e.rateSchedule!.agreement) } : {}),
      };
    case 'agreementAdopted': {
      const bytes = e.agreementAdopted!.agreement ?? new Uint8Array();
      const a = decodeStrict(pb.Agreement, bytes);
      if (!a) throw damaged('records an agreement that does not decode');
      return { ...base, kind: 'agreement-adopted', agreement: hex(agreementId(bytes)), bioregion: a.bioregion ?? '' };
    }
    case 'applied': {
      const ap = e.applied!;
      const ins = ap.body ? decodeStrict(pb.Instruction, ap.body) : undefined;
      if (!ins?.account) throw damaged('records an instruction that does not decode');
      const common = {
        ...base,
        account: formatAccountId(ins.account),
        sequence: u64(ins.sequence).toString(),
        amount: formatAmount(u64(ap.amount)),
      };
      switch (ins.action) {
        case 'transfer': {
          const t = ins.transfer!;
          if (!t.payee) throw damaged('records a transfer without payee');
          const payeeBank = t.payeeBank?.length === 32 ? { payeeBank: formatBankId(t.payeeBank) } : {};
          return { ...common, kind: 'transfer', payee: formatAccountId(t.payee), ...payeeBank, memo: t.memo ?? '' };
        }
        case 'labor': {
          const l = ins.labor!;
          if (!l.worker) throw damaged('records labor without worker');
          return {
            ...common,
            kind: 'labor',
            worker: formatAccountId(l.worker),
            hours: formatHours(u64(l.milliHours)),
            category: l.category ?? '',
            day: formatDay(l.day ?? 0),
            rate: formatAmount(BigInt(ap.rateMilli ?? 0)),
            memo: l.memo ?? '',
          };
        }
        case 'retirement':
          return { ...common, kind: 'retirement', memo: ins.retirement!.memo ?? '' };
        default:
          throw damaged('records an instruction without action');
      }
    }
    case 'interbankCredit': {
      const c = e.interbankCredit!;
      if (!c.payee) throw damaged('credits no payee');
      return { ...base, kind: 'interbank-credit', source: refJson(c.source), payee: formatAccountId(c.payee), amount: formatAmount(u64(c.amount)) };
    }
    case 'interbankRejection': {
      const r = e.interbankRejection!;
      return { ...base, kind: 'interbank-rejection', source: refJson(r.source), amount: formatAmount(u64(r.amount)), code: r.code ?? '' };
    }
    case 'interbankRefund': {
      const r = e.interbankRefund!;
      if (!r.payer) throw damaged('refunds no payer');
      return {
        ...base,
        kind: 'interbank-refund',
        rejection: refJson(r.rejection),
        outgoingIndex: Number(u64(r.outgoingIndex)),
        account: formatAccountId(r.payer),
        amount: formatAmount(u64(r.amount)),
      };
    }
    default:
      throw damaged('is of an unknown kind');
  }
}
