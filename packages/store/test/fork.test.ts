import { cpSync } from 'node:fs';
import { LIMITS } from '@mutual/interface';
import { signTreeHead, type SignedHead } from '@mutual/ledger';
import { Frontier, leafHash } from '@mutual/merkle';
import { pb } from '@mutual/protocol';
import { Level } from 'level';
import { afterEach, describe, expect, it } from 'vitest';
import { checkForkProof, encodeForkProof, LedgerStore, prefixHash, ReplicaStore, type ForkEvidence } from '../src/index.ts';
import { replicaKeys } from '../src/replica-keys.ts';
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

/**
 * Two logs of one bank that hold the same first `shared` entries (one ledger with
 * `sharedAccounts` accounts, copied on disk), then grow apart by `aMore` and `bMore` accounts:
 * a bank that forked part-way.
 */
async function parted(sharedAccounts: number, aMore: number, bMore: number): Promise<{ bank: Holder; a: LedgerStore; b: LedgerStore; shared: number }> {
  const bank = newHolder();
  const [ta, tb] = [tempDir(), tempDir()];
  cleanups.push(ta.cleanup, tb.cleanup);
  const first = await LedgerStore.open(storeOptions(ta.dir, bank));
  for (let i = 0; i < sharedAccounts; i++) await openAccount(first);
  const shared = first.size;
  await first.close();
  cpSync(ta.dir, tb.dir, { recursive: true });
  const a = await LedgerStore.open(storeOptions(ta.dir, bank));
  const b = await LedgerStore.open(storeOptions(tb.dir, bank));
  cleanups.push(() => a.close(), () => b.close());
  for (let i = 0; i < aMore; i++) await openAccount(a);
  for (let i = 0; i < bMore; i++) await openAccount(b);
  return { bank, a, b, shared };
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

describe('ReplicaStore: a held head that the verified tree contradicts', () => {
  /** Entries [from, end) of `store`, proven against its latest head. */
  const chunk = async (replicas: ReplicaStore, store: LedgerStore, from: number, end: number) =>
    replicas.append(store.bank.key, store.size, from, await store.getEntries(from, end), end === store.size ? [] : await store.consistencyProof(end, store.size));

  /** The sizes of the two heads of the fork proof held against `bank`, checked. */
  const provenSizes = (replicas: ReplicaStore, bank: Uint8Array) => {
    const e = checkForkProof(replicas.forkProof(bank)!, verify)!;
    return [e.first.size, e.second.size];
  };

  const sameHead = (x: SignedHead | undefined, y: SignedHead) => x !== undefined && Buffer.from(x.bytes).equals(Buffer.from(y.bytes));

  it('inside a chunk proven against a head beyond its end: a fork, and the head is neither stored nor served, across restarts', async () => {
    const { bank, a, b } = await forkedPair();
    for (let i = 0; i < 25; i++) await openAccount(b);
    expect([a.size, b.size]).toEqual([5, 32]);
    const db = await replicaDb();
    let replicas = await ReplicaStore.open(db, verify);
    await replicas.recordHead(a.head);
    await replicas.recordHead(b.head);
    expect(await chunk(replicas, b, 0, 10)).toBe(10);
    expect(replicas.isForked(bank.publicKey)).toBe(true);
    expect(provenSizes(replicas, bank.publicKey)).toEqual([5, 32]);
    const proof = checkForkProof(replicas.forkProof(bank.publicKey)!, verify)!;
    expect(sameHead(proof.first, a.head) && sameHead(proof.second, b.head)).toBe(true);
    // No head of the verified tree within 10 entries is held: nothing is served.
    expect(await replicas.servableHead(bank.publicKey)).toBeUndefined();
    replicas = await ReplicaStore.open(db, verify);
    expect(replicas.isForked(bank.publicKey)).toBe(true);
    expect(await replicas.servableHead(bank.publicKey)).toBeUndefined();
    expect(await replicas.headAt(bank.publicKey, 5)).toBeUndefined();
    // The replica still takes the rest of the tree it holds (for audits), against the stored head.
    expect(await chunk(replicas, b, 10, 32)).toBe(32);
    expect(sameHead(await replicas.servableHead(bank.publicKey), b.head)).toBe(true);
  });

  it('at the end of a chunk proven against a head beyond it: a fork', async () => {
    const { bank, a, b } = await forkedPair();
    for (let i = 0; i < 25; i++) await openAccount(b);
    const db = await replicaDb();
    const replicas = await ReplicaStore.open(db, verify);
    await replicas.recordHead(a.head);
    await replicas.recordHead(b.head);
    expect(await chunk(replicas, b, 0, a.size)).toBe(a.size);
    expect(replicas.isForked(bank.publicKey)).toBe(true);
    expect(provenSizes(replicas, bank.publicKey)).toEqual([a.size, b.size]);
    expect(await replicas.servableHead(bank.publicKey)).toBeUndefined();
  });

  it('before the end of a chunk that reaches the head it is proven against: a fork, the head served is that one', async () => {
    const { bank, a, b } = await forkedPair();
    for (let i = 0; i < 5; i++) await openAccount(b);
    const db = await replicaDb();
    const replicas = await ReplicaStore.open(db, verify);
    await replicas.recordHead(a.head);
    await replicas.recordHead(b.head);
    expect(await chunk(replicas, b, 0, b.size)).toBe(b.size);
    expect(provenSizes(replicas, bank.publicKey)).toEqual([a.size, b.size]);
    expect(sameHead(await replicas.servableHead(bank.publicKey), b.head)).toBe(true);
    const reopened = await ReplicaStore.open(db, verify);
    expect(sameHead(await reopened.servableHead(bank.publicKey), b.head)).toBe(true);
  });

  it('stored as the head of an earlier chunk, before a restart: a fork when a later chunk passes it, and it is not served', async () => {
    const { bank, a, b, shared } = await parted(4, 6, 20);
    expect(shared).toBeGreaterThanOrEqual(6);
    const db = await replicaDb();
    let replicas = await ReplicaStore.open(db, verify);
    // The first chunk is the part both logs hold, proven against the head of `a`, stored with it.
    await replicas.recordHead(a.head);
    expect(await chunk(replicas, a, 0, shared)).toBe(shared);
    expect(replicas.isForked(bank.publicKey)).toBe(false);
    replicas = await ReplicaStore.open(db, verify);
    expect(replicas.status(bank.publicKey)?.head?.size).toBe(a.size);
    await replicas.recordHead(b.head);
    const end = a.size + 3;
    expect(await chunk(replicas, b, shared, end)).toBe(end);
    expect(replicas.isForked(bank.publicKey)).toBe(true);
    expect(provenSizes(replicas, bank.publicKey)).toEqual([a.size, b.size]);
    replicas = await ReplicaStore.open(db, verify);
    expect(replicas.isForked(bank.publicKey)).toBe(true);
    expect(await replicas.headAt(bank.publicKey, a.size)).toBeUndefined();
    expect(sameHead(await replicas.servableHead(bank.publicKey), a.head)).toBe(false);
  });

  it('a head of the same tree at the restart stays servable, and a contradicting one is still found after it', async () => {
    const { bank, a, b, shared } = await parted(4, 6, 20);
    const db = await replicaDb();
    let replicas = await ReplicaStore.open(db, verify);
    const early = (await b.getHead(shared))!;
    await replicas.recordHead(early);
    await replicas.recordHead(b.head);
    expect(await chunk(replicas, b, 0, shared + 2)).toBe(shared + 2);
    expect(sameHead(await replicas.servableHead(bank.publicKey), early)).toBe(true);
    replicas = await ReplicaStore.open(db, verify);
    expect(sameHead(await replicas.servableHead(bank.publicKey), early)).toBe(true);
    expect(replicas.isForked(bank.publicKey)).toBe(false);
    await replicas.recordHead(a.head);
    expect(await chunk(replicas, b, shared + 2, b.size)).toBe(b.size);
    expect(provenSizes(replicas, bank.publicKey)).toEqual([a.size, b.size]);
    expect(sameHead(await replicas.servableHead(bank.publicKey), b.head)).toBe(true);
  });

  it('recorded after a chunk proven beyond its end, with no stored head of the tree to witness: a fork', async () => {
    const { bank, a, b } = await forkedPair();
    for (let i = 0; i < 25; i++) await openAccount(b);
    const db = await replicaDb();
    const replicas = await ReplicaStore.open(db, verify);
    await replicas.recordHead(b.head);
    expect(await chunk(replicas, b, 0, 10)).toBe(10);
    expect(await replicas.recordHead(a.head)).toBe(false);
    expect(replicas.isForked(bank.publicKey)).toBe(true);
    expect(provenSizes(replicas, bank.publicKey)).toEqual([a.size, b.size]);
  });

  it('recorded while a chunk that reaches it is being written: checked against the tree once the chunk is stored', async () => {
    const { bank, a, b } = await forkedPair();
    for (let i = 0; i < 25; i++) await openAccount(b);
    const db = await replicaDb();
    const replicas = await ReplicaStore.open(db, verify);
    await replicas.recordHead(b.head);
    // The heads arrive while the chunk's batch is written: one of the tree, one of the other log.
    const arriving = [(await b.getHead(8))!, a.head];
    const batch = db.batch.bind(db) as () => ReturnType<typeof db.batch>;
    Object.assign(db, {
      batch: (...args: unknown[]) => {
        if (args.length > 0) return (batch as (...x: unknown[]) => unknown)(...args);
        const chained = batch();
        const write = chained.write.bind(chained);
        Object.assign(chained, {
          write: async () => {
            for (const h of arriving.splice(0)) void replicas.recordHead(h);
            return write();
          },
        });
        return chained;
      },
    });
    expect(await chunk(replicas, b, 0, 10)).toBe(10);
    expect(arriving).toEqual([]);
    expect(replicas.isForked(bank.publicKey)).toBe(true);
    expect(provenSizes(replicas, bank.publicKey)).toEqual([a.size, b.size]);
    expect((await replicas.servableHead(bank.publicKey))?.size).toBe(8);
    const reopened = await ReplicaStore.open(db, verify);
    expect((await reopened.servableHead(bank.publicKey))?.size).toBe(8);
  });

  it('for every size of the head and end of the chunk, in the chunk or recorded after it: a fork proof that verifies', async () => {
    const bank = newHolder();
    const b = await ledger(bank, 16);
    const n = b.size;
    expect(n).toBeGreaterThan(16);
    const db = await replicaDb();
    for (let m = 1; m < n; m++) {
      const other = sign(bank, m, new Uint8Array(32).fill(7));
      for (let end = m; end <= n; end++) {
        for (const after of [false, true]) {
          await db.clear();
          const replicas = await ReplicaStore.open(db, verify);
          if (!after) await replicas.recordHead(other);
          await replicas.recordHead(b.head);
          expect(await chunk(replicas, b, 0, end)).toBe(end);
          if (after) await replicas.recordHead(other);
          expect(replicas.isForked(bank.publicKey), `head ${m}, chunk to ${end}${after ? ', recorded after' : ''}`).toBe(true);
          expect(provenSizes(replicas, bank.publicKey)).toEqual([m, n]);
        }
      }
    }
  });

  it('a stored head within the replica that the tree contradicts is not served after a reopening', async () => {
    const { bank, b } = await forkedPair();
    const db = await replicaDb();
    const replicas = await ReplicaStore.open(db, verify);
    const early = (await b.getHead(3))!;
    await replicas.recordHead(early);
    await replicas.recordHead(b.head);
    expect(await chunk(replicas, b, 0, b.size - 2)).toBe(b.size - 2);
    // A head of another tree of the bank, found stored within the replica, larger than the tree's own.
    const other = sign(bank, b.size - 3, new Uint8Array(32).fill(5));
    await db.put(replicaKeys.head(bank.publicKey, other.size), other.bytes);
    const reopened = await ReplicaStore.open(db, verify);
    expect(sameHead(await reopened.servableHead(bank.publicKey), early)).toBe(true);
  });
});
