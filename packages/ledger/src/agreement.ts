import { sha256 } from '@mutual/crypto';
import { LIMITS } from '@mutual/interface';
import { DOMAIN, decodeStrict, pb, signedMessage, u64, type mutual } from '@mutual/protocol';
import type { VerifyFn } from './apply.ts';
import { bkey, bytesEqual } from './keys.ts';
import { isName } from './prepare.ts';
import { rateScheduleProblem } from './rates.ts';

/** A member bank of an agreement. */
export interface AgreementMember {
  readonly bank: Uint8Array; // 32 bytes
  readonly name: string;
}

/** A decoded, valid federation agreement with the signatures that verified. */
export interface AgreementView {
  /** SHA-256 of `bytes` */
  readonly id: Uint8Array;
  /** the exact Agreement bytes that members sign */
  readonly bytes: Uint8Array;
  readonly bioregion: string;
  readonly members: readonly AgreementMember[];
  readonly rates: ReadonlyArray<readonly [string, number]>;
  /** milli-notes */
  readonly clearingLimit: bigint;
  readonly createdMs: bigint;
  /** ID of the agreement it amends; undefined for a founding agreement */
  readonly previous: Uint8Array | undefined;
  /** valid signatures, in the order received */
  readonly signatures: ReadonlyArray<{ readonly bank: Uint8Array; readonly signature: Uint8Array }>;
  /** every member signed */
  readonly complete: boolean;
}

/** The agreement a bank has adopted last: what interbank rules read. */
export interface AgreementInForce {
  readonly id: Uint8Array;
  readonly bioregion: string;
  readonly members: readonly AgreementMember[];
  /** milli-notes: the bound of each pair's net position */
  readonly clearingLimit: bigint;
}

export type AgreementCheck = { readonly ok: true; readonly agreement: AgreementView } | { readonly ok: false; readonly code: 'AGREEMENT_INVALID'; readonly message: string };


/** The agreement ID: SHA-256 of the exact Agreement bytes. */
export function agreementId(agreementBytes: Uint8Array): Uint8Array {
  return sha256(agreementBytes);
}

/** The message a member signs: the agreement domain prefix, then the exact Agreement bytes. */
export function agreementMessage(agreementBytes: Uint8Array): Uint8Array {
  return signedMessage(DOMAIN.agreement, agreementBytes);
}

/**
 * Checks a SignedAgreement (protocol/README.md, "Federation agreements"): strictly decoded,
 * within bounds, and every signature present is one valid signature of a member. It need not
 * be complete: `complete` says whether every member signed. Never throws.
 */
export function checkSignedAgreement(signed: Uint8Array, verify: VerifyFn): AgreementCheck {
  const bad = (message: string): AgreementCheck => ({ ok: false, code: 'AGREEMENT_INVALID', message });
  if (signed.length > LIMITS.MAX_AGREEMENT_BYTES) return bad(`a signed agreement is at most ${LIMITS.MAX_AGREEMENT_BYTES} bytes`);
  const s = decodeStrict(pb.SignedAgreement, signed);
  if (!s) return bad('not a well-formed SignedAgreement');
  return checkParts(s.agreement ?? new Uint8Array(), s.signatures ?? [], verify, bad);
}

/** As checkSignedAgreement, for the fields of an AgreementAdopted entry. */
export function checkAdoptedAgreement(adopted: mutual.v1.IAgreementAdopted, verify: VerifyFn): AgreementCheck {
  const bad = (message: string): AgreementCheck => ({ ok: false, code: 'AGREEMENT_INVALID', message });
  return checkParts(adopted.agreement ?? new Uint8Array(), adopted.signatures ?? [], verify, bad);
}

function checkParts(
  bytes: Uint8Array,
  sigs: readonly mutual.v1.IAgreementSignature[],
  verify: VerifyFn,
  bad: (m: string) => AgreementCheck,
): AgreementCheck {
  const a = decodeStrict(pb.Agreement, bytes);
  if (!a) return bad('the agreement is not a well-formed Agreement');
  const bioregion = a.bioregion ?? '';
  if (!isName(bioregion)) return bad(`the bioregion is at most ${LIMITS.MAX_NAME_BYTES} bytes of UTF-8`);
  const members = (a.members ?? []).map((m) => ({ bank: m.bank ?? new Uint8Array(), name: m.name ?? '' }));
  if (members.length < 2 || members.length > LIMITS.MAX_AGREEMENT_MEMBERS) return bad(`an agreement has 2 to ${LIMITS.MAX_AGREEMENT_MEMBERS} members`);
  const seen = new Set<string>();
  for (const m of members) {
    if (m.bank.length !== 32) return bad('a member bank key is not 32 bytes');
    if (!isName(m.name)) return bad(`a member name is at most ${LIMITS.MAX_NAME_BYTES} bytes of UTF-8`);
    if (seen.has(bkey(m.bank))) return bad('a bank is a member twice');
    seen.add(bkey(m.bank));
  }
  const rates = (a.rates ?? []).map((r) => [r.category ?? '', r.rateMilli ?? 0] as const);
  const rp = rateScheduleProblem(rates);
  if (rp) return bad(`the rate schedule: ${rp}`);
  const clearingLimit = u64(a.clearingLimit);
  if (clearingLimit > LIMITS.MAX_AMOUNT_MILLI) return bad('the clearing limit is larger than MAX_AMOUNT_MILLI');
  const previous = a.previous && a.previous.length > 0 ? a.previous : undefined;
  if (previous && previous.length !== 32) return bad('the previous agreement ID is not 32 bytes');

  const message = agreementMessage(bytes);
  const signed = new Set<string>();
  const signatures: Array<{ bank: Uint8Array; signature: Uint8Array }> = [];
  for (const sig of sigs) {
    const bank = sig.bank ?? new Uint8Array();
    const signature = sig.signature ?? new Uint8Array();
    if (!seen.has(bkey(bank))) return bad('a signature is not from a member');
    if (signed.has(bkey(bank))) return bad('a member signed twice');
    if (signature.length !== 64 || !verify(signature, message, bank)) return bad("a signature does not verify under its member's key");
    signed.add(bkey(bank));
    signatures.push({ bank, signature });
  }
  return {
    ok: true,
    agreement: {
      id: agreementId(bytes),
      bytes,
      bioregion,
      members,
      rates,
      clearingLimit,
      createdMs: u64(a.createdMs),
      previous,
      signatures,
      complete: signed.size === members.length,
    },
  };
}


/** Whether `bank` is a member of `a`. */
export function isMember(a: { readonly members: readonly AgreementMember[] }, bank: Uint8Array): boolean {
  return a.members.some((m) => bytesEqual(m.bank, bank));
}

/** Whether `bank` signed `a`. */
export function hasSigned(a: AgreementView, bank: Uint8Array): boolean {
  return a.signatures.some((s) => bytesEqual(s.bank, bank));
}

/**
 * Merges the valid signatures of two views of one agreement (same ID) into SignedAgreement
 * bytes: `a`'s signatures first, then those of `b` from members not in `a`. The Agreement
 * bytes are kept as they are.
 */
export function mergeSignatures(a: AgreementView, b: AgreementView): Uint8Array {
  const sigs = [...a.signatures];
  for (const s of b.signatures) if (!sigs.some((x) => bytesEqual(x.bank, s.bank))) sigs.push(s);
  return encodeSignedAgreement(a.bytes, sigs);
}

/** SignedAgreement bytes from exact Agreement bytes and signatures. */
export function encodeSignedAgreement(bytes: Uint8Array, sigs: ReadonlyArray<{ readonly bank: Uint8Array; readonly signature: Uint8Array }>): Uint8Array {
  return pb.SignedAgreement.encode({ agreement: bytes, signatures: sigs.map((s) => ({ bank: s.bank, signature: s.signature })) }).finish();
}

/** The view of an agreement as in force, from an adoption. */
export function inForce(a: AgreementView): AgreementInForce {
  return { id: a.id, bioregion: a.bioregion, members: a.members, clearingLimit: a.clearingLimit };
}
