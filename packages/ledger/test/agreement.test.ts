import { LIMITS } from '@mutual/interface';
import { decodeStrict, pb } from '@mutual/protocol';
import { describe, expect, it } from 'vitest';
import { agreementId, checkSignedAgreement, encodeSignedAgreement, MemoryLedgerState, replayEntries } from '../src/index.ts';
import { agreementBytes, signAgreement, type AgreementProps } from './agreement-fixture.ts';
import { newHolder, TestBank, verify } from './fixture.ts';

function setup() {
  const bank = new TestBank();
  const b = newHolder();
  const c = newHolder();
  const members = [{ key: bank.key, name: 'Test Bank' }, { key: b.publicKey }, { key: c.publicKey }];
  return { bank, b, c, members, all: [bank.bank, b, c] };
}

const adopt = (bank: TestBank, signed: Uint8Array) => bank.apply([{ type: 'adoptAgreement', signed }])[0]!;

describe('agreement validity', () => {
  const { b, c, members, all } = setup();
  const refused = (props: Partial<AgreementProps>, signers = all) =>
    checkSignedAgreement(signAgreement(agreementBytes({ members, ...props }), signers), verify);

  it('accepts a well-formed agreement and says whether it is complete', () => {
    const ok = checkSignedAgreement(signAgreement(agreementBytes({ members }), all), verify);
    expect(ok).toMatchObject({ ok: true, agreement: { complete: true, bioregion: 'Cascadia', clearingLimit: 1_000_000n } });
    const partial = checkSignedAgreement(signAgreement(agreementBytes({ members }), [b]), verify);
    expect(partial).toMatchObject({ ok: true, agreement: { complete: false } });
  });

  it.each<[string, Partial<AgreementProps>]>([
    ['one member', { members: members.slice(0, 1) }],
    ['a member twice', { members: [members[0]!, members[1]!, members[1]!] }],
    ['a 31-byte member key', { members: [...members, { key: new Uint8Array(31) }] }],
    ['a member name too long', { members: [...members.slice(0, 2), { key: c.publicKey, name: 'x'.repeat(LIMITS.MAX_NAME_BYTES + 1) }] }],
    ['a bioregion too long', { bioregion: 'x'.repeat(LIMITS.MAX_NAME_BYTES + 1) }],
    ['an empty rate schedule', { rates: [] }],
    ['a rate out of bounds', { rates: [['standard', LIMITS.MAX_RATE_MILLI + 1]] }],
    ['a clearing limit above MAX_AMOUNT_MILLI', { clearingLimit: LIMITS.MAX_AMOUNT_MILLI + 1n }],
    ['a previous ID of 5 bytes', { previous: new Uint8Array(5) }],
  ])('refuses %s', (_, props) => {
    expect(refused(props)).toMatchObject({ ok: false, code: 'AGREEMENT_INVALID' });
  });

  it('refuses more than MAX_AGREEMENT_MEMBERS members', () => {
    const many = Array.from({ length: LIMITS.MAX_AGREEMENT_MEMBERS + 1 }, (_, i) => ({ key: new Uint8Array(32).fill(i + 1), name: '' }));
    const bytes = agreementBytes({ members: many });
    expect(checkSignedAgreement(encodeSignedAgreement(bytes, []), verify)).toMatchObject({ ok: false, code: 'AGREEMENT_INVALID' });
  });

  it('refuses a signed agreement larger than MAX_AGREEMENT_BYTES', () => {
    const many = Array.from({ length: 20 }, (_, i) => ({ key: new Uint8Array(32).fill(i + 1), name: 'n'.repeat(64) }));
    const signed = encodeSignedAgreement(agreementBytes({ members: many }), []);
    expect(signed.length).toBeGreaterThan(LIMITS.MAX_AGREEMENT_BYTES);
    expect(checkSignedAgreement(signed, verify)).toMatchObject({ ok: false, message: expect.stringContaining('bytes') });
  });

  it('refuses bytes that are not strictly a SignedAgreement', () => {
    const signed = signAgreement(agreementBytes({ members }), all);
    expect(checkSignedAgreement(Uint8Array.of(...signed, 0x78, 0x01), verify)).toMatchObject({ ok: false, code: 'AGREEMENT_INVALID' });
  });

  it('refuses a signature of a non-member, a second signature of one member, and a tampered signature', () => {
    const bytes = agreementBytes({ members });
    const outsider = newHolder();
    expect(checkSignedAgreement(signAgreement(bytes, [b, outsider]), verify)).toMatchObject({ ok: false, message: expect.stringContaining('not from a member') });
    expect(checkSignedAgreement(signAgreement(bytes, [b, b]), verify)).toMatchObject({ ok: false, message: expect.stringContaining('twice') });
    const s = decodeStrict(pb.SignedAgreement, signAgreement(bytes, [b]))!;
    s.signatures![0]!.signature![0]! ^= 1;
    expect(checkSignedAgreement(pb.SignedAgreement.encode(s).finish(), verify)).toMatchObject({ ok: false, message: expect.stringContaining('does not verify') });
  });

  it('refuses a signature made over the bytes with another domain prefix', () => {
    const bytes = agreementBytes({ members });
    const forged = encodeSignedAgreement(bytes, [{ bank: b.publicKey, signature: signAgreement(agreementBytes({ members, clearingLimit: 5n }), [b]).subarray(-64) }]);
    expect(checkSignedAgreement(forged, verify)).toMatchObject({ ok: false, code: 'AGREEMENT_INVALID' });
  });
});

describe('adopting an agreement', () => {
  it('appends AgreementAdopted with the exact bytes, then the rate schedule of the agreement', () => {
    const { bank, members, all } = setup();
    const bytes = agreementBytes({ members, rates: [['standard', 1000], ['care', 1250]], clearingLimit: 7_000n });
    const signed = signAgreement(bytes, all);
    const before = bank.entries.length;
    expect(adopt(bank, signed)).toMatchObject({ code: 'APPLIED', entryIndex: before });
    expect(bank.entries).toHaveLength(before + 2);
    const e1 = pb.Entry.decode(bank.entries[before]!);
    const e2 = pb.Entry.decode(bank.entries[before + 1]!);
    expect(e1.kind).toBe('agreementAdopted');
    expect(Buffer.from(e1.agreementAdopted!.agreement!)).toEqual(Buffer.from(bytes));
    expect(e1.agreementAdopted!.signatures).toHaveLength(3);
    expect(e2.kind).toBe('rateSchedule');
    expect(Buffer.from(e2.rateSchedule!.agreement!)).toEqual(Buffer.from(agreementId(bytes)));
    expect([...bank.state.rates]).toEqual([['standard', 1000], ['care', 1250]]);
    expect(bank.state.agreement).toMatchObject({ clearingLimit: 7_000n, bioregion: 'Cascadia' });
    expect(Buffer.from(bank.state.agreement!.id)).toEqual(Buffer.from(agreementId(bytes)));
    expect(bank.state.agreement!.members.map((m) => m.name)).toEqual(['Test Bank', 'Bank 1', 'Bank 2']);
  });

  it('refuses, with no entry: incomplete, invalid, not a member, another bioregion, adopted already', () => {
    const { bank, b, c, members, all } = setup();
    const n = () => bank.entries.length;
    const size = n();
    expect(adopt(bank, signAgreement(agreementBytes({ members }), [bank.bank, b]))).toMatchObject({ code: 'AGREEMENT_INCOMPLETE' });
    expect(adopt(bank, Uint8Array.of(1, 2, 3))).toMatchObject({ code: 'AGREEMENT_INVALID' });
    const others = [{ key: b.publicKey }, { key: c.publicKey }];
    expect(adopt(bank, signAgreement(agreementBytes({ members: others }), [b, c]))).toMatchObject({ code: 'NOT_AGREEMENT_MEMBER' });
    expect(adopt(bank, signAgreement(agreementBytes({ members, bioregion: 'Salish' }), all))).toMatchObject({ code: 'NOT_AGREEMENT_MEMBER' });
    expect(n()).toBe(size);
    const signed = signAgreement(agreementBytes({ members }), all);
    expect(adopt(bank, signed)).toMatchObject({ code: 'APPLIED' });
    expect(adopt(bank, signed)).toMatchObject({ code: 'AGREEMENT_NOT_CURRENT' });
    expect(n()).toBe(size + 2);
  });
});

describe('amendments', () => {
  it('adopts an amendment signed by every current member and the joining bank', () => {
    const { bank, b, c, members, all } = setup();
    const founding = agreementBytes({ members: members.slice(0, 2) });
    expect(adopt(bank, signAgreement(founding, [bank.bank, b]))).toMatchObject({ code: 'APPLIED' });
    const amended = agreementBytes({ members, previous: agreementId(founding), clearingLimit: 9n });
    expect(adopt(bank, signAgreement(amended, [bank.bank, b]))).toMatchObject({ code: 'AGREEMENT_INCOMPLETE' });
    expect(adopt(bank, signAgreement(amended, all))).toMatchObject({ code: 'APPLIED' });
    expect(bank.state.agreement).toMatchObject({ clearingLimit: 9n });
    expect(bank.state.agreement!.members).toHaveLength(3);
    void c;
  });

  it('refuses an amendment of another agreement, a founding agreement while one is in force, and one that leaves out a current member', () => {
    const { bank, b, c, members, all } = setup();
    const founding = agreementBytes({ members });
    expect(adopt(bank, signAgreement(founding, all))).toMatchObject({ code: 'APPLIED' });
    const other = agreementBytes({ members, clearingLimit: 1n });
    expect(adopt(bank, signAgreement(other, all))).toMatchObject({ code: 'AGREEMENT_NOT_CURRENT' });
    const wrongPrevious = agreementBytes({ members, previous: agreementId(other) });
    expect(adopt(bank, signAgreement(wrongPrevious, all))).toMatchObject({ code: 'AGREEMENT_NOT_CURRENT' });
    const withoutC = agreementBytes({ members: members.slice(0, 2), previous: agreementId(founding) });
    expect(adopt(bank, signAgreement(withoutC, [bank.bank, b]))).toMatchObject({ code: 'AGREEMENT_INCOMPLETE' });
    void c;
  });

  it('a joining bank, with no agreement in force, adopts the amendment that adds it, then only amendments of that one', () => {
    const { bank, b, c, members, all } = setup();
    const others = members.slice(1);
    const founding = agreementBytes({ members: others });
    expect(adopt(bank, signAgreement(founding, [b, c]))).toMatchObject({ code: 'NOT_AGREEMENT_MEMBER' });
    const joining = agreementBytes({ members, previous: agreementId(founding), clearingLimit: 7n });
    expect(adopt(bank, signAgreement(joining, [b, c]))).toMatchObject({ code: 'AGREEMENT_INCOMPLETE' });
    expect(adopt(bank, signAgreement(joining, all))).toMatchObject({ code: 'APPLIED' });
    expect(bank.state.agreement).toMatchObject({ clearingLimit: 7n });
    expect(Buffer.from(bank.state.agreement!.id)).toEqual(Buffer.from(agreementId(joining)));
    // In force now: another amendment of the founding agreement is not current, one of the joining one is.
    const sibling = agreementBytes({ members, previous: agreementId(founding), clearingLimit: 8n });
    expect(adopt(bank, signAgreement(sibling, all))).toMatchObject({ code: 'AGREEMENT_NOT_CURRENT' });
    const next = agreementBytes({ members, previous: agreementId(joining), clearingLimit: 9n });
    expect(adopt(bank, signAgreement(next, all))).toMatchObject({ code: 'APPLIED' });
    expect(bank.state.agreement).toMatchObject({ clearingLimit: 9n });
    // The log replays to the same agreement in force.
    const fresh = new MemoryLedgerState();
    expect(replayEntries(fresh, bank.entries, verify)).toBeUndefined();
    expect(Buffer.from(fresh.agreement!.id)).toEqual(Buffer.from(agreementId(next)));
  });
});

describe('replaying a log with an adoption', () => {
  function adoptedBank() {
    const { bank, members, all } = setup();
    bank.open();
    expect(adopt(bank, signAgreement(agreementBytes({ members, rates: [['standard', 1100]] }), all))).toMatchObject({ code: 'APPLIED' });
    bank.open();
    return bank;
  }

  it('re-derives every byte, the rates and the agreement in force', () => {
    const bank = adoptedBank();
    const fresh = new MemoryLedgerState();
    expect(replayEntries(fresh, bank.entries, verify)).toBeUndefined();
    expect(fresh.size).toBe(bank.entries.length);
    expect([...fresh.rates]).toEqual([['standard', 1100]]);
    expect(Buffer.from(fresh.agreement!.id)).toEqual(Buffer.from(bank.state.agreement!.id));
    expect(Buffer.from(fresh.agreementRecord!)).toEqual(Buffer.from(bank.state.agreementRecord!));
  });

  it('finds a tampered signature in an adoption entry', () => {
    const bank = adoptedBank();
    const i = bank.entries.findIndex((e) => pb.Entry.decode(e).kind === 'agreementAdopted');
    const e = pb.Entry.decode(bank.entries[i]!);
    e.agreementAdopted!.signatures![1]!.signature![5]! ^= 1;
    const tampered = [...bank.entries];
    tampered[i] = pb.Entry.encode(e).finish();
    expect(replayEntries(new MemoryLedgerState(), tampered, verify)).toMatchObject({ index: i, problem: expect.stringContaining('AGREEMENT_INVALID') });
  });

  it('refuses an agreement rate schedule that no adoption produced, or that differs from the agreement', () => {
    const bank = adoptedBank();
    const i = bank.entries.findIndex((e) => pb.Entry.decode(e).kind === 'agreementAdopted');
    const e = pb.Entry.decode(bank.entries[i + 1]!);
    e.rateSchedule!.rates![0]!.rateMilli = 1200;
    const changed = [...bank.entries];
    changed[i + 1] = pb.Entry.encode(e).finish();
    expect(replayEntries(new MemoryLedgerState(), changed, verify)).toMatchObject({ index: i + 1, problem: expect.stringContaining('differs') });
    // The genesis schedule, claimed to come from an agreement: no adoption produced it.
    const g = pb.Entry.decode(bank.entries[1]!);
    g.rateSchedule!.agreement = new Uint8Array(32).fill(7);
    const claimed = [...bank.entries];
    claimed[1] = pb.Entry.encode(g).finish();
    expect(replayEntries(new MemoryLedgerState(), claimed, verify)).toMatchObject({ index: 0, problem: expect.stringContaining('number of entries') });
  });
});
