import { LIMITS } from '@mutual/interface';
import { signTreeHead, type SignedHead } from '@mutual/ledger';
import { Frontier, leafHash } from '@mutual/merkle';
import { pb } from '@mutual/protocol';
import { Level } from 'level';
import { afterEach, describe, expect, it } from 'vitest';
import { checkForkProof, encodeForkProof, LedgerStore, prefixHash, ReplicaStore, type ForkEvidence } from '../src/index.ts';
import { signBytes } from '../../ledger/test/fixture.ts';
import { newHolder, openAccount, storeOptions, tempDir, verify, type Holder } from './fixture.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A bank's ledger with `accounts` accounts opened (one commit each after the first). */
async function ledger(bank: Holder, accounts: number, name = 'Test Bank'): Promise<LedgerStore> {
  const t = tempDir();
  const store = await LedgerStore.open(storeOptions(t.dir, bank, { genesis: { name, bioregion: 'Cascadia' } }));
  cleanups.push(t.cleanup, () => store.close());
  for (let i = 0; i < accounts; i++) await openAccount(store);
  return store;
}

async function replicaDb(): Promise<Level<Uint8Array, Uint8Array>> {
  const t = tempDir();
  const db = new Level<Uint8Array, Uint8Array>(t.dir, { keyEncoding: 'view', valueEncoding: 'view' });
  await db.open();
  cleanups.push(t.cleanup, () => db.close());
  return db;
}

/** A head of `bank` over any root, as a bank that forks would sign it. */
function sign(bank: Holder, size: number, root: Uint8Array, timeMs = 1n): SignedHead {
  return signTreeHead(bank.publicKey, size, root, timeMs, (m) => signBytes(m, bank.seed));
}

const isPow2 = (n: number) => (n & (n - 1)) === 0;

/** The fork path from size m to the store's head, as the holder of that tree makes it. */
async function pathFrom(store: LedgerStore, m: number): Promise<Uint8Array[]> {
  const proof = await store.consistencyProof(m, store.size);
  if (!isPow2(m)) return proof;
  const f = new Frontier();
  for (const e of await store.getEntries(0, m)) f.append(leafHash(e));
  return [f.root(), ...proof];
}

/** Two logs under one bank key: the bank signed both (a fork). */
async function forkedPair(): Promise<{ bank: Holder; a: LedgerStore; b: LedgerStore }> {
  const bank = newHolder();
  return { bank, a: await ledger(bank, 3), b: await ledger(bank, 5, 'Another log') };
}

describe('checkForkProof', () => {
  it('accepts two heads of one size with different roots, in either order', () => {
    const bank = newHolder();
    const x = sign(bank, 5, new Uint8Array(32).fill(1));
    const y = sign(bank, 5, new Uint8Array(32).fill(2));
    const e = checkForkProof(encodeForkProof(x, y, []), verify) as ForkEvidence;
    expect(Buffer.from(e.bank)).toEqual(Buffer.from(bank.publicKey));
    expect(checkForkProof(pb.ForkProof.encode({ first: y.bytes, second: x.bytes }).finish(), verify)).toBeDefined();
  });

  it('accepts heads of different sizes with a fork path from the larger tree', async () => {
    const { a, b } = await forkedPair();
    let tried = 0;
    for (const m of [2, 3, 4, 5]) {
      const first = await a.getHead(m);
      if (!first) continue;
      const proof = encodeForkProof(first, b.head, await pathFrom(b, m));
      expect(checkForkProof(proof, verify), `size ${m}`).toBeDefined();
      tried++;
    }
    expect(tried).toBeGreaterThanOrEqual(3);
  });

  it('refuses consistent heads, another bank, bad signatures and malformed bytes', async () => {
    const bank = newHolder();
    const store = await ledger(bank, 4);
    const early = (await store.getHead(3))!;
    // An honest pair: the path reproduces both roots.
    expect(checkForkProof(encodeForkProof(early, store.head, await pathFrom(store, 3)), verify)).toBeUndefined();
    expect(checkForkProof(encodeForkProof(store.head, store.head, []), verify)).toBeUndefined();
    const x = sign(bank, 5, new Uint8Array(32).fill(1));
    const other = sign(newHolder(), 5, new Uint8Array(32).fill(2));
    expect(checkForkProof(encodeForkProof(x, other, []), verify)).toBeUndefined();
    const y = sign(bank, 5, new Uint8Array(32).fill(2));
    const bad = pb.SignedTreeHead.encode({ head: y.head, signature: new Uint8Array(64).fill(9) }).finish();
    expect(checkForkProof(pb.ForkProof.encode({ first: x.bytes, second: bad }).finish(), verify)).toBeUndefined();
    const good = encodeForkProof(x, y, []);
    expect(checkForkProof(good, verify)).toBeDefined();
    expect(checkForkProof(good.subarray(0, good.length - 3), verify)).toBeUndefined();
    expect(checkForkProof(new Uint8Array([1, 2, 3]), verify)).toBeUndefined();
    expect(checkForkProof(new Uint8Array(LIMITS.MAX_FORK_PROOF_BYTES + 1), verify)).toBeUndefined();
    expect(checkForkProof(Uint8Array.from([...good, 0x20, 0x01]), verify)).toBeUndefined(); // unknown field 4
    // The larger head first; a path with equal sizes; a size-0 head.
    const four = await pathFrom(store, 3);
    expect(checkForkProof(pb.ForkProof.encode({ first: store.head.bytes, second: early.bytes, path: four }).finish(), verify)).toBeUndefined();
    expect(checkForkProof(encodeForkProof(x, y, [new Uint8Array(32)]), verify)).toBeUndefined();
    const zero = [sign(bank, 0, new Uint8Array(32).fill(1)), sign(bank, 0, new Uint8Array(32).fill(2))] as const;
    expect(checkForkProof(encodeForkProof(zero[0], zero[1], []), verify)).toBeUndefined();
    // Too long a path.
    const long = Array.from({ length: LIMITS.MAX_PROOF_HASHES + 1 }, () => new Uint8Array(32));
    expect(checkForkProof(pb.ForkProof.encode({ first: early.bytes, second: x.bytes, path: long }).finish(), verify)).toBeUndefined();
  });

  it('prefixHash gives the hash of a power-of-two prefix from entry 0 and its proof', async () => {
    const store = await ledger(newHolder(), 10);
    const [e0] = await store.getEntries(0, 1);
    const proof = await store.consistencyProof(1, store.size);
    for (const m of [1, 2, 4, 8]) {
      const f = new Frontier();
      for (const e of await store.getEntries(0, m)) f.append(leafHash(e));
      expect(Buffer.from(prefixHash(e0!, proof, m)!)).toEqual(Buffer.from(f.root()));
    }
    expect(prefixHash(e0!, [], 2)).toBeUndefined();
  });
});

describe('ReplicaStore: forks', () => {
  it('a second head of one size with another root marks the bank forked, durably', async () => {
    const bank = newHolder();
    const store = await ledger(bank, 2);
    const db = await replicaDb();
    const replicas = await ReplicaStore.open(db, verify);
    const seen: ForkEvidence[] = [];
    replicas.onFork((e) => seen.push(e));
    expect(await replicas.recordHead(store.head)).toBe(true);
    expect(replicas.isForked(bank.publicKey)).toBe(false);
    expect(await replicas.recordHead(sign(bank, store.size, new Uint8Array(32).fill(3)))).toBe(false);
    expect(replicas.isForked(bank.publicKey)).toBe(true);
    expect(seen).toHaveLength(1);
    const proof = replicas.forkProof(bank.publicKey)!;
    expect(checkForkProof(proof, verify)?.first.size).toBe(store.size);
    // Heads of a forked bank are not recorded any more; a second proof is not new.
    await openAccount(store);
    expect(await replicas.recordHead(store.head)).toBe(false);
    expect(await replicas.recordFork(encodeForkProof(store.head, sign(bank, store.size, new Uint8Array(32).fill(4)), []))).toBe(false);
    expect(seen).toHaveLength(1);
    const reopened = await ReplicaStore.open(db, verify);
    expect(reopened.isForked(bank.publicKey)).toBe(true);
    expect(Buffer.from(reopened.forkProof(bank.publicKey)!)).toEqual(Buffer.from(proof));
    expect(reopened.forks()).toHaveLength(1);
  });

  it('recordFork refuses invalid proofs and stores nothing', async () => {
    const bank = newHolder();
    const db = await replicaDb();
    const replicas = await ReplicaStore.open(db, verify);
    const x = sign(bank, 4, new Uint8Array(32).fill(1));
    for (const bytes of [new Uint8Array(0), new Uint8Array([0xff, 0xff]), encodeForkProof(x, x, []), new Uint8Array(LIMITS.MAX_FORK_PROOF_BYTES + 1)]) {
      expect(await replicas.recordFork(bytes)).toBe(false);
    }
    expect(replicas.isForked(bank.publicKey)).toBe(false);
    let n = 0;
    for await (const _ of db.keys()) n++;
    expect(n).toBe(0);
    expect(await replicas.recordFork(encodeForkProof(x, sign(bank, 4, new Uint8Array(32).fill(2)), []))).toBe(true);
    expect(replicas.isForked(bank.publicKey)).toBe(true);
  });

  it('a head of a smaller size that is not the verified tree is a fork, proven from the stored nodes', async () => {
    const { bank, a, b } = await forkedPair();
    const db = await replicaDb();
    const replicas = await ReplicaStore.open(db, verify);
    await replicas.recordHead(b.head);
    expect(await replicas.append(b.bank.key, b.size, 0, await b.getEntries(0, b.size), [])).toBe(b.size);
    for (const m of [2, 3, 4]) {
      const head = await a.getHead(m);
      if (!head) continue;
      const r = await ReplicaStore.open(db, verify);
      expect(await r.recordHead(head)).toBe(false);
      expect(r.isForked(bank.publicKey), `size ${m}`).toBe(true);
      const e = checkForkProof(r.forkProof(bank.publicKey)!, verify)!;
      expect([e.first.size, e.second.size]).toEqual([m, b.size]);
      await db.del(new Uint8Array([0x0e, ...bank.publicKey]));
    }
    // A head of the verified tree itself is no fork.
    expect(await replicas.recordHead((await b.getHead(3))!)).toBe(false);
    expect(replicas.isForked(bank.publicKey)).toBe(false);
  });

  it('a held head inside a chunk that the chunk contradicts is a fork, once the chunk is proven', async () => {
    const { bank, a, b } = await forkedPair();
    const db = await replicaDb();
    const replicas = await ReplicaStore.open(db, verify);
    const early = (await a.getHead(3))!;
    await replicas.recordHead(early);
    await replicas.recordHead(b.head);
    expect(await replicas.append(bank.publicKey, b.size, 0, await b.getEntries(0, b.size), [])).toBe(b.size);
    expect(replicas.isForked(bank.publicKey)).toBe(true);
    const e = checkForkProof(replicas.forkProof(bank.publicKey)!, verify)!;
    expect([e.first.size, e.second.size]).toEqual([3, b.size]);
  });
});
