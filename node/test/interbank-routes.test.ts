// GET /v1/interbank over the RPC: newest first, page by page with `next`.
import { randomBytes } from 'node:crypto';
import { agreementMessage, encodeSignedAgreement } from '@mutual/ledger';
import { pb } from '@mutual/protocol';
import { keyPairFromSeed, signDetached } from '@mutual/verifier';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { b64, funded, signInstruction, testBank, type TestBank } from './fixture.ts';

let t: TestBank;
beforeEach(async () => {
  t = await testBank();
});
afterEach(() => t.close());

describe('GET /v1/interbank', () => {
  it('lists the transfers this bank sent, newest first, and `next` goes on to the older ones', async () => {
    const other = keyPairFromSeed(new Uint8Array(randomBytes(32)));
    const bytes = pb.Agreement.encode({
      bioregion: 'Cascadia',
      members: [t.bank, other].map((k, i) => ({ bank: k.publicKey, name: `Bank ${i}` })),
      rates: [{ category: 'standard', rateMilli: 1000 }],
      clearingLimit: 1_000_000,
      createdMs: Date.now(),
    }).finish();
    const signed = encodeSignedAgreement(bytes, [t.bank, other].map((k) => ({ bank: k.publicKey, signature: signDetached(agreementMessage(bytes), k.secretKey) })));
    expect((await t.store.submit([{ type: 'adoptAgreement', signed }]))[0]!.code).toBe('APPLIED');
    const { alice } = await funded(t);
    const sent = [1n, 2n, 3n].map((seq) => b64(signInstruction(t.bank.publicKey, alice, seq, { transfer: { payee: new Uint8Array(20).fill(1), amount: 1_000n, payeeBank: other.publicKey } })));
    const res = await t.app.inject({ method: 'POST', url: '/v1/transfers', payload: { instructions: sent } });
    const indexes = (res.json().results as Array<{ code: string; entryIndex: number }>).map((r) => {
      expect(r.code).toBe('APPLIED');
      return r.entryIndex;
    });
    const page1 = (await t.app.inject({ method: 'GET', url: '/v1/interbank?limit=2' })).json();
    expect(page1.transfers.map((x: { index: number; state: string }) => [x.index, x.state])).toEqual([[indexes[2], 'pending'], [indexes[1], 'pending']]);
    expect(page1.next).toBe(indexes[1]);
    const page2 = (await t.app.inject({ method: 'GET', url: `/v1/interbank?limit=2&before=${page1.next}` })).json();
    expect(page2.transfers.map((x: { index: number }) => x.index)).toEqual([indexes[0]]);
    expect(page2.next).toBeUndefined();
    expect((await t.app.inject({ method: 'GET', url: '/v1/interbank?state=settled' })).json()).toEqual({ transfers: [] });
  });
});
