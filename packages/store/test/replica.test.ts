import { signTreeHead } from '@mutual/ledger';
import { Level } from 'level';
import { afterEach, describe, expect, it } from 'vitest';
import { LedgerStore, ReplicaStore } from '../src/index.ts';
import { signBytes } from '../../ledger/test/fixture.ts';
import { newHolder, openAccount, storeOptions, tempDir, verify, type Holder } from './fixture.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function origin(accounts: number, bank: Holder = newHolder()): Promise<LedgerStore> {
  const t = tempDir();
  const store = await LedgerStore.open(storeOptions(t.dir, bank));
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
    // Nothing was written: the head is held in memory until a chunk reaches it.
    expect(stored).toEqual([]);
  });

  it('serves against the largest head within what it holds, checks chunks against heads held beyond it, and keeps what a chunk reached over a reopening', async () => {
    const store = await origin(12);
    const bank = store.bank.key;
    const { db } = await replicaDb();
    let replica = await ReplicaStore.open(db, verify);
    // Heads of sizes 5, 9 and the latest are held before any entry.
    for (const n of [5, 9, store.size]) expect(await replica.recordHead((await store.getHead(n))!)).toBe(true);
    expect(await replica.servableHead(bank)).toBeUndefined();
    const chunk = async (from: number, end: number) =>
      replica.append(bank, store.size, from, await store.getEntries(from, end), end === store.size ? [] : await store.consistencyProof(end, store.size));
    expect(await chunk(0, 7)).toBe(7);
    expect((await replica.servableHead(bank))?.size).toBe(5);
    // Reopened: what the chunk reached (head 5) and the head it was proven against are on disk;
    // head 9, beyond it, was held in memory only and is learnt again.
    replica = await ReplicaStore.open(db, verify);
    expect((await replica.servableHead(bank))?.size).toBe(5);
    expect(replica.status(bank)?.head?.size).toBe(store.size);
    expect(await chunk(7, 8)).toBe(8);
    expect((await replica.servableHead(bank))?.size).toBe(5);
    expect(await replica.recordHead((await store.getHead(9))!)).toBe(false);
    expect(await chunk(8, 10)).toBe(10);
    expect((await replica.servableHead(bank))?.size).toBe(9);
    expect(await chunk(10, store.size)).toBe(store.size);
    expect((await replica.servableHead(bank))?.size).toBe(store.size);
    // An older head of the tree arriving late changes nothing it serves.
    expect(await replica.recordHead((await store.getHead(3))!)).toBe(false);
    expect((await replica.servableHead(bank))?.size).toBe(store.size);
    expect(replica.isForked(bank)).toBe(false);
  });

  it('two heads of one size beyond the replica, recorded at once, are a fork', async () => {
    const holder = newHolder();
    const store = await origin(3, holder);
    const { db } = await replicaDb();
    const replica = await ReplicaStore.open(db, verify);
    const sign = (root: Uint8Array) => signTreeHead(holder.publicKey, 20, root, 1n, (m) => signBytes(m, holder.seed));
    const [x, y] = [sign(new Uint8Array(32).fill(1)), sign(new Uint8Array(32).fill(2))];
    const recorded = await Promise.all([replica.recordHead(x), replica.recordHead(y)]);
    expect(recorded.filter(Boolean)).toHaveLength(1);
    expect(replica.isForked(holder.publicKey)).toBe(true);
  });

  it('a chunk that contradicts a held head beyond the replica proves a fork', async () => {
    const holder = newHolder();
    const store = await origin(8, holder);
    const { db } = await replicaDb();
    const replica = await ReplicaStore.open(db, verify);
    // The bank also signed another tree of size 4 than the one it serves.
    const other = signTreeHead(holder.publicKey, 4, new Uint8Array(32).fill(9), 1n, (m) => signBytes(m, holder.seed));
    await replica.recordHead(other);
    await replica.recordHead(store.head);
    expect(replica.isForked(holder.publicKey)).toBe(false);
    expect(await replica.append(holder.publicKey, store.size, 0, await store.getEntries(0, store.size), [])).toBe(store.size);
    expect(replica.isForked(holder.publicKey)).toBe(true);
  });

  it('past the heads it keeps in memory, keeps the nearest and the newest, and still finds a fork among them', async () => {
    const holder = newHolder();
    const store = await origin(3, holder);
    const { db } = await replicaDb();
    const replica = await ReplicaStore.open(db, verify);
    const sign = (size: number, fill: number) => signTreeHead(holder.publicKey, size, new Uint8Array(32).fill(fill), 1n, (m) => signBytes(m, holder.seed));
    // More heads beyond the replica than it keeps in memory, then the bank's real head.
    for (let i = 0; i < 1100; i++) await replica.recordHead(sign(100 + i, 1));
    expect(replica.status(holder.publicKey)?.head?.size).toBe(1199);
    expect(await replica.recordHead(store.head)).toBe(false); // not the newest
    expect(await replica.append(holder.publicKey, store.size, 0, await store.getEntries(0, store.size), [])).toBe(store.size);
    expect((await replica.servableHead(holder.publicKey))?.size).toBe(store.size);
    expect(replica.isForked(holder.publicKey)).toBe(false);
    // A second head of a size held, near or newest.
    await replica.recordHead(sign(150, 2));
    expect(replica.isForked(holder.publicKey)).toBe(true);
    const again = await ReplicaStore.open(db, verify);
    expect(again.isForked(holder.publicKey)).toBe(true);
  });

  it('a second head of the size of the newest held is a fork', async () => {
    const holder = newHolder();
    const store = await origin(2, holder);
    const { db } = await replicaDb();
    const replica = await ReplicaStore.open(db, verify);
    const sign = (size: number, fill: number) => signTreeHead(holder.publicKey, size, new Uint8Array(32).fill(fill), 1n, (m) => signBytes(m, holder.seed));
    for (let i = 0; i < 1100; i++) await replica.recordHead(sign(100 + i, 1));
    expect(store.size).toBeLessThan(100);
    await replica.recordHead(sign(1199, 3));
    expect(replica.isForked(holder.publicKey)).toBe(true);
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
