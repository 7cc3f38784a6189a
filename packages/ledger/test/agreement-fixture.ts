// Test fixture: federation agreements signed by in-memory bank keys.
import { pb, toU64 } from '@mutual/protocol';
import { agreementMessage, DEFAULT_RATES, encodeSignedAgreement } from '../src/index.ts';
import { signBytes, type Holder } from './fixture.ts';

export interface AgreementProps {
  bioregion?: string;
  members: ReadonlyArray<{ key: Uint8Array; name?: string }>;
  rates?: ReadonlyArray<readonly [string, number]>;
  clearingLimit?: bigint;
  previous?: Uint8Array;
}

/** Exact Agreement bytes. */
export function agreementBytes(p: AgreementProps): Uint8Array {
  return pb.Agreement.encode({
    bioregion: p.bioregion ?? 'Cascadia',
    members: p.members.map((m, i) => ({ bank: m.key, name: m.name ?? `Bank ${i}` })),
    rates: (p.rates ?? DEFAULT_RATES).map(([category, rateMilli]) => ({ category, rateMilli })),
    clearingLimit: toU64(p.clearingLimit ?? 1_000_000n),
    createdMs: toU64(1_700_000_000_000n),
    previous: p.previous ?? new Uint8Array(),
  }).finish();
}

/** SignedAgreement bytes signed by `signers`. */
export function signAgreement(bytes: Uint8Array, signers: readonly Holder[]): Uint8Array {
  return encodeSignedAgreement(
    bytes,
    signers.map((h) => ({ bank: h.publicKey, signature: signBytes(agreementMessage(bytes), h.seed) })),
  );
}
