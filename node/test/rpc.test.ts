import { formatBankId, fromBase64, fromHex } from '@mutual/codec';
import { openTreeHead } from '@mutual/ledger';
import { leafHash, verifyConsistency, verifyInclusion } from '@mutual/merkle';
import { verify } from '@mutual/verifier';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { entryJson } from '../src/index.ts';
import { b64, funded, openAccount, signInstruction, TODAY, testBank, type TestBank } from './fixture.ts';

let t: TestBank;
beforeEach(async () => {
  t = await testBank();
});
afterEach(async () => {
  await t.close();
});

const get = (url: string) => t.app.inject({ method: 'GET', url });

describe('health', () => {
  it('/healthz and /readyz answer while the ledger is open', async () => {
    expect((await get('/healthz')).json()).toEqual({ status: 'ok' });
    const r = await get('/readyz');
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({ status: 'ready' });
  });

  it('/readyz is 503 NOT_READY when the node says it is not ready', async () => {
    const t2 = await testBank({ isReady: () => false });
    try {
      const r = await t2.app.inject({ method: 'GET', url: '/readyz' });
      expect(r.statusCode).toBe(503);
      expect(r.json().error.code).toBe('NOT_READY');
    } finally {
      await t2.close();
    }
  });

  it('/metrics counts commits, instruction results and the log size', async () => {
    const { alice, bob } = await funded(t);
    const ok = signInstruction(t.bank.publicKey, alice, 1n, { transfer: { payee: bob.id, amount: 1000n } });
    const broke = signInstruction(t.bank.publicKey, alice, 2n, { transfer: { payee: bob.id, amount: 10_000_000n } });
    await t.app.inject({ method: 'POST', url: '/v1/transfers', payload: { instructions: [b64(ok), b64(broke)] } });
    const text = (await get('/metrics')).body;
    expect(text).toMatch(/^mutual_log_size 7$/m);
    expect(text).toMatch(/^mutual_instructions_total\{code="APPLIED"\} 2$/m); // the labor record and the transfer
    expect(text).toMatch(/^mutual_instructions_total\{code="INSUFFICIENT_FUNDS"\} 1$/m);
    expect(text).toMatch(/^mutual_commits_total 5$/m); // three accounts, the labor record, the transfer
    expect(text).toMatch(/^mutual_commit_duration_seconds_count 5$/m);
  });

  it('serves the OpenAPI document at /docs/json with every route of docs/RPC.md', async () => {
    const r = await get('/docs/json');
    expect(r.statusCode).toBe(200);
    const paths = Object.keys(r.json().paths);
    for (const p of [
      '/v1/status',
      '/v1/accounts',
      '/v1/accounts/{id}',
      '/v1/accounts/{id}/entries',
      '/v1/transfers',
      '/v1/labor',
      '/v1/head',
      '/v1/heads/{size}',
      '/v1/entries/{index}',
      '/v1/entries',
      '/v1/consistency',
      '/v1/events',
      '/healthz',
      '/readyz',
      '/metrics',
    ]) {
      expect(paths).toContain(p);
    }
    expect((await get('/docs')).statusCode).toBeLessThan(400);
  });
});

describe('status and heads', () => {
  it('GET /v1/status describes the bank, its head, rates and totals', async () => {
    const r = (await get('/v1/status')).json();
    expect(r).toMatchObject({
      bank: { id: formatBankId(t.bank.publicKey), name: 'Test Bank', bioregion: 'Cascadia' },
      version: '0.1.0',
      protocolVersion: 1,
      log: { size: 2 },
      rates: [
        { category: 'standard', rate: '1' },
        { category: 'unpleasant', rate: '1.5' },
      ],
      totals: { issued: '0', retired: '0', accounts: 0 },
    });
    expect(r.head.size).toBe(2);
  });

  it('GET /v1/head is a head signed by the bank; its fields are the decoded signed bytes', async () => {
    await openAccount(t);
    const h = (await get('/v1/head')).json();
    const opened = openTreeHead(fromBase64(h.signed), verify, t.bank.publicKey);
    expect(opened).toBeDefined();
    expect(h).toMatchObject({ bank: formatBankId(t.bank.publicKey), size: 3, root: Buffer.from(opened!.root).toString('hex') });
    expect(h.timeMs).toBe(Number(opened!.timeMs));
    expect(h.signature).toBe(Buffer.from(opened!.signature).toString('base64'));
  });

  it('GET /v1/heads/:size gives the head of each commit, 404 where no commit ended', async () => {
    await openAccount(t);
    expect((await get('/v1/heads/3')).json().size).toBe(3);
    expect((await get('/v1/heads/2')).json().size).toBe(2);
    const none = await get('/v1/heads/1'); // genesis and rates were one commit
    expect(none.statusCode).toBe(404);
    expect(none.json().error.code).toBe('NOT_FOUND');
    expect((await get('/v1/heads/99')).statusCode).toBe(404);
  });
});

describe('accounts', () => {
  it('POST /v1/accounts opens an account (201), GET /v1/accounts/:id reads it', async () => {
    const a = await openAccount(t, 'mutual-aid-fund', 'housing');
    const r = await get(`/v1/accounts/${a.account}`);
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({
      account: a.account,
      kind: 'mutual-aid-fund',
      label: 'housing',
      publicKey: a.key,
      balance: '0',
      sequence: '0',
      nextSequence: '1',
      openedIndex: 2,
    });
  });

  it('answers the account, kind and entry index of the opening', async () => {
    const h = (await import('./fixture.ts')).newHolder();
    const r = await t.app.inject({
      method: 'POST',
      url: '/v1/accounts',
      headers: { authorization: `Bearer ${t.token}` },
      payload: { publicKey: h.key, kind: 'cooperative' },
    });
    expect(r.statusCode).toBe(201);
    expect(r.json()).toMatchObject({ kind: 'cooperative', entryIndex: 2 });
    expect(r.json().account).toMatch(/^macct1/);
  });

  it('opening the same holder key twice is 409 ACCOUNT_EXISTS', async () => {
    const a = await openAccount(t);
    const r = await t.app.inject({
      method: 'POST',
      url: '/v1/accounts',
      headers: { authorization: `Bearer ${t.token}` },
      payload: { publicKey: a.key, kind: 'member' },
    });
    expect(r.statusCode).toBe(409);
    expect(r.json().error.code).toBe('ACCOUNT_EXISTS');
    expect(t.store.size).toBe(3);
  });

  it('an unknown (well-formed) account is 404', async () => {
    const { accountOf, newHolder } = await import('./fixture.ts');
    const stranger = accountOf(t.bank.publicKey, newHolder());
    const r = await get(`/v1/accounts/${stranger.account}`);
    expect(r.statusCode).toBe(404);
    expect(r.json().error.code).toBe('NOT_FOUND');
    expect((await get(`/v1/accounts/${stranger.account}/entries`)).statusCode).toBe(404);
  });

  it('GET /v1/accounts/:id/entries pages the statement newest first', async () => {
    const { alice, bob } = await funded(t);
    const transfers = [1n, 2n, 3n].map((seq) => b64(signInstruction(t.bank.publicKey, alice, seq, { transfer: { payee: bob.id, amount: 500n, memo: `t${seq}` } })));
    for (const ins of transfers) await t.app.inject({ method: 'POST', url: '/v1/transfers', payload: { instructions: [ins] } });
    // alice: opened (3), labor (5), transfers (6, 7, 8)
    const p1 = (await get(`/v1/accounts/${alice.account}/entries?limit=2`)).json();
    expect(p1.entries.map((e: { index: number }) => e.index)).toEqual([8, 7]);
    expect(p1.next).toBe(7);
    const p2 = (await get(`/v1/accounts/${alice.account}/entries?limit=2&before=${p1.next}`)).json();
    expect(p2.entries.map((e: { index: number }) => e.index)).toEqual([6, 5]);
    const p3 = (await get(`/v1/accounts/${alice.account}/entries?limit=2&before=${p2.next}`)).json();
    expect(p3.entries.map((e: { index: number }) => e.index)).toEqual([3]);
    expect(p3.next).toBeNull();
    expect(p1.entries[0]).toMatchObject({ kind: 'transfer', account: alice.account, payee: bob.account, amount: '0.5', memo: 't3', sequence: '3' });
    const all = (await get(`/v1/accounts/${alice.account}/entries`)).json();
    expect(all.entries).toHaveLength(5);
    expect(all.next).toBeNull();
  });
});

describe('instructions', () => {
  it('POST /v1/labor issues notes; POST /v1/transfers moves and retires them; results in order', async () => {
    const { coop, alice, bob } = await funded(t);
    const more = signInstruction(t.bank.publicKey, coop, 2n, { labor: { worker: alice.id, day: TODAY, milliHours: 2000n, category: 'unpleasant', memo: 'sewers' } });
    const lr = await t.app.inject({ method: 'POST', url: '/v1/labor', payload: { instructions: [b64(more)] } });
    expect(lr.statusCode).toBe(200);
    expect(lr.json().results).toEqual([{ code: 'APPLIED', entryIndex: 6, duplicate: false, amount: '3' }]);

    const pay = signInstruction(t.bank.publicKey, alice, 1n, { transfer: { payee: bob.id, amount: 7500n, memo: 'rent' } });
    const retire = signInstruction(t.bank.publicKey, bob, 1n, { retirement: { amount: 500n } });
    const gap = signInstruction(t.bank.publicKey, alice, 5n, { transfer: { payee: bob.id, amount: 1n } });
    const r = await t.app.inject({ method: 'POST', url: '/v1/transfers', payload: { instructions: [b64(pay), b64(retire), b64(gap)] } });
    expect(r.statusCode).toBe(200);
    const results = r.json().results;
    expect(results[0]).toEqual({ code: 'APPLIED', entryIndex: 7, duplicate: false, amount: '7.5' });
    expect(results[1]).toEqual({ code: 'APPLIED', entryIndex: 8, duplicate: false, amount: '0.5' });
    expect(results[2].code).toBe('SEQUENCE_GAP');
    expect(typeof results[2].message).toBe('string');

    const again = await t.app.inject({ method: 'POST', url: '/v1/transfers', payload: { instructions: [b64(pay)] } });
    // A retry returns the original entry and changes nothing.
    expect(again.json().results[0]).toMatchObject({ code: 'APPLIED', entryIndex: 7, duplicate: true });

    expect((await get(`/v1/accounts/${alice.account}`)).json()).toMatchObject({ balance: '3.5', sequence: '1', nextSequence: '2' });
    expect((await get(`/v1/accounts/${bob.account}`)).json()).toMatchObject({ balance: '7', sequence: '1' });
    expect((await get('/v1/status')).json().totals).toEqual({ issued: '11', retired: '0.5', accounts: 3 });
  });

  it('refuses per item an action the route does not take (MALFORMED_INSTRUCTION), applying the rest', async () => {
    const { coop, alice, bob } = await funded(t);
    const labor = b64(signInstruction(t.bank.publicKey, coop, 2n, { labor: { worker: alice.id, day: TODAY, milliHours: 1000n, category: 'standard' } }));
    const pay = b64(signInstruction(t.bank.publicKey, alice, 1n, { transfer: { payee: bob.id, amount: 1000n } }));
    const r1 = (await t.app.inject({ method: 'POST', url: '/v1/transfers', payload: { instructions: [labor, pay] } })).json();
    expect(r1.results[0]).toMatchObject({ code: 'MALFORMED_INSTRUCTION' });
    expect(r1.results[0].message).toMatch(/labor/);
    expect(r1.results[1]).toMatchObject({ code: 'APPLIED' });
    const r2 = (await t.app.inject({ method: 'POST', url: '/v1/labor', payload: { instructions: [pay, labor] } })).json();
    expect(r2.results[0].code).toBe('MALFORMED_INSTRUCTION');
    expect(r2.results[1].code).toBe('APPLIED');
  });

  it('a bad signature is a BAD_SIGNATURE result and changes nothing', async () => {
    const { alice, bob } = await funded(t);
    const signed = signInstruction(t.bank.publicKey, alice, 1n, { transfer: { payee: bob.id, amount: 1000n } });
    signed[signed.length - 1]! ^= 1; // the last byte is in the signature
    const before = t.store.size;
    const r = await t.app.inject({ method: 'POST', url: '/v1/transfers', payload: { instructions: [b64(signed)] } });
    expect(r.statusCode).toBe(200);
    expect(r.json().results[0].code).toBe('BAD_SIGNATURE');
    expect(t.store.size).toBe(before);
    expect((await get(`/v1/accounts/${alice.account}`)).json().balance).toBe('8');
  });

  it('undecodable instruction bytes are a per-item MALFORMED_INSTRUCTION result', async () => {
    const r = await t.app.inject({ method: 'POST', url: '/v1/transfers', payload: { instructions: [b64(new Uint8Array([0xff, 0xff, 0xff]))] } });
    expect(r.statusCode).toBe(200);
    expect(r.json().results[0].code).toBe('MALFORMED_INSTRUCTION');
  });
});

describe('log', () => {
  it('GET /v1/entries/:index gives the entry with an inclusion proof against the head', async () => {
    await funded(t);
    const r = (await get('/v1/entries/5')).json();
    expect(r.entry).toMatchObject({ index: 5, kind: 'labor', hours: '8', category: 'standard', rate: '1', amount: '8', sequence: '1' });
    expect(r.entry.day).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(r.proof.treeSize).toBe(6);
    expect(r.head.size).toBe(6);
    const ok = verifyInclusion(leafHash(fromBase64(r.entry.bytes)), 5, 6, r.proof.path.map((p: string) => fromBase64(p)), fromHex(r.head.root));
    expect(ok).toBe(true);
    const missing = await get('/v1/entries/6');
    expect(missing.statusCode).toBe(404);
  });

  it('decodes every kind of entry as docs/RPC.md shows it', async () => {
    const { alice, bob } = await funded(t);
    const retire = signInstruction(t.bank.publicKey, alice, 1n, { retirement: { amount: 250n, memo: 'bread' } });
    await t.app.inject({ method: 'POST', url: '/v1/transfers', payload: { instructions: [b64(retire)] } });
    const entries = (await get('/v1/entries?from=0')).json().entries.map((e: string) => entryJson(fromBase64(e)));
    expect(entries.map((e: { kind: string }) => e.kind)).toEqual([
      'genesis',
      'rate-schedule',
      'account-opened',
      'account-opened',
      'account-opened',
      'labor',
      'retirement',
    ]);
    expect(Object.keys(entries[0]).sort()).toEqual(['bioregion', 'bytes', 'index', 'kind', 'name', 'timeMs']);
    expect(entries[1].rates).toEqual([
      { category: 'standard', rate: '1' },
      { category: 'unpleasant', rate: '1.5' },
    ]);
    expect(entries[4]).toMatchObject({ account: bob.account, kindOfAccount: 'member', publicKey: bob.key, label: '' });
    expect(entries[6]).toMatchObject({ kind: 'retirement', account: alice.account, amount: '0.25', memo: 'bread', sequence: '1' });
    expect(entries[6].payee).toBeUndefined();
  });

  it('GET /v1/entries pages the raw log', async () => {
    await funded(t);
    const r = (await get('/v1/entries?from=2&limit=3')).json();
    expect(r).toMatchObject({ from: 2, size: 6 });
    expect(r.entries).toHaveLength(3);
    expect(entryJson(fromBase64(r.entries[0])).index).toBe(2);
    expect((await get('/v1/entries?from=6')).json().entries).toEqual([]);
    const past = await get('/v1/entries?from=7');
    expect(past.statusCode).toBe(400);
    expect(past.json().error.code).toBe('INVALID_RANGE');
  });

  it('GET /v1/consistency proves that a later head extends an earlier one', async () => {
    const small = (await get('/v1/head')).json();
    await funded(t);
    const big = (await get('/v1/head')).json();
    const r = (await get(`/v1/consistency?from=${small.size}&to=${big.size}`)).json();
    expect(r).toMatchObject({ from: 2, to: 6 });
    const ok = verifyConsistency(2, 6, fromHex(small.root), fromHex(big.root), r.path.map((p: string) => fromBase64(p)));
    expect(ok).toBe(true);
    for (const q of ['from=0&to=2', 'from=3&to=2', 'from=1&to=7']) {
      const bad = await get(`/v1/consistency?${q}`);
      expect(bad.statusCode).toBe(400);
      expect(bad.json().error.code).toBe('INVALID_RANGE');
    }
  });
});
