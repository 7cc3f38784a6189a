// catchUp with peers that answer late or never: they must not hold up the peers that answer.
import type { SignedHead } from '@mutual/ledger';
import { pb, u64, type mutual } from '@mutual/protocol';
import type { LedgerStore } from '@mutual/store';
import { verify } from '@mutual/verifier';
import { afterEach, describe, expect, it } from 'vitest';
import { catchUp, type SyncPeer } from '../src/catch-up.ts';
import { startBank, stopAll } from './fixture.ts';

afterEach(stopAll);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const peer = (name: string, isBank = false): SyncPeer => ({ id: { toString: () => name } as never, ...(isBank ? { isBank } : {}) });

/** What a peer holding all of `store` answers to a sync request. */
async function serve(store: LedgerStore, bytes: Uint8Array): Promise<mutual.v1.SyncResponse> {
  const r = pb.SyncRequest.decode(bytes);
  let answer: mutual.v1.ISyncResponse;
  if (r.getHead) answer = { head: store.head.bytes };
  else if (r.getEntries) {
    const from = Number(u64(r.getEntries.from));
    const end = from + r.getEntries.count!;
    const size = Number(u64(r.getEntries.treeSize));
    answer = { entries: { entries: await store.getEntries(from, end), proof: end === size ? [] : await store.consistencyProof(end, size) } };
  } else answer = { error: { code: 'NOT_FOUND', message: '' } };
  return pb.SyncResponse.decode(pb.SyncResponse.encode(answer).finish());
}

describe('catchUp', () => {
  it('asks every peer for its head at once: peers that answer late or never hold it only a grace after the first answer, and a late head is handed on', async () => {
    const a = await startBank();
    await a.commit(5);
    const b = await startBank();
    const silent = peer('never answers');
    const slow = peer('answers after 1.5 s');
    const honest = peer('answers at once');
    const asked: string[] = [];
    const late: SignedHead[] = [];
    const started = Date.now();
    await catchUp(a.store.bank.key, [silent, slow, honest], b.replicas, {
      verify,
      signal: new AbortController().signal,
      strike: () => {},
      graceMs: 300,
      late: (head) => late.push(head),
      request: async (p, req) => {
        asked.push(String(p.id));
        // As a sync request that times out: nothing, after a while.
        if (p === silent) return sleep(4000).then(() => undefined);
        if (p === slow) await sleep(1500);
        return serve(a.store, req);
      },
    });
    const took = Date.now() - started;
    expect(b.replicas.status(a.store.bank.key)?.size).toBe(a.store.size);
    // Not 4 s (the silent peer) nor 1.5 s (the slow one): the honest peer's answer, its
    // entries, and the grace after it.
    expect(took).toBeLessThan(1200);
    expect(asked.slice(0, 3).sort()).toEqual([String(silent.id), String(slow.id), String(honest.id)].sort());
    // The slow peer's head comes after the catch-up ended, and is handed on.
    const end = Date.now() + 3000;
    while (late.length === 0 && Date.now() < end) await sleep(20);
    expect(late.map((h) => h.size)).toEqual([a.store.size]);
  }, 30_000);

  it('with a target, asks the bank alone while it serves, and the others at once when it does not', async () => {
    const a = await startBank();
    await a.commit(5);
    const b = await startBank();
    await b.replicas.recordHead(a.store.head);
    const bank = peer('the bank', true);
    const relay = peer('a relay');
    const asked: string[] = [];
    const deps = (bankAnswers: boolean) => ({
      verify,
      signal: new AbortController().signal,
      strike: () => {},
      graceMs: 300,
      request: async (p: SyncPeer, req: Uint8Array) => {
        const r = pb.SyncRequest.decode(req);
        asked.push(`${String(p.id)}: ${r.getHead ? 'getHead' : r.getEntries ? 'getEntries' : 'other'}`);
        if (p === bank && !bankAnswers) return sleep(2000).then(() => undefined);
        return serve(a.store, req);
      },
    });
    await catchUp(a.store.bank.key, [bank, relay], b.replicas, deps(true), a.store.head);
    expect(b.replicas.status(a.store.bank.key)?.size).toBe(a.store.size);
    expect(asked).toEqual(['the bank: getEntries']);

    await a.commit(2);
    await b.replicas.recordHead(a.store.head);
    asked.length = 0;
    await catchUp(a.store.bank.key, [bank, relay], b.replicas, deps(false), a.store.head);
    expect(b.replicas.status(a.store.bank.key)?.size).toBe(a.store.size);
    expect(asked).toEqual(['the bank: getEntries', 'a relay: getHead', 'a relay: getEntries']);
  }, 30_000);

  it('fetches from the only holder of the entries when its head comes after the wait', async () => {
    const a = await startBank();
    await a.commit(5);
    const b = await startBank();
    const holder = peer('the only holder, 1.2 s per answer');
    const other = peer('holds nothing of the bank');
    const late: SignedHead[] = [];
    await catchUp(a.store.bank.key, [holder, other], b.replicas, {
      verify,
      signal: new AbortController().signal,
      strike: () => {},
      graceMs: 300,
      late: (h) => void late.push(h),
      request: async (p, req) => {
        if (p === other) return pb.SyncResponse.decode(pb.SyncResponse.encode({ error: { code: 'NOT_FOUND', message: '' } }).finish());
        await sleep(1200);
        return serve(a.store, req);
      },
    });
    // The catch-up itself ended after the grace; the late head is handed on, and fetched from its peer.
    expect(b.replicas.status(a.store.bank.key)?.size ?? 0).toBe(0);
    const end = Date.now() + 10_000;
    while ((b.replicas.status(a.store.bank.key)?.size ?? 0) < a.store.size && Date.now() < end) await sleep(50);
    expect(b.replicas.status(a.store.bank.key)?.size).toBe(a.store.size);
    expect(late.map((h) => h.size)).toEqual([a.store.size]);
  }, 30_000);

  it('does not strike a peer whose chunk no longer fits because the replica grew meanwhile', async () => {
    const a = await startBank();
    await a.commit(5);
    const b = await startBank();
    await b.replicas.recordHead(a.store.head);
    const bank = peer('the bank', true);
    const struck: string[] = [];
    await catchUp(a.store.bank.key, [bank], b.replicas, {
      verify,
      signal: new AbortController().signal,
      strike: (p, why) => void struck.push(`${String(p.id)}: ${why}`),
      graceMs: 300,
      request: async (_p, req) => {
        const answer = await serve(a.store, req);
        // Another catch-up stores the same entries first.
        const r = pb.SyncRequest.decode(req).getEntries!;
        expect(await b.replicas.append(a.store.bank.key, Number(u64(r.treeSize)), Number(u64(r.from)), answer.entries!.entries!, answer.entries!.proof ?? [])).toBe(a.store.size);
        return answer;
      },
    }, a.store.head);
    expect(b.replicas.status(a.store.bank.key)?.size).toBe(a.store.size);
    expect(struck).toEqual([]);
  }, 30_000);
});
