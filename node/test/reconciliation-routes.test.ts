// GET /v1/reconciliation: over a real store (incremental across requests), the JSON of
// in-flight and mismatched pairs, and the route's absence without a reconciler.
import { formatBankId } from '@mutual/codec';
import { leafHash } from '@mutual/merkle';
import { AccountKind } from '@mutual/protocol';
import { verify } from '@mutual/verifier';
import { afterEach, describe, expect, it } from 'vitest';
import { agreementBytes, signAgreement } from '../../packages/ledger/test/agreement-fixture.ts';
import { DAY, TestBank as MemoryBank } from '../../packages/ledger/test/fixture.ts';
import { Reconciler, Reconciliation } from '../src/reconcile.ts';
import { buildApp } from '../src/index.ts';
import { funded, silentLogger, testBank, type TestBank } from './fixture.ts';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

async function bank(): Promise<TestBank> {
  const t = await testBank();
  cleanups.push(() => t.close());
  return t;
}

describe('GET /v1/reconciliation', () => {
  it('a bank alone: no pairs, conservation of its replayed log; follows new commits', async () => {
    const t = await bank();
    const reconciler = new Reconciler({ store: t.store, verify });
    const app = await buildApp({ store: t.store, logger: silentLogger(), adminToken: t.token, reconciler });
    cleanups.push(() => app.close());
    const id = formatBankId(t.bank.publicKey);
    const get = async () => {
      const r = await app.inject({ method: 'GET', url: '/v1/reconciliation' });
      expect(r.statusCode).toBe(200);
      return r.json();
    };
    expect(await get()).toEqual({
      ok: true,
      self: id,
      banks: [
        {
          bank: id,
          name: 'Test Bank',
          self: true,
          replicated: 2,
          net: '0',
          positions: [],
          conservation: { ok: true, replayed: 2, balances: '0', issued: '0', retired: '0', sent: '0', refunded: '0', received: '0', net: '0', problem: null },
          problems: [],
        },
      ],
      pairs: [],
      federation: { ok: true, positionsSum: '0', inFlight: '0', inFlightCount: 0, problems: [] },
    });
    // Commits after the first request are read incrementally.
    await funded({ ...t, app });
    const after = await get();
    expect(after.banks[0]).toMatchObject({ replicated: t.store.size, conservation: { ok: true, replayed: t.store.size, balances: '8', issued: '8' } });
  });

  it('writes pairs in flight and mismatched with IDs as text and amounts as decimals', async () => {
    const t = await bank();
    // Two banks in memory: A pays B twice; B credits the second with another amount.
    const a = new MemoryBank();
    const b = new MemoryBank();
    const signed = signAgreement(agreementBytes({ members: [{ key: a.key }, { key: b.key }] }), [a.bank, b.bank]);
    for (const x of [a, b]) x.apply([{ type: 'adoptAgreement', signed }]);
    const coop = a.open(AccountKind.cooperative);
    const payer = a.open();
    const payee = b.open();
    a.submit([coop, 1n, { labor: { worker: payer.id, day: DAY, milliHours: 10_000n, category: 'standard' } }]);
    const [r1, r2] = a.submit([payer, 1n, { transfer: { payee: payee.id, amount: 1_500n, payeeBank: b.key } }], [payer, 2n, { transfer: { payee: payee.id, amount: 2_000n, payeeBank: b.key } }]);
    const out1 = (r1 as { entryIndex: number }).entryIndex;
    const out2 = (r2 as { entryIndex: number }).entryIndex;
    b.apply([{ type: 'interbankCredit', source: { bank: a.key, index: out2, leafHash: leafHash(a.entries[out2]!) }, payee: payee.id, amount: 2_500n }]);
    const rec = new Reconciliation({ self: a.key, verify });
    rec.ingest(a.key, 0, a.entries);
    rec.ingest(b.key, 0, b.entries);

    const app = await buildApp({ store: t.store, logger: silentLogger(), adminToken: t.token, reconciler: { report: async () => rec.report() } });
    cleanups.push(() => app.close());
    const res = await app.inject({ method: 'GET', url: '/v1/reconciliation' });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    const [A, B] = [formatBankId(a.key), formatBankId(b.key)];
    expect(body.ok).toBe(false);
    expect(body.banks.map((x: { bank: string; net: string }) => [x.bank, x.net])).toEqual([
      [A, '-3.5'],
      [B, '2.5'],
    ]);
    expect(body.banks[0].positions).toEqual([{ bank: B, sent: '3.5', refunded: '0', received: '0', net: '-3.5' }]);
    const [pair] = body.pairs;
    // This bank first: the net of A toward B, then of B toward A.
    expect(pair).toMatchObject({ banks: [A, B], state: 'mismatched', net: ['-3.5', '2.5'], inFlightCount: 1, problemCount: 1 });
    expect(pair.inFlight).toEqual([{ kind: 'unanswered', entry: { bank: A, index: out1 }, amount: '1.5', pending: '1.5' }]);
    expect(pair.problems).toEqual([{ kind: 'amount-differs', message: expect.stringContaining('2500 milli-notes'), entries: [{ bank: A, index: out2 }, { bank: B, index: b.entries.length - 1 }] }]);
    expect(body.federation).toMatchObject({ ok: false, positionsSum: '-1', inFlight: '1.5', inFlightCount: 1 });
  });

  it('is absent without a reconciler', async () => {
    const t = await bank();
    const r = await t.app.inject({ method: 'GET', url: '/v1/reconciliation' });
    expect(r.statusCode).toBe(404);
  });
});
