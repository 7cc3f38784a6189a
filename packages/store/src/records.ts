import { checkAdoptedAgreement, inForceOf, u64Field, type Outgoing, type Position, type Account, type AgreementInForce, type VerifyFn, type AppliedRef, type BankInfo, type RateSchedule, type Totals } from '@mutual/ledger';
import { decodeStrict, pb, pbStorage, u64, type AccountKindNumber } from '@mutual/protocol';

/** Encoders and strict decoders of stored values. A decoder returns undefined on bad bytes. */
export const records = {
  account: {
    encode(a: Account): Uint8Array {
      return pbStorage.AccountRecord.encode({
        holderKey: a.holderKey,
        kind: a.kind,
        balance: u64Field(a.balance),
        sequence: u64Field(a.sequence),
        openedIndex: u64Field(a.openedIndex),
        label: a.label,
      }).finish();
    },
    decode(id: Uint8Array, bytes: Uint8Array): Account | undefined {
      const r = decodeStrict(pbStorage.AccountRecord, bytes);
      if (!r || r.holderKey?.length !== 32) return undefined;
      return {
        id,
        holderKey: r.holderKey,
        kind: (r.kind ?? 0) as AccountKindNumber,
        label: r.label ?? '',
        openedIndex: Number(u64(r.openedIndex)),
        balance: u64(r.balance),
        sequence: u64(r.sequence),
      };
    },
  },
  applied: {
    /** The entry index alone: a retry is compared with the body of that entry. */
    encode(r: AppliedRef): Uint8Array {
      return pbStorage.AppliedRecord.encode({ entryIndex: u64Field(r.entryIndex) }).finish();
    },
    /** The entry index, and the body's hash of a record written by format 2. */
    decode(bytes: Uint8Array): { entryIndex: number; bodyHash?: Uint8Array } | undefined {
      const r = decodeStrict(pbStorage.AppliedRecord, bytes);
      const hashBytes = r?.bodyHash?.length ?? 0;
      if (!r || (hashBytes !== 0 && hashBytes !== 32)) return undefined;
      const entryIndex = u64(r.entryIndex);
      if (entryIndex > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
      return hashBytes === 32 ? { entryIndex: Number(entryIndex), bodyHash: r.bodyHash! } : { entryIndex: Number(entryIndex) };
    },
  },
  totals: {
    encode(t: Totals): Uint8Array {
      return pbStorage.LedgerTotals.encode({
        issued: u64Field(t.issued),
        retired: u64Field(t.retired),
        accounts: u64Field(t.accounts),
        sent: u64Field(t.sent),
        refunded: u64Field(t.refunded),
        received: u64Field(t.received),
      }).finish();
    },
    decode(bytes: Uint8Array): Totals | undefined {
      const r = decodeStrict(pbStorage.LedgerTotals, bytes);
      return r
        ? { issued: u64(r.issued), retired: u64(r.retired), accounts: u64(r.accounts), sent: u64(r.sent), refunded: u64(r.refunded), received: u64(r.received) }
        : undefined;
    },
  },
  position: {
    encode(p: Position): Uint8Array {
      return pbStorage.PositionRecord.encode({ sent: u64Field(p.sent), refunded: u64Field(p.refunded), received: u64Field(p.received) }).finish();
    },
    decode(bytes: Uint8Array): Position | undefined {
      const r = decodeStrict(pbStorage.PositionRecord, bytes);
      return r ? { sent: u64(r.sent), refunded: u64(r.refunded), received: u64(r.received) } : undefined;
    },
  },
  outgoing: {
    encode(o: Outgoing): Uint8Array {
      return pbStorage.OutgoingRecord.encode({
        payer: o.payer,
        bank: o.bank,
        payee: o.payee,
        amount: u64Field(o.amount),
        refunded: o.refundIndex !== undefined,
        refundIndex: u64Field(o.refundIndex ?? 0),
      }).finish();
    },
    decode(index: number, bytes: Uint8Array): Outgoing | undefined {
      const r = decodeStrict(pbStorage.OutgoingRecord, bytes);
      if (!r || r.payer?.length !== 20 || r.bank?.length !== 32 || r.payee?.length !== 20) return undefined;
      return { index, payer: r.payer, bank: r.bank, payee: r.payee, amount: u64(r.amount), refundIndex: r.refunded ? Number(u64(r.refundIndex)) : undefined };
    },
  },
  bank: {
    encode(b: BankInfo): Uint8Array {
      return pbStorage.BankIdentity.encode({ publicKey: b.key, name: b.name, bioregion: b.bioregion }).finish();
    },
    decode(bytes: Uint8Array): BankInfo | undefined {
      const r = decodeStrict(pbStorage.BankIdentity, bytes);
      if (!r || r.publicKey?.length !== 32) return undefined;
      return { key: r.publicKey, name: r.name ?? '', bioregion: r.bioregion ?? '' };
    },
  },
  agreement: {
    /** The value is the AgreementAdopted message of the adoption entry: the signatures are checked again on open. */
    decode(bytes: Uint8Array, verify: VerifyFn): AgreementInForce | undefined {
      const r = decodeStrict(pb.AgreementAdopted, bytes);
      const c = r && checkAdoptedAgreement(r, verify);
      return c && c.ok && c.agreement.complete ? inForceOf(c.agreement) : undefined;
    },
  },
  rates: {
    encode(r: RateSchedule): Uint8Array {
      return pb.RateScheduleAdopted.encode({ rates: [...r].map(([category, rateMilli]) => ({ category, rateMilli })) }).finish();
    },
    decode(bytes: Uint8Array): RateSchedule | undefined {
      const r = decodeStrict(pb.RateScheduleAdopted, bytes);
      return r ? new Map((r.rates ?? []).map((x) => [x.category ?? '', x.rateMilli ?? 0])) : undefined;
    },
  },
};
