import { pb } from '@mutual/protocol';
import { checkSignedAgreement, inForce, isMember } from './agreement.ts';
import type { AppendEntry, ApplyContext } from './apply.ts';
import { bytesEqual } from './keys.ts';
import { toSchedule } from './rates.ts';
import type { Overlay } from './state.ts';
import type { Result } from './types.ts';

/**
 * The adoptAgreement command (protocol/README.md, "Adoption"): checks the signed agreement
 * against the bank and the agreement in force, then appends AgreementAdopted and the
 * RateScheduleAdopted that makes the agreement's rates the bank's. Refused: no entry.
 */
export function adoptAgreement(o: Overlay, signed: Uint8Array, ctx: ApplyContext, append: AppendEntry): Result {
  const check = checkSignedAgreement(signed, ctx.verify);
  if (!check.ok) return { code: check.code, message: check.message };
  const a = check.agreement;
  const bank = o.bank!;
  if (!isMember(a, ctx.bankKey)) return { code: 'NOT_AGREEMENT_MEMBER', message: 'this bank is not a member of the agreement' };
  if (a.bioregion !== bank.bioregion) return { code: 'NOT_AGREEMENT_MEMBER', message: `the agreement is for bioregion "${a.bioregion}", not this bank's` };
  const current = o.agreement;
  if (current && bytesEqual(current.id, a.id)) return { code: 'AGREEMENT_NOT_CURRENT', message: 'the agreement is in force already' };
  if (!a.previous && current) return { code: 'AGREEMENT_NOT_CURRENT', message: 'a founding agreement, but an agreement is in force: propose an amendment of it' };
  // With no agreement in force, an amendment is how a bank joins a federation: the agreement
  // it amends was never this bank's to adopt.
  if (a.previous && current && !bytesEqual(a.previous, current.id)) {
    return { code: 'AGREEMENT_NOT_CURRENT', message: 'the agreement amends another agreement than the one in force' };
  }
  if (!a.complete) return { code: 'AGREEMENT_INCOMPLETE', message: 'not every member has signed the agreement' };
  // Signatures come from members only, so every member of the amended agreement must be a
  // member of the amendment: a bank leaves by another procedure, not by being left out.
  if (current) {
    for (const m of current.members) {
      if (!isMember(a, m.bank)) return { code: 'AGREEMENT_INCOMPLETE', message: 'a member of the amended agreement has not signed the amendment' };
    }
  }

  const adopted = { agreement: a.bytes, signatures: a.signatures.map((s) => ({ bank: s.bank, signature: s.signature })) };
  const index = append({ agreementAdopted: adopted });
  append({ rateSchedule: { rates: a.rates.map(([category, rateMilli]) => ({ category, rateMilli })), agreement: a.id } });
  o.setRates(toSchedule(a.rates));
  o.setAgreement({ inForce: inForce(a), record: pb.AgreementAdopted.encode(adopted).finish() });
  return { code: 'APPLIED', entryIndex: index, duplicate: false };
}
