import { LIMITS } from '@mutual/interface';
import { agreementId } from '@mutual/ledger';
import { pb } from '@mutual/protocol';
import { Level } from 'level';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { agreementBytes, signAgreement } from '../../ledger/test/agreement-fixture.ts';
import { keys } from '../src/keys.ts';
import { AgreementPool, LedgerStore, verifyStore } from '../src/index.ts';
import { newHolder, openAccount, storeOptions, tempDir, verify, type Holder } from './fixture.ts';

let dir: string;
let cleanup: () => void;
let bank: Holder;
let store: LedgerStore;

beforeEach(async () => {
  ({ dir, cleanup } = tempDir());
  bank = newHolder();
  store = await LedgerStore.open(storeOptions(dir, bank));
});
afterEach(async () => {
  await store.close();
  cleanup();
});

async function adoptOne(): Promise<Uint8Array> {
  const b = newHolder();
  const bytes = agreementBytes({ members: [{ key: bank.publicKey, name: 'Test Bank' }, { key: b.publicKey }], rates: [['standard', 1000], ['care', 1400]], clearingLimit: 42_000n });
  const [r] = await store.submit([{ type: 'adoptAgreement', signed: signAgreement(bytes, [bank, b]) }]);
  expect(r?.code).toBe('APPLIED');
  return bytes;
}

describe('an adopted agreement in the store', () => {
  it('persists, is re-derived by verifyStore, and stays in force after reopening', async () => {
    expect(store.agreementInForce).toBeUndefined();
    await openAccount(store);
    const bytes = await adoptOne();
    await openAccount(store);
    expect(store.agreementInForce).toMatchObject({ clearingLimit: 42_000n });
    expect(Buffer.from(store.agreementInForce!.id)).toEqual(Buffer.from(agreementId(bytes)));
    expect([...store.rates]).toEqual([['standard', 1000], ['care', 1400]]);
    const report = await verifyStore(store);
    expect(report.problems).toEqual([]);

    await store.close();
    store = await LedgerStore.open(storeOptions(dir, bank));
    expect(Buffer.from(store.agreementInForce!.id)).toEqual(Buffer.from(agreementId(bytes)));
    expect(store.agreementInForce!.members.map((m) => m.name)).toEqual(['Test Bank', 'Bank 1']);
    expect([...store.rates]).toEqual([['standard', 1000], ['care', 1400]]);
    expect((await verifyStore(store)).ok).toBe(true);
  });

  it('verifyStore replays an adoption whose two entries fall in two of its chunks', async () => {
    // verifyStore replays 4096 entries at a time: the adoption at index 4095, its rates at 4096.
    const opens = (n: number) => Array.from({ length: n }, () => ({ type: 'openAccount' as const, holderKey: newHolder().publicKey, kind: 1 as const, label: '' }));
    while (store.size < 4095) await store.submit(opens(Math.min(1000, 4095 - store.size)));
    await adoptOne();
    expect(pb.Entry.decode((await store.getEntry(4095))!).kind).toBe('agreementAdopted');
    const report = await verifyStore(store);
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
  });

  it('verifyStore finds a record of the agreement in force that differs from the log', async () => {
    await adoptOne();
    // Another valid, complete agreement record: the open check passes, the replay does not.
    const b = newHolder();
    const other = agreementBytes({ members: [{ key: bank.publicKey }, { key: b.publicKey }], clearingLimit: 1n });
    const s = pb.SignedAgreement.decode(signAgreement(other, [bank, b]));
    await store.close();
    const db = new Level<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' });
    await db.put(keys.meta('agreement'), pb.AgreementAdopted.encode({ agreement: s.agreement, signatures: s.signatures }).finish());
    await db.close();
    store = await LedgerStore.open(storeOptions(dir, bank));
    expect(store.agreementInForce).toMatchObject({ clearingLimit: 1n });
    expect((await verifyStore(store)).problems.join('\n')).toMatch(/agreement in force differs/);
  });

  it('refuses to open with an agreement record whose signature does not verify', async () => {
    await adoptOne();
    await store.close();
    const db = new Level<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' });
    const rec = pb.AgreementAdopted.decode((await db.get(keys.meta('agreement')))!);
    rec.signatures![0]!.signature![0]! ^= 1;
    await db.put(keys.meta('agreement'), pb.AgreementAdopted.encode(rec).finish());
    await db.close();
    await expect(LedgerStore.open(storeOptions(dir, bank))).rejects.toThrow(/agreement/);
    cleanup();
    ({ dir, cleanup } = tempDir());
    store = await LedgerStore.open(storeOptions(dir, bank));
  });
});

describe('the agreement pool', () => {
  it('keeps the union of valid signatures, ignores what adds nothing, refuses invalid bytes', async () => {
    const b = newHolder();
    const c = newHolder();
    const bytes = agreementBytes({ members: [{ key: bank.publicKey }, { key: b.publicKey }, { key: c.publicKey }] });
    const pool = new AgreementPool(store.db, verify);
    expect(await pool.offer(signAgreement(bytes, [bank]))).toMatchObject({ ok: true, changed: true, agreement: { complete: false } });
    expect(await pool.offer(signAgreement(bytes, [bank]))).toMatchObject({ ok: true, changed: false });
    const [r1, r2] = await Promise.all([pool.offer(signAgreement(bytes, [b])), pool.offer(signAgreement(bytes, [c, b]))]);
    expect(r1).toMatchObject({ ok: true, changed: true });
    expect(r2).toMatchObject({ ok: true, changed: true, agreement: { complete: true } });
    const forged = pb.SignedAgreement.decode(signAgreement(bytes, [c]));
    forged.signatures![0]!.signature![0]! ^= 1;
    expect(await pool.offer(pb.SignedAgreement.encode(forged).finish())).toMatchObject({ ok: false });
    const list = await new AgreementPool(store.db, verify).list();
    expect(list).toHaveLength(1);
    expect(list[0]!.agreement.signatures.map((s) => Buffer.from(s.bank).toString('hex'))).toEqual([bank, b, c].map((h) => Buffer.from(h.publicKey).toString('hex')));
    expect((await verifyStore(store)).ok).toBe(true);
  });

  it('keeps only agreements that name its bank, and at most MAX_POOLED_AGREEMENTS', async () => {
    const b = newHolder();
    const c = newHolder();
    const pool = new AgreementPool(store.db, verify, bank.publicKey);
    const strangers = agreementBytes({ members: [{ key: b.publicKey }, { key: c.publicKey }] });
    expect(await pool.offer(signAgreement(strangers, [b, c]))).toMatchObject({ ok: false, message: expect.stringMatching(/does not name this bank/) });
    for (let i = 0; i < LIMITS.MAX_POOLED_AGREEMENTS; i++) {
      const bytes = agreementBytes({ members: [{ key: bank.publicKey }, { key: b.publicKey }], clearingLimit: BigInt(i + 1) });
      // Signed by this bank: kept however full the pool is.
      expect((await pool.offer(signAgreement(bytes, [bank]))).ok).toBe(true);
    }
    const oneMore = agreementBytes({ members: [{ key: bank.publicKey }, { key: b.publicKey }], clearingLimit: 999_999n });
    expect(await pool.offer(signAgreement(oneMore, [b]))).toMatchObject({ ok: false, message: expect.stringMatching(/already holds/) });
    expect(await pool.offer(signAgreement(oneMore, [bank]))).toMatchObject({ ok: false, message: expect.stringMatching(/already holds/) });
    // a known agreement still gathers signatures at the bound
    const first = agreementBytes({ members: [{ key: bank.publicKey }, { key: b.publicKey }], clearingLimit: 1n });
    expect(await pool.offer(signAgreement(first, [b]))).toMatchObject({ ok: true, changed: true, agreement: { complete: true } });
    expect(await new AgreementPool(store.db, verify, bank.publicKey).list()).toHaveLength(LIMITS.MAX_POOLED_AGREEMENTS);
  });

  it('a flood of agreements from made-up banks takes the place of its own oldest, never of one this bank or a trusted bank signed', async () => {
    const friend = newHolder();
    const joiner = newHolder();
    const trusted = (k: Uint8Array) => Buffer.from(k).equals(Buffer.from(friend.publicKey));
    const pool = new AgreementPool(store.db, verify, bank.publicKey, { trusted });
    const mine = signAgreement(agreementBytes({ members: [{ key: bank.publicKey }, { key: friend.publicKey }], clearingLimit: 1n }), [bank]);
    const friends = signAgreement(agreementBytes({ members: [{ key: bank.publicKey }, { key: friend.publicKey }], clearingLimit: 2n }), [friend]);
    const joiners = signAgreement(agreementBytes({ members: [{ key: bank.publicKey }, { key: joiner.publicKey }], clearingLimit: 3n }), [joiner]);
    for (const x of [mine, friends, joiners]) expect((await pool.offer(x)).ok).toBe(true);
    // Each from a new key of the attacker's, naming this bank.
    const flood = async (into: AgreementPool, n: number, tag: bigint) => {
      for (let i = 0; i < n; i++) {
        const fake = newHolder();
        const bytes = agreementBytes({ members: [{ key: bank.publicKey }, { key: fake.publicKey }], clearingLimit: tag * 1_000_000n + BigInt(i) });
        expect((await into.offer(signAgreement(bytes, [fake]))).ok).toBe(true);
      }
    };
    await flood(pool, LIMITS.MAX_POOLED_AGREEMENTS, 1n);
    const ids = async () => (await new AgreementPool(store.db, verify, bank.publicKey).list()).map((x) => x.agreement.clearingLimit);
    let held = await ids();
    expect(held).toHaveLength(LIMITS.MAX_POOLED_AGREEMENTS);
    // The joiner's agreement, signed by nobody this bank federates with, was the oldest such to go.
    expect(held).toContain(1n);
    expect(held).toContain(2n);
    expect(held).not.toContain(3n);
    // Once the flood stops, the joiner's agreement gets back in (gossiped again, or from a peer's pool).
    expect(await pool.offer(joiners)).toMatchObject({ ok: true, changed: true });
    held = await ids();
    expect(held).toContain(3n);
    expect(held).not.toContain(1_000_000n);
    // A reopened pool goes on the same way: a second flood leaves this bank's and the friend's.
    const reopened = new AgreementPool(store.db, verify, bank.publicKey, { trusted });
    await flood(reopened, LIMITS.MAX_POOLED_AGREEMENTS, 2n);
    held = await ids();
    expect(held).toHaveLength(LIMITS.MAX_POOLED_AGREEMENTS);
    expect(held.filter((x) => x < 1_000_000n).sort()).toEqual([1n, 2n]);
    // This bank signing the joiner's agreement keeps it from then on.
    expect((await reopened.offer(signAgreement(agreementBytes({ members: [{ key: bank.publicKey }, { key: joiner.publicKey }], clearingLimit: 3n }), [joiner, bank]))).ok).toBe(true);
    await flood(reopened, LIMITS.MAX_POOLED_AGREEMENTS, 3n);
    expect((await ids()).filter((x) => x < 1_000_000n).sort()).toEqual([1n, 2n, 3n]);
  });

  it('a bank it federates with that fills the pool displaces its own proposals, not this bank\'s or another\'s', async () => {
    const flooder = newHolder();
    const other = newHolder();
    const trusted = (k: Uint8Array) => [flooder, other].some((h) => Buffer.from(k).equals(Buffer.from(h.publicKey)));
    const pool = new AgreementPool(store.db, verify, bank.publicKey, { trusted });
    const members = (h: { publicKey: Uint8Array }) => [{ key: bank.publicKey }, { key: h.publicKey }];
    const others = signAgreement(agreementBytes({ members: members(other), clearingLimit: 1n }), [other]);
    expect((await pool.offer(others)).ok).toBe(true);
    for (let i = 0; i < LIMITS.MAX_POOLED_AGREEMENTS; i++) {
      const bytes = agreementBytes({ members: members(flooder), clearingLimit: 1_000_000n + BigInt(i) });
      expect((await pool.offer(signAgreement(bytes, [flooder]))).ok).toBe(true);
    }
    const ids = async () => (await new AgreementPool(store.db, verify, bank.publicKey).list()).map((x) => x.agreement.clearingLimit);
    let held = await ids();
    expect(held).toHaveLength(LIMITS.MAX_POOLED_AGREEMENTS);
    // The other bank's proposal stayed; the flooder's own oldest went.
    expect(held).toContain(1n);
    expect(held).not.toContain(1_000_000n);
    // This bank can still propose, and the other bank too; a made-up bank cannot get in.
    const mine = signAgreement(agreementBytes({ members: members(flooder), clearingLimit: 2n }), [bank]);
    expect(await pool.offer(mine)).toMatchObject({ ok: true, changed: true });
    const othersNext = signAgreement(agreementBytes({ members: members(other), clearingLimit: 3n }), [other]);
    expect(await pool.offer(othersNext)).toMatchObject({ ok: true, changed: true });
    const stranger = newHolder();
    expect(await pool.offer(signAgreement(agreementBytes({ members: members(stranger), clearingLimit: 4n }), [stranger]))).toMatchObject({ ok: false });
    held = await ids();
    expect(held).toHaveLength(LIMITS.MAX_POOLED_AGREEMENTS);
    expect(held.filter((x) => x < 1_000_000n).sort()).toEqual([1n, 2n, 3n]);
    expect(held).not.toContain(1_000_001n);
    expect(held).not.toContain(1_000_002n);
  });
});
