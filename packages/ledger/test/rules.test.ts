import { AccountKind, pb, toU64 } from '@mutual/protocol';
import { beforeEach, describe, expect, it } from 'vitest';
import { LIMITS } from '@mutual/interface';
import { conservationProblem, isName, isWellFormedText, replayEntries, MemoryLedgerState } from '../src/index.ts';
import { DAY, instructionBody, newHolder, signInstruction, TestBank, verify, type Holder } from './fixture.ts';

type Acct = Holder & { id: Uint8Array };
let bank: TestBank;
let coop: Acct;
let alice: Acct;
let bob: Acct;

const std = (worker: Uint8Array, hours: bigint, day = DAY) => ({ labor: { worker, day, milliHours: hours, category: 'standard' } });

beforeEach(() => {
  bank = new TestBank();
  coop = bank.open(AccountKind.cooperative, 'Bakery');
  alice = bank.open(AccountKind.member, 'alice');
  bob = bank.open(AccountKind.member, 'bob');
});

describe('issuance', () => {
  it('issues hours x rate: 8 standard hours = 8 notes, 7.5 unpleasant hours = 11.25 notes', () => {
    const [a, b] = bank.submit(
      [coop, 1n, std(alice.id, 8000n)],
      [coop, 2n, { labor: { worker: bob.id, day: DAY, milliHours: 7500n, category: 'unpleasant' } }],
    );
    expect(a).toMatchObject({ code: 'APPLIED', amount: 8000n });
    expect(b).toMatchObject({ code: 'APPLIED', amount: 11250n });
    expect(bank.balance(alice.id)).toBe(8000n);
    expect(bank.balance(bob.id)).toBe(11250n);
    expect(bank.state.totals.issued).toBe(19250n);
  });

  it('refuses more than 24 hours for one worker and day, across records and cooperatives', () => {
    const coop2 = bank.open(AccountKind.cooperative);
    expect(bank.submit([coop, 1n, std(alice.id, 16000n)])[0]!.code).toBe('APPLIED');
    expect(bank.submit([coop2, 1n, std(alice.id, 8001n)])[0]!.code).toBe('DAILY_HOURS_EXCEEDED');
    expect(bank.submit([coop2, 1n, std(alice.id, 8000n)])[0]!.code).toBe('APPLIED');
    // another day is another budget
    expect(bank.submit([coop, 2n, std(alice.id, 24000n, DAY - 1)])[0]!.code).toBe('APPLIED');
    expect(bank.submit([coop, 3n, std(alice.id, 24001n, DAY - 2)])[0]!.code).toBe('HOURS_INVALID');
  });

  it('refuses zero hours, unknown categories, non-cooperative attesters, non-member workers, future days', () => {
    expect(bank.submit([coop, 1n, std(alice.id, 0n)])[0]!.code).toBe('HOURS_INVALID');
    expect(bank.submit([coop, 1n, { labor: { worker: alice.id, day: DAY, milliHours: 1000n, category: 'leisure' } }])[0]!.code).toBe('UNKNOWN_CATEGORY');
    expect(bank.submit([coop, 1n, { labor: { worker: alice.id, day: DAY, milliHours: 1000n, category: 'Bad Name' } }])[0]!.code).toBe('UNKNOWN_CATEGORY');
    expect(bank.submit([alice, 1n, std(bob.id, 1000n)])[0]!.code).toBe('NOT_A_COOPERATIVE');
    expect(bank.submit([coop, 1n, std(coop.id, 1000n)])[0]!.code).toBe('WORKER_NOT_A_MEMBER');
    expect(bank.submit([coop, 1n, std(newHolder().publicKey.subarray(0, 20), 1000n)])[0]!.code).toBe('UNKNOWN_WORKER');
    expect(bank.submit([coop, 1n, std(alice.id, 1000n, DAY + 2)])[0]!.code).toBe('DAY_IN_FUTURE');
    expect(bank.submit([coop, 1n, std(alice.id, 1000n, DAY - LIMITS.MAX_LABOR_DAYS_BACK - 1)])[0]!.code).toBe('DAY_TOO_OLD');
    expect(bank.submit([coop, 1n, std(alice.id, 1000n, DAY + 1)])[0]!.code).toBe('APPLIED');
    expect(bank.submit([coop, 2n, std(alice.id, 1000n, DAY - LIMITS.MAX_LABOR_DAYS_BACK)])[0]!.code).toBe('APPLIED');
    expect(bank.state.totals.issued).toBe(2000n);
  });

  it('uses the schedule in force: a new schedule applies from the next entry', () => {
    expect(bank.apply([{ type: 'adoptRates', rates: [['standard', 1200], ['care', 2000]] }])[0]!.code).toBe('APPLIED');
    expect(bank.submit([coop, 1n, { labor: { worker: alice.id, day: DAY, milliHours: 1000n, category: 'care' } }])[0]).toMatchObject({ amount: 2000n });
    expect(bank.submit([coop, 2n, { labor: { worker: alice.id, day: DAY, milliHours: 1000n, category: 'unpleasant' } }])[0]!.code).toBe('UNKNOWN_CATEGORY');
    expect(bank.apply([{ type: 'adoptRates', rates: [['standard', 0]] }])[0]!.code).toBe('RATE_SCHEDULE_INVALID');
    expect(bank.apply([{ type: 'adoptRates', rates: [['a', 1], ['a', 2]] }])[0]!.code).toBe('RATE_SCHEDULE_INVALID');
    expect(bank.apply([{ type: 'adoptRates', rates: [] }])[0]!.code).toBe('RATE_SCHEDULE_INVALID');
    // the largest schedule the bounds allow must still fit one entry: refused, never a crash
    const huge = Array.from({ length: LIMITS.MAX_RATE_CATEGORIES }, (_, i) => [`c${String(i).padStart(2, '0')}${'x'.repeat(LIMITS.MAX_CATEGORY_BYTES - 3)}`, 1000] as const);
    expect(bank.apply([{ type: 'adoptRates', rates: huge }])[0]!.code).toBe('RATE_SCHEDULE_INVALID');
    expect(bank.apply([{ type: 'adoptRates', rates: huge.slice(0, 20) }])[0]!.code).toBe('APPLIED');
  });
});

describe('transfers', () => {
  beforeEach(() => {
    bank.submit([coop, 1n, std(alice.id, 10000n)]);
  });

  it('moves notes and refuses overdraft', () => {
    expect(bank.submit([alice, 1n, { transfer: { payee: bob.id, amount: 7500n } }])[0]!.code).toBe('APPLIED');
    expect(bank.balance(alice.id)).toBe(2500n);
    expect(bank.balance(bob.id)).toBe(7500n);
    expect(bank.submit([alice, 2n, { transfer: { payee: bob.id, amount: 2501n } }])[0]!.code).toBe('INSUFFICIENT_FUNDS');
    expect(bank.submit([alice, 2n, { transfer: { payee: bob.id, amount: 2500n } }])[0]!.code).toBe('APPLIED');
    expect(bank.balance(alice.id)).toBe(0n);
  });

  it('returns the original result for a retry of the same bytes, and changes nothing', () => {
    const signed = signInstruction(instructionBody(bank.key, alice.id, 1n, { transfer: { payee: bob.id, amount: 1000n } }), alice.seed);
    const [first] = bank.submitBytes(signed);
    const size = bank.state.size;
    const [again, again2] = bank.submitBytes(signed, signed);
    expect(first).toMatchObject({ code: 'APPLIED', duplicate: false });
    for (const r of [again, again2]) expect(r).toMatchObject({ code: 'APPLIED', duplicate: true, entryIndex: (first as { entryIndex: number }).entryIndex });
    expect(bank.state.size).toBe(size);
    expect(bank.balance(bob.id)).toBe(1000n);
    // the same sequence number with other bytes is a replay
    expect(bank.submit([alice, 1n, { transfer: { payee: bob.id, amount: 999n } }])[0]!.code).toBe('SEQUENCE_REPLAYED');
    // a duplicate within one batch applies once
    const s2 = signInstruction(instructionBody(bank.key, alice.id, 2n, { transfer: { payee: bob.id, amount: 1n } }), alice.seed);
    const [x, y] = bank.submitBytes(s2, s2);
    expect(x).toMatchObject({ duplicate: false });
    expect(y).toMatchObject({ duplicate: true });
    expect(bank.balance(bob.id)).toBe(1001n);
  });

  it('refuses sequence gaps, and a rejected instruction does not use its number', () => {
    expect(bank.submit([alice, 2n, { transfer: { payee: bob.id, amount: 1n } }])[0]!.code).toBe('SEQUENCE_GAP');
    expect(bank.submit([alice, 1n, { transfer: { payee: bob.id, amount: 10001n } }])[0]!.code).toBe('INSUFFICIENT_FUNDS');
    expect(bank.submit([alice, 1n, { transfer: { payee: bob.id, amount: 1n } }])[0]!.code).toBe('APPLIED');
  });

  it('refuses bad signatures, wrong banks, unknown accounts, self transfers, bad amounts', () => {
    const body = instructionBody(bank.key, alice.id, 1n, { transfer: { payee: bob.id, amount: 1n } });
    expect(bank.submitBytes(signInstruction(body, bob.seed))[0]!.code).toBe('BAD_SIGNATURE');
    const other = newHolder();
    expect(bank.submitBytes(signInstruction(instructionBody(other.publicKey, alice.id, 1n, { transfer: { payee: bob.id, amount: 1n } }), alice.seed))[0]!.code).toBe('WRONG_BANK');
    const stranger = { ...newHolder(), id: new Uint8Array(20).fill(7) };
    expect(bank.submit([stranger, 1n, { transfer: { payee: bob.id, amount: 1n } }])[0]!.code).toBe('UNKNOWN_ACCOUNT');
    expect(bank.submit([alice, 1n, { transfer: { payee: stranger.id, amount: 1n } }])[0]!.code).toBe('UNKNOWN_PAYEE');
    expect(bank.submit([alice, 1n, { transfer: { payee: alice.id, amount: 1n } }])[0]!.code).toBe('SELF_TRANSFER');
    expect(bank.submit([alice, 1n, { transfer: { payee: bob.id, amount: 0n } }])[0]!.code).toBe('AMOUNT_INVALID');
    expect(bank.submit([alice, 1n, { transfer: { payee: bob.id, amount: LIMITS.MAX_AMOUNT_MILLI + 1n } }])[0]!.code).toBe('AMOUNT_INVALID');
    expect(bank.submit([alice, 1n, { transfer: { payee: bob.id, amount: 1n, memo: 'x'.repeat(141) } }])[0]!.code).toBe('MEMO_TOO_LONG');
    expect(bank.submit([alice, 1n, { transfer: { payee: bob.id, amount: 1n, payeeBank: other.publicKey } }])[0]!.code).toBe('INTERBANK_UNAVAILABLE');
    expect(bank.balance(alice.id)).toBe(10000n);
    expect(bank.state.accounts.get(Buffer.from(alice.id).toString('latin1'))!.sequence).toBe(0n);
  });

  it('refuses malformed and oversized bytes with a code, never an exception', () => {
    const body = instructionBody(bank.key, alice.id, 1n, { transfer: { payee: bob.id, amount: 1n } });
    const cases: Array<[Uint8Array, string]> = [
      [new Uint8Array([0xff, 0xff, 0xff]), 'MALFORMED_INSTRUCTION'],
      [new Uint8Array(), 'MALFORMED_INSTRUCTION'],
      [new Uint8Array(LIMITS.MAX_INSTRUCTION_BYTES + 1), 'INSTRUCTION_TOO_LARGE'],
      [pb.SignedInstruction.encode({ body, signature: new Uint8Array(63) }).finish(), 'MALFORMED_INSTRUCTION'],
      [pb.SignedInstruction.encode({ body: new Uint8Array([...body, 0x78, 0x01]), signature: new Uint8Array(64) }).finish(), 'MALFORMED_INSTRUCTION'],
      [signInstruction(pb.Instruction.encode({ bank: bank.key, account: alice.id, sequence: toU64(1n) }).finish(), alice.seed), 'MALFORMED_INSTRUCTION'],
      [signInstruction(pb.Instruction.encode({ bank: bank.key, account: alice.id.subarray(0, 19), sequence: toU64(1n), retirement: { amount: toU64(1n) } }).finish(), alice.seed), 'MALFORMED_INSTRUCTION'],
      [signInstruction(instructionBody(bank.key, alice.id, 0n, { retirement: { amount: 1n } }), alice.seed), 'MALFORMED_INSTRUCTION'],
    ];
    for (const [bytes, code] of cases) expect(bank.submitBytes(bytes)[0]!.code).toBe(code);
    expect(bank.balance(alice.id)).toBe(10000n);
  });

  it('retires notes out of circulation', () => {
    expect(bank.submit([alice, 1n, { retirement: { amount: 4000n } }])[0]!.code).toBe('APPLIED');
    expect(bank.submit([alice, 2n, { retirement: { amount: 6001n } }])[0]!.code).toBe('INSUFFICIENT_FUNDS');
    expect(bank.state.totals.retired).toBe(4000n);
    expect(conservationProblem(bank.state)).toBeUndefined();
  });
});

describe('accounts', () => {
  it('derives one account per holder key, and refuses a second', () => {
    expect(bank.apply([{ type: 'openAccount', holderKey: alice.publicKey, kind: AccountKind.member, label: '' }])[0]!.code).toBe('ACCOUNT_EXISTS');
    expect(bank.apply([{ type: 'openAccount', holderKey: new Uint8Array(31), kind: AccountKind.member, label: '' }])[0]!.code).toBe('VALIDATION_FAILED');
    expect(bank.apply([{ type: 'openAccount', holderKey: newHolder().publicKey, kind: 9 as never, label: '' }])[0]!.code).toBe('VALIDATION_FAILED');
    expect(bank.apply([{ type: 'openAccount', holderKey: newHolder().publicKey, kind: AccountKind.member, label: 'x'.repeat(65) }])[0]!.code).toBe('VALIDATION_FAILED');
    expect(bank.state.totals.accounts).toBe(3n);
  });

  it('refuses a label or a name that has no UTF-8 form (a surrogate without its pair), and keeps the log replayable', () => {
    // Short and long: protobufjs writes short strings itself (bytes that are not UTF-8) and long ones through Node (U+FFFD).
    for (const label of ['\uD83D', 'a\uDE00b', 'x'.repeat(45) + '\uD83D', '\uDE00\uD83D']) {
      expect(bank.apply([{ type: 'openAccount', holderKey: newHolder().publicKey, kind: AccountKind.member, label }])[0]).toMatchObject({ code: 'VALIDATION_FAILED' });
    }
    expect(bank.apply([{ type: 'openAccount', holderKey: newHolder().publicKey, kind: AccountKind.member, label: 'bike shop \uD83D\uDEB2' }])[0]!.code).toBe('APPLIED');
    const fresh = new MemoryLedgerState();
    expect(replayEntries(fresh, bank.entries, verify)).toBeUndefined();
    expect(isWellFormedText('\uD83D\uDEB2')).toBe(true);
    expect(isWellFormedText('\uD83D')).toBe(false);
    expect(isWellFormedText('\uFFFD')).toBe(false);
    expect(isName('Cascadia \uD83C')).toBe(false);
  });
});

describe('replay', () => {
  it('re-derives every entry of the log, byte for byte, and finds a tampered one', () => {
    bank.submit([coop, 1n, std(alice.id, 10000n)], [alice, 1n, { transfer: { payee: bob.id, amount: 2500n } }]);
    bank.submit([bob, 1n, { retirement: { amount: 500n } }]);
    const fresh = new MemoryLedgerState();
    expect(replayEntries(fresh, bank.entries, verify)).toBeUndefined();
    expect(fresh.sumOfBalances()).toBe(bank.state.sumOfBalances());
    expect(fresh.size).toBe(bank.state.size);

    // An entry whose recorded amount was changed no longer matches the rules.
    const i = bank.entries.length - 2;
    const e = pb.Entry.decode(bank.entries[i]!);
    e.applied!.amount = toU64(2600n);
    const tampered = [...bank.entries];
    tampered[i] = pb.Entry.encode(e).finish();
    expect(replayEntries(new MemoryLedgerState(), tampered, verify)).toMatchObject({ index: i });
    // A log that does not start with genesis is refused.
    expect(replayEntries(new MemoryLedgerState(), bank.entries.slice(1), verify)?.problem).toMatch(/genesis/);
    // A second genesis is a problem, not a crash.
    const again = pb.Entry.decode(bank.entries[0]!);
    again.timeMs = toU64(bank.timeMs + 10n);
    again.index = toU64(BigInt(bank.entries.length));
    expect(replayEntries(new MemoryLedgerState(), [...bank.entries, pb.Entry.encode(again).finish()], verify)).toEqual({ index: bank.entries.length, problem: 'a second genesis entry' });
    // Entry times never go backwards.
    const back = pb.Entry.decode(bank.entries[bank.entries.length - 1]!);
    back.timeMs = toU64(1n);
    const backwards = [...bank.entries.slice(0, -1), pb.Entry.encode(back).finish()];
    expect(replayEntries(new MemoryLedgerState(), backwards, verify)?.problem).toMatch(/backwards/);
  });
});
