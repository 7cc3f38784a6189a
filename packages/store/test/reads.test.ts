import { AccountKind } from '@mutual/protocol';
import { Level } from 'level';
import { afterEach, describe, expect, it } from 'vitest';
import { LedgerStore } from '../src/index.ts';
import { readMany, readNow, SYNC_READ_MAX_KEYS } from '../src/read.ts';
import { newHolder, storeOptions, tempDir } from './fixture.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function freshDb(): Promise<Level<Uint8Array, Uint8Array>> {
  const t = tempDir();
  const db = new Level<Uint8Array, Uint8Array>(t.dir, { keyEncoding: 'view', valueEncoding: 'view' });
  await db.open();
  cleanups.push(t.cleanup, () => db.close());
  return db;
}

const key = (i: number) => Uint8Array.of(7, i >> 8, i & 0xff);
/** Values come back as Buffers: compare contents. */
const bytes = (v: Uint8Array | undefined) => (v === undefined ? undefined : [...v]);

describe('reads', () => {
  it('readNow and readMany return the stored values, undefined for missing keys, in order', async () => {
    const db = await freshDb();
    const batch = db.batch();
    for (let i = 0; i < 40; i += 2) batch.put(key(i), Uint8Array.of(i));
    await batch.write();
    expect(bytes(readNow(db, key(4)))).toEqual([4]);
    expect(readNow(db, key(5))).toBeUndefined();
    // Both ways: a few keys read synchronously, more with one getMany.
    for (const n of [1, SYNC_READ_MAX_KEYS, SYNC_READ_MAX_KEYS + 1, 40]) {
      const keys = Array.from({ length: n }, (_, i) => key(i));
      const values = await readMany(db, keys);
      expect(values).toHaveLength(n);
      values.forEach((v, i) => expect(bytes(v)).toEqual(i % 2 === 0 ? [i] : undefined));
    }
  });
});

describe('entries kept in memory', () => {
  async function storeWith(recentEntries: number, accounts: number): Promise<{ store: LedgerStore; dir: string }> {
    const t = tempDir();
    const bank = newHolder();
    const store = await LedgerStore.open(storeOptions(t.dir, bank, { recentEntries }));
    cleanups.push(t.cleanup, () => store.close());
    for (let i = 0; i < accounts; i += 50) {
      await store.submit(Array.from({ length: Math.min(50, accounts - i) }, () => ({ type: 'openAccount' as const, holderKey: newHolder().publicKey, kind: AccountKind.member, label: '' })));
    }
    return { store, dir: t.dir };
  }

  it('serves ranges inside, across and outside the recent entries exactly as on disk', async () => {
    const { store } = await storeWith(16, 100);
    const size = store.size;
    // Every entry as the database holds it, read apart from the store's memory.
    const onDisk: Uint8Array[] = [];
    for await (const v of store.db.values({ gte: Uint8Array.of(0x02), lt: Uint8Array.of(0x03) })) onDisk.push(v);
    expect(onDisk.length).toBeGreaterThanOrEqual(size);
    const disk = onDisk.slice(0, size);
    for (const [from, to] of [
      [size - 10, size], // inside the last 16
      [size - 30, size - 5], // across the edge
      [0, 20], // before it
      [0, size], // the whole log
      [size - 1, size + 5], // past the end: cut at the size
    ] as const) {
      expect(await store.getEntries(from, to)).toEqual(disk.slice(from, Math.min(to, size)));
    }
    for (const i of [0, size - 20, size - 1]) expect(await store.getEntry(i)).toEqual(disk[i]);
    expect(await store.getEntry(size)).toBeUndefined();
  });

  it('gives the leaf hash of an entry, from memory or disk', async () => {
    const { store } = await storeWith(4, 30);
    const { leafHash } = await import('@mutual/merkle');
    for (const i of [0, 1, store.size - 2, store.size - 1]) expect(await store.leafHash(i)).toEqual(leafHash((await store.getEntry(i))!));
    expect(await store.leafHash(store.size)).toBeUndefined();
    expect(await store.leafHash(-1)).toBeUndefined();
  });
});
