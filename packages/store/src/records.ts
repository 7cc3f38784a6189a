import { checkAdoptedAgreement, inForceOf, u64Field, type Account, type AgreementInForce, type VerifyFn, type AppliedRef, type BankInfo, type RateSchedule, type Totals } from '@mutual/ledger';
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
    encode(r: AppliedRef): Uint8Array {
      return pbStorage.AppliedRecord.encode({ entryIndex: u64Field(r.entryIndex), bodyHash: r.bodyHash }).finish();
    },
    decode(bytes: Uint8Array): AppliedRef | undefined {
      const r = decodeStrict(pbStorage.AppliedRecord, bytes);
      if (!r || r.bodyHash?.length !== 32) return undefined;
      return { entryIndex: Number(u64(r.entryIndex)), bodyHash: r.bodyHash };
    },
  },
  totals: {
    encode(t: Totals): Uint8Array {
      return pbStorage.LedgerTotals.encode({ issued: u64Field(t.issued), retired: u64Field(t.retired), accounts: u64Field(t.accounts) }).finish();
    },
    decode(bytes: Uint8Array): Totals | undefined {
      const r = decodeStrict(pbStorage.LedgerTotals, bytes);
      return r ? { issued: u64(r.issued), retired: u64(r.retired), accounts: u64(r.accounts) } : undefined;
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
