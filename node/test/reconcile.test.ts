// Reconciliation of interbank transfers over real logs made by the ledger rules in memory:
// matched, in flight, every kind of mismatch, conservation, and the incremental reconciler.
import { leafHash } from '@mutual/merkle';
import type { Command, EntryRef } from '@mutual/ledger';
import { AccountKind, decodeStrict, pb, toU64, u64 } from '@mutual/protocol';
import { describe, expect, it } from 'vitest';
import { agreementBytes, signAgreement } from '../../packages/ledger/test/agreement-fixture.ts';
import { DAY, TestBank, verify } from '../../packages/ledger/test/fixture.ts';
import { Reconciler, Reconciliation, type PairReport, type ReconciliationReport } from '../src/reconcile.ts';

type Member = ReturnType<TestBank['open']>;

/** Three banks of one federation, each with a member holding 20 notes. */
function federation() {
  const banks = [new TestBank(), new TestBank(), new TestBank()] as const;
  const signed = signAgreement(agreementBytes({ members: banks.map((b) => ({ key: b.key })), clearingLimit: 100_000n }), banks.map((b) => b.bank));
  const members: Member[] = [];
  for (const bank of banks) {
    expect(bank.apply([{ type: 'adoptAgreement', signed }])[0]).toMatchObject({ code: 'APPLIED' });
    const coop = bank.open(AccountKind.cooperative);
    const m = bank.open();
    expect(bank.submit([coop, 1n, { labor: { worker: m.id, day: DAY, milliHours: 20_000n, category: 'standard' } }])[0]).toMatchObject({ code: 'APPLIED' });
    members.push(m);
  }
  const [a, b, c] = banks;
  const [ma, mb, mc] = members as [Member, Member, Member];
  const seq = new Map<Member, bigint>();
  /** `from` at bank `x` pays `amount` to `to` at bank `y`; returns the outgoing index. */
  const pay = (x: TestBank, from: Member, y: TestBank, to: Uint8Array, amount: bigint): number => {
    const s = (seq.get(from) ?? 0n) + 1n;
    seq.set(from, s);
    const [r] = x.submit([from, s, { transfer: { payee: to, amount, payeeBank: y.key } }]);
    expect(r).toMatchObject({ code: 'APPLIED' });
    return (r as { entryIndex: number }).entryIndex;
  };
  return { a, b, c, ma, mb, mc, pay };
}

function ref(bank: TestBank, index: number): EntryRef {
  return { bank: bank.key, index, leafHash: leafHash(bank.entries[index]!) };
}

/** The answer the payee's bank derives from an outgoing entry; returns its index. */
function answer(to: TestBank, from: TestBank, index: number, change: Partial<{ amount: bigint; payee: Uint8Array; leafHash: Uint8Array }> = {}): number {
  const e = decodeStrict(pb.Entry, from.entries[index]!)!;
  const ins = decodeStrict(pb.Instruction, e.applied!.body!)!;
  const cmd: Command = {
    type: 'interbankCredit',
    source: { ...ref(from, index), ...(change.leafHash ? { leafHash: change.leafHash } : {}) },
    payee: change.payee ?? ins.transfer!.payee!,
    amount: change.amount ?? u64(e.applied!.amount),
  };
  const [r] = to.apply([cmd]);
  expect(r).toMatchObject({ code: 'APPLIED', duplicate: false });
  return (r as { entryIndex: number }).entryIndex;
}

function refund(payer: TestBank, rejection: EntryRef, outgoingIndex: number): number {
  const [r] = payer.apply([{ type: 'interbankRefund', rejection, outgoingIndex }]);
  expect(r).toMatchObject({ code: 'APPLIED', duplicate: false });
  return (r as { entryIndex: number }).entryIndex;
}

/** Appends to `bank`'s entries (not its state) a copy of entry `index` renumbered as the next one: a forged log. */
function forgeCopy(bank: TestBank, index: number): number {
  const e = pb.Entry.decode(bank.entries[index]!);
  e.index = toU64(BigInt(bank.entries.length));
  bank.entries.push(pb.Entry.encode(e).finish());
  return bank.entries.length - 1;
}

function reconcile(self: TestBank, ...logs: Array<TestBank | [TestBank, number]>): ReconciliationReport {
  const r = new Reconciliation({ self: self.key, verify });
  for (const l of [self, ...logs.filter((l) => l !== self)]) {
    const [bank, size] = Array.isArray(l) ? l : [l, l.entries.length];
    r.ingest(bank.key, 0, bank.entries.slice(0, size));
  }
  return r.report();
}

function pairOf(report: ReconciliationReport, x: TestBank, y: TestBank): PairReport {
  const p = report.pairs.find((p) => (eq(p.banks[0], x.key) && eq(p.banks[1], y.key)) || (eq(p.banks[0], y.key) && eq(p.banks[1], x.key)));
  if (!p) throw new Error('no such pair');
  return p;
}

/** The pair with the net of `x` toward `y` first. */
function netsOf(report: ReconciliationReport, x: TestBank, y: TestBank): [bigint, bigint] {
  const p = pairOf(report, x, y);
  return eq(p.banks[0], x.key) ? [p.net[0], p.net[1]] : [p.net[1], p.net[0]];
}

const eq = (p: Uint8Array, q: Uint8Array) => Buffer.from(p).equals(Buffer.from(q));
const refs = (l: ReadonlyArray<{ bank: Uint8Array; index: number }>) => l.map((r) => `${Buffer.from(r.bank).toString('hex')}#${r.index}`);
const kinds = (p: PairReport) => p.problems.map((x) => x.kind).sort();
const bankOf = (report: ReconciliationReport, x: TestBank) => report.banks.find((b) => eq(b.bank, x.key))!;

describe('reconciliation: matched', () => {
  it('credits, a rejection refunded, transfers both ways: every pair matched, nets opposite, conservation holds', () => {
    const { a, b, c, ma, mb, mc, pay } = federation();
    answer(b, a, pay(a, ma, b, mb.id, 7_500n));
    answer(a, b, pay(b, mb, a, ma.id, 2_000n));
    answer(c, a, pay(a, ma, c, mc.id, 1_000n));
    // A transfer to an account C does not hold is rejected, then refunded.
    const out = pay(b, mb, c, new Uint8Array(20).fill(7), 3_000n);
    const [rej] = c.apply([{ type: 'interbankCredit', source: ref(b, out), payee: new Uint8Array(20).fill(7), amount: 3_000n }]);
    expect(rej).toMatchObject({ rejected: 'UNKNOWN_PAYEE' });
    refund(b, ref(c, (rej as { entryIndex: number }).entryIndex), out);

    for (const self of [a, b, c]) {
      const r = reconcile(self, a, b, c);
      expect(r.ok).toBe(true);
      expect(r.pairs).toHaveLength(3);
      for (const p of r.pairs) expect(p).toMatchObject({ state: 'matched', inFlight: [], problems: [], inFlightCount: 0, problemCount: 0 });
      expect(netsOf(r, a, b)).toEqual([-5_500n, 5_500n]);
      expect(netsOf(r, a, c)).toEqual([-1_000n, 1_000n]);
      expect(netsOf(r, b, c)).toEqual([0n, 0n]);
      expect(r.federation).toMatchObject({ ok: true, positionsSum: 0n, inFlight: 0n, inFlightCount: 0, problems: [] });
      expect(eq(r.banks[0]!.bank, self.key) && r.banks[0]!.self).toBe(true);
      const ba = bankOf(r, a);
      expect(ba).toMatchObject({ name: 'Test Bank', replicated: a.entries.length, net: -6_500n, problems: [] });
      // balances = issued − retired + net position
      expect(ba.conservation).toMatchObject({ ok: true, replayed: a.entries.length, issued: 20_000n, retired: 0n, sent: 8_500n, received: 2_000n, refunded: 0n, net: -6_500n, balances: 13_500n });
      expect(bankOf(r, b).conservation).toMatchObject({ ok: true, sent: 5_000n, refunded: 3_000n, received: 7_500n, net: 5_500n, balances: 25_500n });
    }
  });

  it('takes a log in chunks of any size, an agreement adoption split from its rate schedule too', () => {
    const { a, b, ma, mb, pay } = federation();
    answer(b, a, pay(a, ma, b, mb.id, 1_000n));
    const r = new Reconciliation({ self: a.key, verify });
    for (let i = 0; i < a.entries.length; i++) r.ingest(a.key, i, [a.entries[i]!]);
    r.ingest(b.key, 0, b.entries.slice(0, 3));
    r.ingest(b.key, 3, b.entries.slice(3));
    const report = r.report();
    expect(report.ok).toBe(true);
    expect(bankOf(report, a).conservation).toMatchObject({ ok: true, replayed: a.entries.length });
    expect(() => r.ingest(b.key, 2, [b.entries[2]!])).toThrow(RangeError);
  });
});

describe('reconciliation: in flight', () => {
  it('an outgoing entry not answered yet, a rejection not refunded yet, a credit of an outgoing entry not replicated yet', () => {
    const { a, b, c, ma, mb, pay } = federation();
    const out1 = pay(a, ma, b, mb.id, 4_000n);
    let r = reconcile(a, a, b, c);
    const ab = pairOf(r, a, b);
    expect(ab).toMatchObject({ state: 'in-flight', inFlightCount: 1, problems: [] });
    expect(ab.inFlight).toEqual([{ kind: 'unanswered', entry: { bank: a.key, index: out1 }, amount: 4_000n, pending: 4_000n }]);
    expect(netsOf(r, a, b)).toEqual([-4_000n, 0n]);
    expect(r.ok).toBe(false);
    expect(r.federation).toMatchObject({ ok: true, positionsSum: -4_000n, inFlight: 4_000n, inFlightCount: 1 });
    expect(pairOf(r, a, c).state).toBe('matched');

    // B credits it, but the replica of A held here stops before the outgoing entry.
    const sizeBefore = out1;
    answer(b, a, out1);
    r = reconcile(b, [a, sizeBefore], b, c);
    expect(pairOf(r, a, b).inFlight).toEqual([{ kind: 'source-not-replicated', entry: { bank: b.key, index: b.entries.length - 1 }, amount: 4_000n, pending: -4_000n }]);
    expect(r.federation).toMatchObject({ ok: true, positionsSum: 4_000n, inFlight: -4_000n });

    // A transfer to C rejected by C, not refunded by A yet.
    const out2 = pay(a, ma, c, new Uint8Array(20).fill(1), 2_000n);
    const rejIndex = answer(c, a, out2);
    r = reconcile(c, a, b, c);
    expect(pairOf(r, a, c)).toMatchObject({ state: 'in-flight', inFlight: [{ kind: 'unrefunded', entry: { bank: c.key, index: rejIndex }, amount: 2_000n, pending: 2_000n }] });
    expect(pairOf(r, a, b).state).toBe('matched');

    // Refunded, but the replica of C held here stops before the rejection.
    refund(a, ref(c, rejIndex), out2);
    r = reconcile(a, a, b, [c, rejIndex]);
    expect(pairOf(r, a, c).inFlight).toEqual([{ kind: 'rejection-not-replicated', entry: { bank: a.key, index: a.entries.length - 1 }, amount: 2_000n, pending: 0n }]);
    r = reconcile(a, a, b, c);
    expect(r.ok).toBe(true);
  });

  it('is incremental: a verdict waiting for a replica changes when the replica grows', () => {
    const { a, b, ma, mb, pay } = federation();
    const out = pay(a, ma, b, mb.id, 1_500n);
    answer(b, a, out);
    const r = new Reconciliation({ self: b.key, verify });
    r.ingest(b.key, 0, b.entries);
    r.ingest(a.key, 0, a.entries.slice(0, out));
    expect(pairOf(r.report(), a, b).state).toBe('in-flight');
    r.ingest(a.key, out, a.entries.slice(out));
    const report = r.report();
    expect(pairOf(report, a, b).state).toBe('matched');
    expect(report.ok).toBe(true);
  });

  it('an outgoing entry to a bank none of whose log is held is in flight toward it', () => {
    const { a, b, ma, mb, pay } = federation();
    pay(a, ma, b, mb.id, 1_000n);
    const r = reconcile(a, a);
    const other = bankOf(r, b);
    expect(other).toMatchObject({ replicated: 0, name: undefined, conservation: undefined });
    expect(pairOf(r, a, b).state).toBe('in-flight');
    expect(r.ok).toBe(false);
  });
});

describe('reconciliation: mismatched', () => {
  it('a credit of another amount, to another payee, or pinning another leaf hash', () => {
    const { a, b, c, ma, mb, mc, pay } = federation();
    answer(b, a, pay(a, ma, b, mb.id, 1_000n), { amount: 1_001n });
    answer(c, a, pay(a, ma, c, mc.id, 1_000n), { payee: c.open().id });
    answer(c, b, pay(b, mb, c, mc.id, 1_000n), { leafHash: new Uint8Array(32).fill(3) });
    const r = reconcile(a, a, b, c);
    expect(r.ok).toBe(false);
    const ab = pairOf(r, a, b);
    expect(ab.state).toBe('mismatched');
    expect(kinds(ab)).toEqual(['amount-differs']);
    expect(ab.problems[0]!.entries).toHaveLength(2);
    expect(kinds(pairOf(r, a, c))).toEqual(['payee-differs']);
    expect(kinds(pairOf(r, b, c))).toEqual(['leaf-hash-differs']);
    // One milli-note credited that was never sent: the federation check says so.
    expect(r.federation).toMatchObject({ ok: false, positionsSum: 1n, inFlight: 0n });
    expect(r.federation.problems[0]).toMatch(/1 milli-notes are unaccounted for/);
  });

  it('an answer without an outgoing entry, and an answer from another bank than the payee bank', () => {
    const { a, b, c, ma, mb, pay } = federation();
    // Entry 3 of A is its member's account opening, not a transfer.
    const [ghost] = b.apply([{ type: 'interbankCredit', source: ref(a, 3), payee: mb.id, amount: 500n }]);
    expect(ghost).toMatchObject({ code: 'APPLIED', amount: 500n });
    // A pays B; C answers it.
    const out = pay(a, ma, b, mb.id, 700n);
    answer(b, a, out);
    c.apply([{ type: 'interbankReject', source: ref(a, out), amount: 700n, code: 'UNKNOWN_PAYEE' }]);
    const r = reconcile(b, a, b, c);
    expect(kinds(pairOf(r, a, b))).toEqual(['answer-without-outgoing']);
    expect(refs(pairOf(r, a, b).problems[0]!.entries)).toEqual(refs([{ bank: b.key, index: (ghost as { entryIndex: number }).entryIndex }, { bank: a.key, index: 3 }]));
    expect(kinds(pairOf(r, a, c))).toEqual(['answer-without-outgoing']);
  });

  it('two answers, a credit and a rejection of one outgoing entry, and the log that holds them does not replay', () => {
    const { a, b, c, ma, mb, mc, pay } = federation();
    const credit = answer(b, a, pay(a, ma, b, mb.id, 1_000n));
    forgeCopy(b, credit);
    const out = pay(a, ma, c, mc.id, 2_000n);
    answer(c, a, out);
    const last = pb.Entry.decode(c.entries.at(-1)!);
    c.entries.push(
      pb.Entry.encode({
        index: toU64(BigInt(c.entries.length)),
        timeMs: last.timeMs,
        interbankRejection: { source: last.interbankCredit!.source!, amount: toU64(2_000n), code: 'UNKNOWN_PAYEE' },
      }).finish(),
    );
    const r = reconcile(a, a, b, c);
    expect(kinds(pairOf(r, a, b))).toEqual(['double-answer']);
    expect(pairOf(r, a, b).problems[0]!.entries).toHaveLength(3);
    expect(kinds(pairOf(r, a, c))).toEqual(['credit-and-rejection']);
    const bb = bankOf(r, b);
    // The forged copy is dated with the credit: their commit is where replay stops.
    expect(bb.conservation).toMatchObject({ ok: false, replayed: credit });
    expect(bb.conservation!.problem).toMatch(/does not replay: entry \d+/);
    expect(r.ok).toBe(false);
  });

  it('a refund without a rejection, a refund of a credited transfer, and a transfer refunded twice', () => {
    const { a, b, c, ma, mb, mc, pay } = federation();
    // A refunds a transfer to B naming an entry of B that is not a rejection.
    const out1 = pay(a, ma, b, mb.id, 1_000n);
    refund(a, ref(b, 3), out1);
    // A refunds a transfer that C credited.
    const out2 = pay(a, ma, c, mc.id, 1_000n);
    answer(c, a, out2);
    const [credit] = c.entries.slice(-1);
    expect(credit).toBeDefined();
    refund(a, ref(c, c.entries.length - 1), out2);
    // B's transfer to C, rejected, refunded twice (forged).
    const out3 = pay(b, mb, c, new Uint8Array(20).fill(2), 1_000n);
    const rej = answer(c, b, out3);
    const ref1 = refund(b, ref(c, rej), out3);
    forgeCopy(b, ref1);
    const r = reconcile(c, a, b, c);
    expect(kinds(pairOf(r, a, b))).toEqual(['refund-without-rejection']);
    expect(kinds(pairOf(r, a, c))).toEqual(['refund-without-rejection']);
    expect(kinds(pairOf(r, b, c))).toEqual(['double-refund']);
    expect(r.pairs.every((p) => p.state === 'mismatched')).toBe(true);
  });

  it('a refund naming a rejection past the replica, while another rejection of the transfer is held: in flight, not matched', () => {
    const { a, c, ma, pay } = federation();
    const out = pay(a, ma, c, new Uint8Array(20).fill(3), 1_000n);
    answer(c, a, out);
    const later = c.entries.length + 5;
    const refundIndex = refund(a, { bank: c.key, index: later, leafHash: new Uint8Array(32).fill(7) }, out);
    const p = pairOf(reconcile(a, a, c), a, c);
    expect(p.state).toBe('in-flight');
    expect(p.inFlight).toEqual([{ kind: 'rejection-not-replicated', entry: { bank: a.key, index: refundIndex }, amount: 1_000n, pending: 0n }]);
  });

  it('a refund of another amount or to another payer', () => {
    const { a, b, ma, pay } = federation();
    const out = pay(a, ma, b, new Uint8Array(20).fill(4), 1_000n);
    const rej = answer(b, a, out);
    const idx = refund(a, ref(b, rej), out);
    // Forged: the refund entry rewritten with another amount and payer (A's log no longer replays).
    const e = pb.Entry.decode(a.entries.pop()!);
    e.interbankRefund!.amount = toU64(999n);
    e.interbankRefund!.payer = new Uint8Array(20).fill(5);
    a.entries.push(pb.Entry.encode(e).finish());
    expect(a.entries.length - 1).toBe(idx);
    const r = reconcile(a, a, b);
    expect(kinds(pairOf(r, a, b))).toEqual(['amount-differs', 'payer-differs']);
    expect(bankOf(r, a).conservation!.ok).toBe(false);
  });
});

describe('Reconciler', () => {
  it('reads nothing before the first report, then follows appends', async () => {
    const { a, b, ma, mb, pay } = federation();
    const reads: string[] = [];
    const listeners: Array<() => void> = [];
    let bSize = 0;
    const rec = new Reconciler({
      store: {
        bank: { key: a.key },
        get size() {
          return a.entries.length;
        },
        getEntries: async (from, to) => {
          reads.push(`a ${from}-${to}`);
          return a.entries.slice(from, to);
        },
        subscribe: (l) => (listeners.push(l), () => {}),
      },
      replicas: {
        list: () => [{ bank: b.key, size: bSize }],
        getEntries: async (_bank, from, to) => {
          reads.push(`b ${from}-${to}`);
          return b.entries.slice(from, Math.min(to, bSize));
        },
        subscribe: (l) => (listeners.push(l), () => {}),
      },
      verify,
      chunk: 4,
    });
    const out = pay(a, ma, b, mb.id, 1_000n);
    for (const l of listeners) l();
    expect(reads).toEqual([]);
    let r = await rec.report();
    expect(pairOf(r, a, b).state).toBe('in-flight');
    expect(reads.filter((x) => x.startsWith('a'))).toHaveLength(Math.ceil(a.entries.length / 4));
    reads.length = 0;
    answer(b, a, out);
    bSize = b.entries.length;
    for (const l of listeners) l();
    r = await rec.report();
    expect(r.ok).toBe(true);
    expect(reads.every((x) => x.startsWith('b'))).toBe(true);
    await rec.stop();
  });
});
