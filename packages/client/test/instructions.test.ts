import { deriveAccountId, formatAccountId, formatBankId, parseDay, toBase64, fromBase64 } from '@mutual/codec';
import { generateSeed, publicKeyFromSeed } from '@mutual/crypto';
import { prepareInstruction } from '@mutual/ledger';
import { DOMAIN, pb, signedMessage, u64 } from '@mutual/protocol';
import { verify } from '@mutual/verifier';
import { describe, expect, it } from 'vitest';
import { accountIdOf, laborRecord, retirement, sameBank, transfer } from '../src/index.ts';

const bankKey = publicKeyFromSeed(generateSeed());
const bank = formatBankId(bankKey);
const seed = generateSeed();
const publicKey = publicKeyFromSeed(seed);
const payee = formatAccountId(deriveAccountId(bankKey, publicKeyFromSeed(generateSeed())));

function open(b64: string) {
  const signed = pb.SignedInstruction.decode(fromBase64(b64));
  return { signature: signed.signature, body: signed.body, ins: pb.Instruction.decode(signed.body) };
}

describe('instruction builders', () => {
  it('sign a transfer the node accepts: the signature covers DOMAIN.instruction || body', () => {
    const b64 = transfer({ key: seed, bank, sequence: 3n, payee, amount: '7.5', memo: 'rent' });
    const { signature, body, ins } = open(b64);
    expect(verify(signature, signedMessage(DOMAIN.instruction, body), publicKey)).toBe(true);
    // one flipped bit of the body and it no longer verifies
    const tampered = Uint8Array.from(body);
    tampered[tampered.length - 1]! ^= 1;
    expect(verify(signature, signedMessage(DOMAIN.instruction, tampered), publicKey)).toBe(false);
    expect(toBase64(ins.bank)).toBe(toBase64(bankKey));
    expect(toBase64(ins.account)).toBe(toBase64(deriveAccountId(bankKey, publicKey)));
    expect(u64(ins.sequence)).toBe(3n);
    expect(u64(ins.transfer!.amount)).toBe(7500n);
    expect(ins.transfer!.memo).toBe('rent');
    const prepared = prepareInstruction(fromBase64(b64));
    expect(prepared.ok).toBe(true);
  });

  it('sign labor records and retirements with the exact units', () => {
    const labor = open(laborRecord({ key: { seed }, bank, sequence: '1', worker: payee, day: '2026-11-25', hours: '7.25', category: 'standard' }));
    expect(labor.ins.labor!.day).toBe(parseDay('2026-11-25'));
    expect(u64(labor.ins.labor!.milliHours)).toBe(7250n);
    expect(labor.ins.labor!.category).toBe('standard');
    expect(verify(labor.signature, signedMessage(DOMAIN.instruction, labor.body), publicKey)).toBe(true);
    const ret = open(retirement({ key: seed, bank, sequence: 2, amount: 1500n }));
    expect(u64(ret.ins.retirement!.amount)).toBe(1500n);
    expect(prepareInstruction(pb.SignedInstruction.encode({ body: ret.body, signature: ret.signature }).finish()).ok).toBe(true);
  });

  it('refuse bad text with the codec codes, before signing', () => {
    expect(() => transfer({ key: seed, bank, sequence: 1, payee: payee.slice(0, -1) + (payee.endsWith('q') ? 'p' : 'q'), amount: '1' })).toThrow(
      expect.objectContaining({ code: 'INVALID_ID' }),
    );
    expect(() => transfer({ key: seed, bank, sequence: 1, payee, amount: '1.0001' })).toThrow(expect.objectContaining({ code: 'INVALID_AMOUNT' }));
    expect(() => transfer({ key: seed, bank, sequence: 0, payee, amount: '1' })).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
    expect(() => retirement({ key: seed.subarray(1), bank, sequence: 1, amount: '1' })).toThrow(expect.objectContaining({ code: 'INVALID_ENCODING' }));
  });

  it('derive the account ID of a key at a bank', () => {
    expect(accountIdOf(bank, { publicKey })).toBe(formatAccountId(deriveAccountId(bankKey, publicKey)));
    expect(accountIdOf(bank, seed)).toBe(accountIdOf(bank, { publicKey }));
  });

  it('tell whether two bank IDs name the same bank, as keys', () => {
    expect(sameBank(bank, bank.toUpperCase())).toBe(true);
    expect(sameBank(bankKey, bank.toUpperCase())).toBe(true);
    expect(sameBank(bank, formatBankId(publicKeyFromSeed(generateSeed())))).toBe(false);
    expect(() => sameBank(bank, 'mbank1oops')).toThrow(expect.objectContaining({ code: 'INVALID_ID' }));
  });
});
