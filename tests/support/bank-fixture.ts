// A bank ledger in a real data directory, with deterministic member keys: used by the crash
// test's writer process and by the test that checks it.
import { createHash } from 'node:crypto';
import { deriveAccountId } from '@mutual/codec';
import { AccountKind, DOMAIN, pb, signedMessage, toU64 } from '@mutual/protocol';
import { LedgerStore } from '@mutual/store';
import { keyPairFromSeed, signDetached, verify, VerifierPool, type KeyPair } from '@mutual/verifier';

export const MEMBERS = 8;

/** The same key for the same label, in every process. */
export function keyFor(label: string): KeyPair {
  return keyPairFromSeed(new Uint8Array(createHash('sha256').update(`mutual-test/${label}`).digest()));
}

export const bankKeys = keyFor('bank');
export const coopKeys = keyFor('coop');
export const memberKeys = Array.from({ length: MEMBERS }, (_, i) => keyFor(`member-${i}`));
export const coopId = deriveAccountId(bankKeys.publicKey, coopKeys.publicKey);
export const memberIds = memberKeys.map((k) => deriveAccountId(bankKeys.publicKey, k.publicKey));

export async function openBank(dir: string, pool?: VerifierPool): Promise<LedgerStore> {
  return LedgerStore.open({
    dir,
    bankKey: bankKeys.publicKey,
    sign: (m) => signDetached(m, bankKeys.secretKey),
    verify,
    ...(pool ? { verifyBatch: (items) => pool.verifyBatch(items) } : {}),
    genesis: { name: 'Crash Bank', bioregion: 'Test' },
  });
}

export function signedInstruction(keys: KeyPair, account: Uint8Array, sequence: bigint, action: Record<string, unknown>): Uint8Array {
  const body = pb.Instruction.encode({ bank: bankKeys.publicKey, account, sequence: toU64(sequence), ...action }).finish();
  const signature = signDetached(signedMessage(DOMAIN.instruction, body), keys.secretKey);
  return pb.SignedInstruction.encode({ body, signature }).finish();
}

export function transfer(from: number, to: number, sequence: bigint, amountMilli: bigint): Uint8Array {
  return signedInstruction(memberKeys[from]!, memberIds[from]!, sequence, { transfer: { payee: memberIds[to]!, amount: toU64(amountMilli) } });
}

/** Opens the cooperative and the members, and funds each member with 24 hours of labor. */
export async function setUp(store: LedgerStore): Promise<void> {
  if ((await store.getAccount(coopId)) !== undefined) return;
  const opened = await store.submit([
    { type: 'openAccount', holderKey: coopKeys.publicKey, kind: AccountKind.cooperative, label: 'coop' },
    ...memberKeys.map((k, i) => ({ type: 'openAccount' as const, holderKey: k.publicKey, kind: AccountKind.member, label: `member ${i}` })),
  ]);
  if (opened.some((r) => r.code !== 'APPLIED')) throw new Error('opening accounts failed');
  const day = Math.floor(Date.now() / 86_400_000) - 1;
  const labor = memberIds.map((worker, i) =>
    signedInstruction(coopKeys, coopId, BigInt(i + 1), { labor: { worker, day, milliHours: toU64(24_000n), category: 'standard' } }),
  );
  const funded = await store.submitSigned(labor);
  if (funded.some((r) => r.code !== 'APPLIED')) throw new Error('funding failed');
}
