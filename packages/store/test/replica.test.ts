import { Level } from 'level';
import { afterEach, describe, expect, it } from 'vitest';
import { LedgerStore, ReplicaStore } from '../src/index.ts';
import { newHolder, openAccount, storeOptions, tempDir, verify } from './fixture.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function origin(accounts: number): Promise<LedgerStore> {
  const t = tempDir();
  const store = await LedgerStore.open(storeOptions(t.dir, newHolder()));
  cleanups.push(t.cleanup, () => store.close());
  for (let i = 0; i < accounts; i++) await openAccount(store);
  return store;
}

async function replicaDb(): Promise<{ db: Level<Uint8Array, Uint8Array>; dir: string }> {
  const t = tempDir();
  const db = new Level<Uint8Array, Uint8Array>(t.dir, { keyEncoding: 'view', valueEncoding: 'view' });
  await db.open();
  cleanups.push(t.cleanup, () => db.close());
  return { db, dir: t.dir };
}

/** Syncs `replica` from `store` in chunks of `chunk` against the store's latest head. */
async function syncAll(replica: ReplicaStore, store: LedgerStore, chunk: number): Promise<void> {
  const head = store.head;
  await replica.recordHead(head);
  for (let from = replica.status(head.bank)?.size ?? 0; from < head.size; ) {
    const end = Math.min(from + chunk, head.size);
    const proof = end === head.size ? [] : await store.consistencyProof(end, head.size);
    const r = await replica.append(head.bank, head.size, from, await store.getEntries(from, end), proof);
    expect(r).toBe(end);
    from = end;
  }
}

describe('ReplicaStore', () => {
  it('grows by verified chunks and serves what it holds, also after reopening', async () => {
    const store = await origin(9);
    const { db } = await replicaDb();
    const replica = await ReplicaStore.open(db, verify);
    await syncAll(replica, store, 3);
    const bank = store.bank.key;
    expect(replica.status(bank)?.size).toBe(store.size);
    expect(await replica.getEntries(bank, 0, store.size)).toEqual(await store.getEntries(0, store.size));
    const hexes = (l: Uint8Array[]) => l.map((h) => Buffer.from(h).toString('hex'));
    expect(hexes(await replica.consistencyProof(bank, 4, store.size))).toEqual(hexes(await store.consistencyProof(4, store.size)));

    await openAccount(store);
    await openAccount(store);
    const reopened = await ReplicaStore.open(db, verify);
    expect(reopened.status(bank)?.size).toBe(store.size - 2);
    await syncAll(reopened, store, 1);
    expect(reopened.status(bank)?.size).toBe(store.size);
    expect(reopened.status(bank)?.head?.size).toBe(store.size);
  });

  it('refuses a chunk whose proof fails, a forged entry, a gap or an unknown head, storing nothing', async () => {
    const store = await origin(6);
    const { db } = await replicaDb();
    const replica = await ReplicaStore.open(db, verify);
    const head = store.head;
    const bank = head.bank;
    await replica.recordHead(head);
    const entries = await store.getEntries(0, 4);
    const proof = await store.consistencyProof(4, head.size);
    const badProof = proof.map((h, i) => (i === 0 ? new Uint8Array(32).fill(7) : h));
    expect(await replica.append(bank, head.size, 0, entries, badProof)).toBe('bad-proof');
    expect(await replica.append(bank, head.size, 0, entries, [])).toBe('bad-proof');
    const forged = entries.map((e, i) => (i === 2 ? Uint8Array.from(e, (b, j) => (j === e.length - 1 ? b ^ 1 : b)) : e));
    expect(['bad-entry', 'bad-proof']).toContain(await replica.append(bank, head.size, 0, forged, proof));
    expect(await replica.append(bank, head.size, 0, [entries[1]!], await store.consistencyProof(1, head.size))).toBe('bad-entry');
    expect(await replica.append(bank, head.size, 1, entries.slice(1), proof)).toBe('not-contiguous');
    expect(await replica.append(bank, head.size - 1, 0, entries, proof)).toBe('unknown-head');
    expect(replica.status(bank)?.size).toBe(0);
    const stored: Uint8Array[] = [];
    for await (const k of db.keys()) stored.push(k);
    // Only the head and the replica's meta record were written.
    expect(stored.map((k) => k[0]).sort()).toEqual([0x0b, 0x0c]);
  });

  it('ignores a head that does not verify or is not newer', async () => {
    const store = await origin(1);
    const { db } = await replicaDb();
    const replica = await ReplicaStore.open(db, verify);
    const head = store.head;
    const bytes = Uint8Array.from(head.bytes);
    bytes[bytes.length - 1]! ^= 1;
    expect(await replica.recordHead({ ...head, bytes })).toBe(false);
    expect(await replica.recordHead(head)).toBe(true);
    expect(await replica.recordHead(head)).toBe(false);
  });
});
