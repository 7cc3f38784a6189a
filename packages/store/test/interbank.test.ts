import { leafHash } from '@mutual/merkle';
import { AccountKind, decodeStrict, pb, u64 } from '@mutual/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { agreementBytes, signAgreement } from '../../ledger/test/agreement-fixture.ts';
import { LedgerStore, MAX_OUTGOING_SCAN, verifyStore } from '../src/index.ts';
import { DAY, newHolder, openAccount, signed, storeOptions, tempDir, type Acct, type Holder } from './fixture.ts';

// Two banks, each a real store in its own temporary directory.
let dirs: Array<{ dir: string; cleanup: () => void }>;
let keyA: Holder;
let keyB: Holder;
let a: LedgerStore;
let b: LedgerStore;

beforeEach(async () => {
  dirs = [tempDir(), tempDir()];
  keyA = newHolder();
  keyB = newHolder();
  a = await LedgerStore.open(storeOptions(dirs[0]!.dir, keyA));
  b = await LedgerStore.open(storeOptions(dirs[1]!.dir, keyB));
  const agreement = signAgreement(agreementBytes({ members: [{ key: keyA.publicKey }, { key: keyB.publicKey }], clearingLimit: 50_000n }), [keyA, keyB]);
  for (const s of [a, b]) expect((await s.submit([{ type: 'adoptAgreement', signed: agreement }]))[0]?.code).toBe('APPLIED');
});
afterEach(async () => {
  await a.close();
  await b.close();
  for (const d of dirs) d.cleanup();
});

async function funded(store: LedgerStore): Promise<Acct> {
  const coop = await openAccount(store, AccountKind.cooperative);
  const m = await openAccount(store);
  const [r] = await store.submitSigned([signed(store, coop, 1n, { labor: { worker: m.id, day: DAY, milliHours: 20_000n, category: 'standard' } })]);
  expect(r?.code).toBe('APPLIED');
  return m;
}

/** The credit command bank B derives from A's outgoing entry. */
async function creditOf(index: number) {
  const bytes = (await a.getEntry(index))!;
  const e = decodeStrict(pb.Entry, bytes)!;
  const ins = decodeStrict(pb.Instruction, e.applied!.body!)!;
  return { type: 'interbankCredit' as const, source: { bank: a.bank.key, index, leafHash: leafHash(bytes) }, payee: ins.transfer!.payee!, amount: u64(e.applied!.amount) };
}

describe('interbank transfers between two stores', () => {
  it('settle once, refund once, survive a reopen and verify', async () => {
    const payer = await funded(a);
    const payee = await openAccount(b);
    const [t1, t2] = await a.submitSigned([
      signed(a, payer, 1n, { transfer: { payee: payee.id, amount: 3_000n, payeeBank: b.bank.key } }),
      signed(a, payer, 2n, { transfer: { payee: new Uint8Array(20).fill(7), amount: 2_000n, payeeBank: b.bank.key } }),
    ]);
    const i1 = (t1 as { entryIndex: number }).entryIndex;
    const i2 = (t2 as { entryIndex: number }).entryIndex;
    expect(await a.getOutgoing(i1)).toMatchObject({ state: 'pending', amount: 3_000n });

    // Credits submitted twice in a row (the second batch loads while the first is written).
    const c1 = await creditOf(i1);
    const c2 = await creditOf(i2);
    const [first, second] = await Promise.all([b.submit([c1, c2]), b.submit([c1, c2])]);
    expect(first[0]).toMatchObject({ code: 'APPLIED', duplicate: false, amount: 3_000n });
    expect(first[1]).toMatchObject({ code: 'APPLIED', rejected: 'UNKNOWN_PAYEE' });
    expect(second.map((r) => (r as { duplicate: boolean }).duplicate)).toEqual([true, true]);
    expect((await b.getAccount(payee.id))!.balance).toBe(3_000n);
    expect(await b.getInbound(a.bank.key, i1)).toBe((first[0] as { entryIndex: number }).entryIndex);

    // A: settle the first, refund the second (twice).
    const creditIndex = (first[0] as { entryIndex: number }).entryIndex;
    expect(await a.markSettled(i1, { bank: b.bank.key, index: creditIndex, leafHash: leafHash((await b.getEntry(creditIndex))!) })).toBe(true);
    const rejIndex = (first[1] as { entryIndex: number }).entryIndex;
    const refund = { type: 'interbankRefund' as const, rejection: { bank: b.bank.key, index: rejIndex, leafHash: leafHash((await b.getEntry(rejIndex))!) }, outgoingIndex: i2 };
    const [r1, r2] = await Promise.all([a.submit([refund]), a.submit([refund])]);
    expect(r1[0]).toMatchObject({ code: 'APPLIED', duplicate: false, amount: 2_000n });
    expect(r2[0]).toMatchObject({ code: 'APPLIED', duplicate: true });
    expect(await a.markSettled(i2, { bank: b.bank.key, index: rejIndex, leafHash: new Uint8Array(32) })).toBe(false);
    expect((await a.getAccount(payer.id))!.balance).toBe(17_000n);
    expect((await a.listOutgoing({ limit: 10 })).transfers.map((o) => o.state)).toEqual(['refunded', 'settled']);
    expect(await a.listOutgoing({ limit: 10, state: 'pending' })).toEqual({ transfers: [] });

    // Reopen A: positions and totals come back; both stores verify, conservation included.
    await a.close();
    a = await LedgerStore.open(storeOptions(dirs[0]!.dir, keyA));
    expect(a.totals).toMatchObject({ sent: 5_000n, refunded: 2_000n, received: 0n });
    const hexed = (s: LedgerStore) => s.positions().map((p) => ({ ...p, bank: Buffer.from(p.bank).toString('hex') }));
    expect(hexed(a)).toEqual([{ bank: Buffer.from(keyB.publicKey).toString('hex'), position: { sent: 5_000n, refunded: 2_000n, received: 0n } }]);
    expect(hexed(b)).toEqual([{ bank: Buffer.from(keyA.publicKey).toString('hex'), position: { sent: 0n, refunded: 0n, received: 3_000n } }]);
    for (const s of [a, b]) {
      const report = await verifyStore(s);
      expect(report.problems).toEqual([]);
    }
  });

  it('marks several transfers settled in one write, only those still pending', async () => {
    const payer = await funded(a);
    const payee = await openAccount(b);
    const sent = await a.submitSigned([1n, 2n, 3n].map((seq) => signed(a, payer, seq, { transfer: { payee: payee.id, amount: 1_000n, payeeBank: b.bank.key } })));
    const [i1, i2, i3] = sent.map((r) => (r as { entryIndex: number }).entryIndex) as [number, number, number];
    const credited = await b.submit([await creditOf(i1), await creditOf(i2)]);
    const ref = (k: number) => ({ bank: b.bank.key, index: (credited[k] as { entryIndex: number }).entryIndex, leafHash: new Uint8Array(32).fill(k) });
    expect(await a.markSettled(i2, ref(1))).toBe(true);
    // i2 is settled already, i1 and i3 are pending, entry 0 is no outgoing transfer at all.
    expect(await a.markSettledMany([{ index: i1, credit: ref(0) }, { index: i2, credit: ref(1) }, { index: 0, credit: ref(0) }, { index: i3, credit: ref(1) }])).toEqual([true, false, false, true]);
    expect(await a.markSettledMany([])).toEqual([]);
    const plain = (r: { bank: Uint8Array; index: number; leafHash: Uint8Array } | undefined) => r && { bank: [...r.bank], index: r.index, leafHash: [...r.leafHash] };
    expect(plain((await a.getOutgoing(i1))?.credit)).toEqual(plain(ref(0)));
    expect(plain((await a.getOutgoing(i3))?.credit)).toEqual(plain(ref(1)));
    expect((await a.listOutgoing({ limit: 10 })).transfers.map((o) => o.state)).toEqual(['settled', 'settled', 'settled']);
  });

  it('writes settlement marks and clearing cursors asked for together in few batches, in order, all durable', async () => {
    const payer = await funded(a);
    const payee = await openAccount(b);
    const seqs = Array.from({ length: 20 }, (_, i) => BigInt(i + 1));
    const sent = await a.submitSigned(seqs.map((seq) => signed(a, payer, seq, { transfer: { payee: payee.id, amount: 1_000n, payeeBank: b.bank.key } })));
    const indexes = sent.map((r) => (r as { entryIndex: number }).entryIndex);
    const ref = (k: number) => ({ bank: b.bank.key, index: 100 + k, leafHash: new Uint8Array(32).fill(k) });
    const writes: number[] = [];
    const onWrite = (ops: unknown[]) => writes.push(ops.length);
    a.db.on('write', onWrite);
    // 20 marks and 40 cursor moves asked for at once, as pushes and replica rounds arrive.
    const marks = indexes.map((index, k) => a.markSettled(index, ref(k)));
    const cursors: Array<Promise<void>> = [];
    for (let n = 1; n <= 20; n++) cursors.push(a.setClearingCursor(b.bank.key, n), a.setClearingCursor(keyA.publicKey, 1000 + n));
    expect(await Promise.all(marks)).toEqual(indexes.map(() => true));
    await Promise.all(cursors);
    a.db.off('write', onWrite);
    // The first write goes at once; whatever was asked for meanwhile goes in one more.
    expect(writes.length).toBeLessThanOrEqual(2);
    expect(writes.reduce((x, y) => x + y, 0)).toBe(60);
    // In order: the last cursor asked for is the one kept.
    expect(await a.clearingCursor(b.bank.key)).toBe(20);
    expect(await a.clearingCursor(keyA.publicKey)).toBe(1020);

    // Asked for just before closing: written before the database closes, then refused.
    const late = a.setClearingCursor(b.bank.key, 21);
    await a.close();
    await late;
    await expect(a.setClearingCursor(b.bank.key, 22)).rejects.toMatchObject({ code: 'STORE_CLOSED' });
    a = await LedgerStore.open(storeOptions(dirs[0]!.dir, keyA));
    expect(await a.clearingCursor(b.bank.key)).toBe(21);
    expect((await a.listOutgoing({ limit: 50 })).transfers.map((o) => o.state)).toEqual(indexes.map(() => 'settled'));
    expect((await verifyStore(a)).problems).toEqual([]);
  });

  it('lists past MAX_OUTGOING_SCAN transfers: a filtered page that found nothing says where to go on', async () => {
    const payer = await funded(a);
    const n = MAX_OUTGOING_SCAN + 2;
    const indexes: number[] = [];
    for (let from = 0; from < n; from += 1000) {
      const batch = Array.from({ length: Math.min(1000, n - from) }, (_, k) => signed(a, payer, BigInt(from + k + 1), { transfer: { payee: new Uint8Array(20), amount: 1n, payeeBank: keyB.publicKey } }));
      for (const r of await a.submitSigned(batch)) indexes.push((r as { entryIndex: number }).entryIndex);
    }
    // Every transfer settled but the oldest.
    const credit = { bank: keyB.publicKey, index: 5, leafHash: new Uint8Array(32) };
    expect((await a.markSettledMany(indexes.slice(1).map((index) => ({ index, credit })))).every(Boolean)).toBe(true);
    const first = await a.listOutgoing({ limit: 100, state: 'pending' });
    expect(first.transfers).toEqual([]);
    expect(first.next).toBeDefined();
    const rest = await a.listOutgoing({ limit: 100, state: 'pending', before: first.next! });
    expect(rest.transfers.map((t) => t.index)).toEqual([indexes[0]]);
    expect(rest.next).toBeUndefined();
    // Unfiltered, page by page: every transfer once, newest first.
    const seen: number[] = [];
    let before: number | undefined;
    for (let pages = 0; pages < 10; pages++) {
      const page = await a.listOutgoing({ limit: 4000, ...(before !== undefined ? { before } : {}) });
      seen.push(...page.transfers.map((t) => t.index));
      if (page.next === undefined) break;
      before = page.next;
    }
    expect(seen).toEqual([...indexes].reverse());
  });

  it('refuses to send to a bank the node holds a fork proof against', async () => {
    await a.close();
    a = await LedgerStore.open(storeOptions(dirs[0]!.dir, keyA, { isForked: (bank) => Buffer.from(bank).equals(Buffer.from(keyB.publicKey)) }));
    const payer = await funded(a);
    const [r] = await a.submitSigned([signed(a, payer, 1n, { transfer: { payee: new Uint8Array(20), amount: 1_000n, payeeBank: keyB.publicKey } })]);
    expect(r).toMatchObject({ code: 'BANK_FORKED' });
  });
});
