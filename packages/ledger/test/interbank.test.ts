import { AccountKind, decodeStrict, pb, u64 } from '@mutual/protocol';
import { leafHash } from '@mutual/merkle';
import { describe, expect, it } from 'vitest';
import { conservationProblem, MemoryLedgerState, netPosition, replayEntries, type Command, type EntryRef } from '../src/index.ts';
import { agreementBytes, signAgreement } from './agreement-fixture.ts';
import { DAY, TestBank, verify } from './fixture.ts';

/** Two banks of one federation with a member each, the payer holding 100 notes. */
function federation(clearingLimit = 50_000n) {
  const a = new TestBank();
  const b = new TestBank();
  const signed = signAgreement(agreementBytes({ members: [{ key: a.key }, { key: b.key }], clearingLimit }), [a.bank, b.bank]);
  for (const bank of [a, b]) expect(bank.apply([{ type: 'adoptAgreement', signed }])[0]).toMatchObject({ code: 'APPLIED' });
  const coop = a.open(AccountKind.cooperative);
  const payer = a.open();
  const payee = b.open();
  const coopB = b.open(AccountKind.cooperative);
  const payerB = b.open();
  expect(a.submit([coop, 1n, { labor: { worker: payer.id, day: DAY, milliHours: 20_000n, category: 'standard' } }])[0]).toMatchObject({ code: 'APPLIED' });
  expect(b.submit([coopB, 1n, { labor: { worker: payerB.id, day: DAY, milliHours: 20_000n, category: 'standard' } }])[0]).toMatchObject({ code: 'APPLIED' });
  return { a, b, payer, payee, payerB };
}

function ref(bank: TestBank, index: number): EntryRef {
  return { bank: bank.key, index, leafHash: leafHash(bank.entries[index]!) };
}

/** The command the payee bank derives from an outgoing entry of `from`. */
function creditFor(from: TestBank, index: number): Command {
  const e = decodeStrict(pb.Entry, from.entries[index]!)!;
  const ins = decodeStrict(pb.Instruction, e.applied!.body!)!;
  return { type: 'interbankCredit', source: ref(from, index), payee: ins.transfer!.payee!, amount: u64(e.applied!.amount) };
}

function refundFor(to: TestBank, rejectionIndex: number): Command {
  const e = decodeStrict(pb.Entry, to.entries[rejectionIndex]!)!;
  return { type: 'interbankRefund', rejection: ref(to, rejectionIndex), outgoingIndex: Number(u64(e.interbankRejection!.source!.index)) };
}

function replays(bank: TestBank): void {
  const fresh = new MemoryLedgerState();
  expect(replayEntries(fresh, bank.entries, verify)).toBeUndefined();
  expect(fresh.totals).toEqual(bank.state.totals);
  expect(conservationProblem(fresh)).toBeUndefined();
  expect(conservationProblem(bank.state)).toBeUndefined();
}

describe('interbank transfers', () => {
  it('debits at the payer bank, credits once at the payee bank, and both logs replay', () => {
    const { a, b, payer, payee } = federation();
    const [sent] = a.submit([payer, 1n, { transfer: { payee: payee.id, amount: 7_500n, payeeBank: b.key } }]);
    expect(sent).toMatchObject({ code: 'APPLIED', amount: 7_500n });
    const out = (sent as { entryIndex: number }).entryIndex;
    expect(a.balance(payer.id)).toBe(12_500n);
    expect(a.state.getOutgoing(out)).toMatchObject({ amount: 7_500n, refundIndex: undefined });
    expect(netPosition(a.state.getPosition(b.key))).toBe(-7_500n);

    const [credit] = b.apply([creditFor(a, out)]);
    expect(credit).toMatchObject({ code: 'APPLIED', duplicate: false, amount: 7_500n });
    expect(b.balance(payee.id)).toBe(7_500n);
    expect(netPosition(b.state.getPosition(a.key))).toBe(7_500n);
    // Duplicates, in the same batch or later, return the one credit.
    const again = b.apply([creditFor(a, out), creditFor(a, out)]);
    for (const r of again) expect(r).toEqual({ code: 'APPLIED', entryIndex: (credit as { entryIndex: number }).entryIndex, duplicate: true });
    expect(b.balance(payee.id)).toBe(7_500n);
    replays(a);
    replays(b);
  });

  it('refuses to send without an agreement covering both banks, to a forked bank, or past the clearing limit', () => {
    const { a, b, payer, payee } = federation(10_000n);
    const stranger = new TestBank();
    expect(a.submit([payer, 1n, { transfer: { payee: payee.id, amount: 1_000n, payeeBank: stranger.key } }])[0]).toMatchObject({ code: 'INTERBANK_UNAVAILABLE' });
    expect(a.submit([payer, 1n, { transfer: { payee: payee.id, amount: 10_001n, payeeBank: b.key } }])[0]).toMatchObject({ code: 'CLEARING_LIMIT' });
    expect(a.submit([payer, 1n, { transfer: { payee: payee.id, amount: 30_000n, payeeBank: b.key } }])[0]).toMatchObject({ code: 'INSUFFICIENT_FUNDS' });
    expect(a.submit([payer, 1n, { transfer: { payee: payee.id, amount: 6_000n, payeeBank: b.key } }])[0]).toMatchObject({ code: 'APPLIED' });
    // In flight counts: 6 + 5 > 10.
    expect(a.submit([payer, 2n, { transfer: { payee: payee.id, amount: 5_000n, payeeBank: b.key } }])[0]).toMatchObject({ code: 'CLEARING_LIMIT' });
    a.forked.add(Buffer.from(b.key).toString('hex'));
    expect(a.submit([payer, 2n, { transfer: { payee: payee.id, amount: 1_000n, payeeBank: b.key } }])[0]).toMatchObject({ code: 'BANK_FORKED' });
    expect(a.balance(payer.id)).toBe(14_000n);
    replays(a);
  });

  it('transfers the other way make room under the clearing limit', () => {
    const { a, b, payer, payee, payerB } = federation(10_000n);
    const [x] = a.submit([payer, 1n, { transfer: { payee: payee.id, amount: 9_000n, payeeBank: b.key } }]);
    b.apply([creditFor(a, (x as { entryIndex: number }).entryIndex)]);
    const [y] = b.submit([payerB, 1n, { transfer: { payee: payer.id, amount: 8_000n, payeeBank: a.key } }]);
    expect(y).toMatchObject({ code: 'APPLIED' });
    expect(a.apply([creditFor(b, (y as { entryIndex: number }).entryIndex)])[0]).toMatchObject({ code: 'APPLIED', amount: 8_000n });
    expect(netPosition(a.state.getPosition(b.key))).toBe(-1_000n);
    expect(a.submit([payer, 2n, { transfer: { payee: payee.id, amount: 9_000n, payeeBank: b.key } }])[0]).toMatchObject({ code: 'APPLIED' });
    replays(a);
    replays(b);
  });

  it('a rejection at the payee bank is refunded exactly once at the payer bank', () => {
    const { a, b, payer } = federation();
    const ghost = new Uint8Array(20).fill(9);
    const [sent] = a.submit([payer, 1n, { transfer: { payee: ghost, amount: 4_000n, payeeBank: b.key } }]);
    const out = (sent as { entryIndex: number }).entryIndex;
    const [rej] = b.apply([creditFor(a, out)]);
    expect(rej).toMatchObject({ code: 'APPLIED', rejected: 'UNKNOWN_PAYEE' });
    const rejIndex = (rej as { entryIndex: number }).entryIndex;
    expect(b.state.totals.received).toBe(0n);

    const [refund] = a.apply([refundFor(b, rejIndex)]);
    expect(refund).toMatchObject({ code: 'APPLIED', duplicate: false, amount: 4_000n });
    expect(a.balance(payer.id)).toBe(20_000n);
    expect(a.state.getOutgoing(out)!.refundIndex).toBe((refund as { entryIndex: number }).entryIndex);
    expect(a.apply([refundFor(b, rejIndex)])[0]).toMatchObject({ code: 'APPLIED', duplicate: true });
    expect(a.balance(payer.id)).toBe(20_000n);
    expect(netPosition(a.state.getPosition(b.key))).toBe(0n);
    replays(a);
    replays(b);
  });

  it('the payee bank rejects past its own clearing limit, from a forked bank, and without an agreement', () => {
    const { a, b, payer, payee } = federation(10_000n);
    const [s1] = a.submit([payer, 1n, { transfer: { payee: payee.id, amount: 6_000n, payeeBank: b.key } }]);
    expect(b.apply([creditFor(a, (s1 as { entryIndex: number }).entryIndex)])[0]).toMatchObject({ code: 'APPLIED', amount: 6_000n });
    // B checks the limit on its own view (6 received): 6 + 5 > 10.
    const over: Command = { type: 'interbankCredit', source: { bank: a.key, index: 999, leafHash: new Uint8Array(32) }, payee: payee.id, amount: 5_000n };
    expect(b.apply([over])[0]).toMatchObject({ code: 'APPLIED', rejected: 'CLEARING_LIMIT' });
    const [s2] = a.submit([payer, 2n, { transfer: { payee: payee.id, amount: 3_000n, payeeBank: b.key } }]);
    b.forked.add(Buffer.from(a.key).toString('hex'));
    expect(b.apply([creditFor(a, (s2 as { entryIndex: number }).entryIndex)])[0]).toMatchObject({ rejected: 'BANK_FORKED' });
    expect(b.balance(payee.id)).toBe(6_000n);
    const stranger = new TestBank();
    const fake: Command = { type: 'interbankCredit', source: { bank: stranger.key, index: 5, leafHash: new Uint8Array(32) }, payee: payee.id, amount: 1n };
    expect(b.apply([fake])[0]).toMatchObject({ rejected: 'INTERBANK_UNAVAILABLE' });
    replays(b);
  });

  it('refuses malformed interbank commands without an entry', () => {
    const { a, b, payee } = federation();
    const size = b.state.size;
    const bad: Command[] = [
      { type: 'interbankCredit', source: { bank: b.key, index: 3, leafHash: new Uint8Array(32) }, payee: payee.id, amount: 1n },
      { type: 'interbankCredit', source: { bank: a.key, index: 3, leafHash: new Uint8Array(31) }, payee: payee.id, amount: 1n },
      { type: 'interbankCredit', source: { bank: a.key, index: 3, leafHash: new Uint8Array(32) }, payee: payee.id, amount: 0n },
      { type: 'interbankReject', source: { bank: a.key, index: 3, leafHash: new Uint8Array(32) }, amount: 1n, code: 'NOT_A_CODE' },
      // Names of the code table's prototype, and codes that are not a rejection's.
      ...['toString', 'constructor', '__proto__', 'DB_CORRUPT', 'INSUFFICIENT_FUNDS'].map((code): Command => ({ type: 'interbankReject', source: { bank: a.key, index: 3, leafHash: new Uint8Array(32) }, amount: 1n, code })),
      { type: 'interbankRefund', rejection: { bank: a.key, index: 3, leafHash: new Uint8Array(32) }, outgoingIndex: 4 },
    ];
    for (const r of b.apply(bad)) expect(r).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(b.state.size).toBe(size);
  });

  it('replay refuses a log that credits one outgoing entry twice', () => {
    const { a, b, payer, payee } = federation();
    const [sent] = a.submit([payer, 1n, { transfer: { payee: payee.id, amount: 1_000n, payeeBank: b.key } }]);
    const credit = creditFor(a, (sent as { entryIndex: number }).entryIndex);
    b.apply([credit]);
    // A forged second credit entry: what the rules would write for a first credit, at the next index.
    const forged = pb.Entry.decode(b.entries.at(-1)!);
    forged.index = b.state.size;
    const entries = [...b.entries, pb.Entry.encode(forged).finish()];
    const problem = replayEntries(new MemoryLedgerState(), entries, verify);
    expect(problem).toMatchObject({ index: b.state.size });
  });
});
