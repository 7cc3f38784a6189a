import { TopicValidatorResult, type Message } from '@libp2p/gossipsub';
import { LIMITS } from '@mutual/interface';
import { pb } from '@mutual/protocol';
import { describe, expect, it } from 'vitest';
import { agreementBytes, signAgreement } from '../../ledger/test/agreement-fixture.ts';
import { newHolder, verify } from '../../ledger/test/fixture.ts';
import { validateAgreement } from '../src/index.ts';

const msg = (data: Uint8Array): Message => ({ type: 'unsigned', topic: 'mutual/1/Cascadia/agreements', data });

describe('the agreements topic validator', () => {
  const a = newHolder();
  const b = newHolder();
  const members = [{ key: a.publicKey }, { key: b.publicKey }];

  it('accepts an agreement of the bioregion with some valid signatures', () => {
    expect(validateAgreement(msg(signAgreement(agreementBytes({ members }), [a])), 'Cascadia', verify)).toBe(TopicValidatorResult.Accept);
  });

  it('rejects another bioregion, a forged signature, junk and oversized bytes', () => {
    const signed = signAgreement(agreementBytes({ members }), [a, b]);
    expect(validateAgreement(msg(signed), 'Salish Sea', verify)).toBe(TopicValidatorResult.Reject);
    const forged = pb.SignedAgreement.decode(signed);
    forged.signatures![1]!.signature = forged.signatures![0]!.signature;
    expect(validateAgreement(msg(pb.SignedAgreement.encode(forged).finish()), 'Cascadia', verify)).toBe(TopicValidatorResult.Reject);
    expect(validateAgreement(msg(Uint8Array.of(0xff, 0xff)), 'Cascadia', verify)).toBe(TopicValidatorResult.Reject);
    expect(validateAgreement(msg(new Uint8Array(LIMITS.MAX_AGREEMENT_BYTES + 1)), 'Cascadia', verify)).toBe(TopicValidatorResult.Reject);
  });
});
