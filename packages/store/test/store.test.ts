import { readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMutualError } from '@mutual/interface';
import { sha256 } from '@mutual/crypto';
import { conservationProblem, u64Field } from '@mutual/ledger';
import { Frontier, verifyConsistency, verifyInclusion, leafHash } from '@mutual/merkle';
import { AccountKind, pb, pbStorage } from '@mutual/protocol';
import { Level } from 'level';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FORMAT_VERSION, KEYSPACES, LedgerStore, LOWEST_STORED_LEVEL, RETIRED_KEYSPACES, verifyStore } from '../src/index.ts';
import { keys } from '../src/keys.ts';
import { DAY, newHolder, openAccount, signed, storeOptions, tempDir, verify, type Acct, type Holder } from './fixture.ts';

let dir: string;
let cleanup: () => void;
let bank: Holder;
let store: LedgerStore;

beforeEach(async () => {
  ({ dir, cleanup } = tempDir());
  bank = newHolder();
  store = await LedgerStore.open(storeOptions(dir, bank));
});
afterEach(async () => {
  await store.close();
  cleanup();
});

async function fund(): Promise<{ coop: Acct; alice: Acct; bob: Acct }> {
  const coop = await openAccount(store, AccountKind.cooperative);
  const alice = await openAccount(store);
  const bob = await openAccount(store);
  const [r] = await store.submitSigned([signed(store, coop, 1n, { labor: { worker: alice.id, day: DAY, milliHours: 8000n, category: 'standard' } })]);
  expect(r?.code).toBe('APPLIED');
  return { coop, alice, bob };
}

describe('limits', () => {
  it('bound proofs as the Merkle verifier does', async () => {
    const { MAX_PROOF_LENGTH } = await import('@mutual/merkle');
    const { LIMITS } = await import('@mutual/interface');
    expect(LIMITS.MAX_PROOF_HASHES).toBe(MAX_PROOF_LENGTH);
  });
});

describe('keyspaces', () => {
  it('have unique one-byte prefixes, none retired', () => {
    const prefixes = Object.values(KEYSPACES);
    expect(new Set(prefixes).size).toBe(prefixes.length);
    for (const p of prefixes) {
      expect(p).toBeGreaterThan(0);
      expect(p).toBeLessThan(256);
      expect(RETIRED_KEYSPACES).not.toContain(p);
    }
  });
});

describe('a new ledger', () => {
  it('starts with genesis and the default rate schedule, under a signed head', async () => {
    expect(store.size).toBe(2);
    expect(store.bank).toMatchObject({ name: 'Test Bank', bioregion: 'Cascadia' });
    expect([...store.rates]).toEqual([['standard', 1000], ['unpleasant', 1500]]);
    expect(store.head.size).toBe(2);
  });

  it('refuses to be created without a name', async () => {
    const t = tempDir();
    await expect(LedgerStore.open({ ...storeOptions(t.dir, newHolder()), genesis: undefined })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    t.cleanup();
  });

  it('refuses, as a configuration error, a name the genesis entry cannot hold', async () => {
    for (const genesis of [{ name: 'x'.repeat(65), bioregion: 'Cascadia' }, { name: 'Alder', bioregion: 'Cascadia \uD83C' }]) {
      const t = tempDir();
      await expect(LedgerStore.open({ ...storeOptions(t.dir, newHolder()), genesis })).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringMatching(/genesis refused/) });
      t.cleanup();
    }
  });
});

describe('group commit', () => {
  it('applies, persists and reopens with the same state and head', async () => {
    const { alice, bob } = await fund();
    const [r] = await store.submitSigned([signed(store, alice, 1n, { transfer: { payee: bob.id, amount: 2500n } })]);
    expect(r).toMatchObject({ code: 'APPLIED' });
    const head = store.head;
    await store.close();
    store = await LedgerStore.open(storeOptions(dir, bank));
    expect(store.head.bytes).toEqual(head.bytes);
    expect((await store.getAccount(alice.id))?.balance).toBe(5500n);
    expect((await store.getAccount(bob.id))?.balance).toBe(2500n);
    expect((await store.getAccount(alice.id))?.sequence).toBe(1n);
    // a retry after the restart returns the original result
    const [again] = await store.submitSigned([signed(store, alice, 1n, { transfer: { payee: bob.id, amount: 2500n } })]);
    expect(again).toMatchObject({ code: 'APPLIED', duplicate: true, entryIndex: (r as { entryIndex: number }).entryIndex });
    // another instruction with the same sequence is told apart by the body in the logged entry
    const [other] = await store.submitSigned([signed(store, alice, 1n, { transfer: { payee: bob.id, amount: 2501n } })]);
    expect(other?.code).toBe('SEQUENCE_REPLAYED');
    const report = await verifyStore(store);
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
  });

  it('commits submissions that arrive together in fewer batches, each result to its caller', async () => {
    const { alice, bob } = await fund();
    const before = store.size;
    const submissions = Array.from({ length: 50 }, (_, i) => store.submitSigned([signed(store, alice, BigInt(i + 1), { transfer: { payee: bob.id, amount: 10n } })]));
    const results = (await Promise.all(submissions)).map((r) => r[0]!);
    results.forEach((r, i) => expect(r, `submission ${i}`).toMatchObject({ code: 'APPLIED', entryIndex: before + i }));
    let heads = 0;
    for (let s = before + 1; s <= store.size; s++) if (await store.getHead(s)) heads++;
    expect(heads).toBeLessThan(50);
    expect((await store.getAccount(bob.id))?.balance).toBe(500n);
    expect((await verifyStore(store)).ok).toBe(true);
  });

  it('counts the commands waiting to be committed (queued), down to none once they are', async () => {
    await store.close();
    // Signatures checked on a pool the test holds back: a submission waits in the queue until
    // its signatures are checked, so the count can be read while it waits.
    let release = () => {};
    const held = new Promise<void>((r) => (release = r));
    store = await LedgerStore.open(
      storeOptions(dir, bank, {
        verifyBatch: async (items) => {
          await held;
          return Uint8Array.from(items, (it) => (verify(it.signature, it.message, it.publicKey) ? 1 : 0));
        },
      }),
    );
    const { alice, bob } = await fund();
    expect(store.queued).toBe(0);
    // At least 64 signatures go to the pool (fewer are checked on the calling thread).
    const batch = (from: number) => Array.from({ length: 64 }, (_, i) => signed(store, alice, BigInt(from + i), { transfer: { payee: bob.id, amount: 1n } }));
    const first = store.submitSigned(batch(1));
    const second = store.submitSigned(batch(65));
    expect(store.queued).toBe(128);
    await new Promise((r) => setTimeout(r, 50));
    expect(store.queued).toBe(128);
    release();
    const results = [...(await first), ...(await second)];
    expect(results.every((r) => r.code === 'APPLIED')).toBe(true);
    expect(store.queued).toBe(0);
  });

  it('tells subscribers about every durable commit, in order', async () => {
    const events: Array<{ firstIndex: number; n: number; size: number }> = [];
    const off = store.subscribe((e) => events.push({ firstIndex: e.firstIndex, n: e.entries.length, size: e.head.size }));
    const { alice, bob } = await fund();
    await store.submitSigned([signed(store, alice, 1n, { transfer: { payee: bob.id, amount: 1n } })]);
    off();
    await store.submitSigned([signed(store, alice, 2n, { transfer: { payee: bob.id, amount: 1n } })]);
    expect(events.length).toBe(5);
    let next = 2;
    for (const e of events) {
      expect(e.firstIndex).toBe(next);
      next += e.n;
      expect(e.size).toBe(next);
    }
  });

  it('serves statements newest first with a cursor', async () => {
    const { alice, bob } = await fund();
    for (let i = 1; i <= 5; i++) await store.submitSigned([signed(store, alice, BigInt(i), { transfer: { payee: bob.id, amount: 1n } })]);
    const all = await store.history(alice.id, { limit: 100 });
    expect(all.length).toBe(7); // opened, labor, 5 transfers
    expect([...all].sort((a, b) => b - a)).toEqual(all);
    const page = await store.history(alice.id, { limit: 2, before: all[1] });
    expect(page).toEqual(all.slice(2, 4));
  });

  it("lists an account's own instructions and the entries that credit it, in one statement, page by page", async () => {
    const { alice, bob } = await fund();
    const expected: number[] = [];
    const applied = (r: unknown) => (r as { entryIndex: number }).entryIndex;
    let aliceSeq = 0n;
    let bobSeq = 0n;
    for (let i = 0; i < 30; i++) {
      // alice pays bob twice for each time bob pays her back
      const [a] = await store.submitSigned([signed(store, alice, ++aliceSeq, { transfer: { payee: bob.id, amount: 1n } })]);
      expected.push(applied(a));
      if (i % 2 === 1) {
        const [b] = await store.submitSigned([signed(store, bob, ++bobSeq, { transfer: { payee: alice.id, amount: 1n } })]);
        expected.push(applied(b));
      }
    }
    const all = await store.history(alice.id, { limit: 1000 });
    // opened, labor, then every transfer from or to her
    expect(all.slice(0, expected.length)).toEqual([...expected].reverse());
    expect(all.length).toBe(expected.length + 2);
    for (const limit of [1, 3, 7]) {
      const paged: number[] = [];
      let before: number | undefined;
      for (let n = 0; n < 100; n++) {
        const page = await store.history(alice.id, { limit, before });
        paged.push(...page);
        if (page.length < limit) break;
        before = page[page.length - 1];
      }
      expect(paged).toEqual(all);
    }
    // a cursor between two of her own entries, and one before her first instruction
    expect(await store.history(alice.id, { limit: 2, before: expected[5]! })).toEqual(all.slice(all.indexOf(expected[5]!) + 1).slice(0, 2));
    expect(await store.history(alice.id, { limit: 5, before: expected[0]! })).toEqual(all.slice(-2));
    expect(await store.history(alice.id, { limit: 5, before: 0 })).toEqual([]);
  });

  it('proves inclusion of every entry and consistency between heads', async () => {
    const { alice, bob } = await fund();
    const sizes = [store.size];
    for (let i = 1; i <= 12; i++) {
      await store.submitSigned([signed(store, alice, BigInt(i), { transfer: { payee: bob.id, amount: 1n } })]);
      sizes.push(store.size);
    }
    const root = store.head.root;
    for (let i = 0; i < store.size; i++) {
      const proof = await store.inclusionProof(i);
      expect(verifyInclusion(leafHash((await store.getEntry(i))!), i, store.size, proof, root)).toBe(true);
    }
    for (const m of sizes) {
      const hm = (await store.getHead(m))!;
      const proof = await store.consistencyProof(m, store.size);
      expect(verifyConsistency(m, store.size, hm.root, root, proof)).toBe(true);
    }
    await expect(store.inclusionProof(store.size)).rejects.toMatchObject({ code: 'INVALID_RANGE' });
    await expect(store.consistencyProof(3, store.size + 1)).rejects.toMatchObject({ code: 'INVALID_RANGE' });
  });

  it('keeps conservation: balances = issued - retired', async () => {
    const { alice, bob } = await fund();
    await store.submitSigned([
      signed(store, alice, 1n, { transfer: { payee: bob.id, amount: 3000n } }),
      signed(store, bob, 1n, { retirement: { amount: 1000n } }),
    ]);
    expect(store.totals).toMatchObject({ issued: 8000n, retired: 1000n, accounts: 3n });
  });
});

describe('the data directory', () => {
  it('cannot be opened twice', async () => {
    const err = await LedgerStore.open(storeOptions(dir, bank)).catch((e: unknown) => e);
    expect(isMutualError(err, 'DATA_DIR_IN_USE')).toBe(true);
  });

  it('refuses a bad recentEntries before opening the database, which stays free to open', async () => {
    await store.close();
    for (const recentEntries of [-1, 1.5, Number.NaN]) {
      await expect(LedgerStore.open(storeOptions(dir, bank, { recentEntries }))).rejects.toThrow(RangeError);
    }
    store = await LedgerStore.open(storeOptions(dir, bank, { recentEntries: 0 }));
    expect(await store.getEntry(0)).toBeDefined();
  });

  it('refuses another format version', async () => {
    await store.close();
    const db = new Level<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' });
    await db.put(keys.meta('format'), new Uint8Array([0, 0, 0, FORMAT_VERSION + 1]));
    await db.close();
    await expect(LedgerStore.open(storeOptions(dir, bank))).rejects.toMatchObject({ code: 'DB_FORMAT_MISMATCH' });
    store = await reopenFresh();
  });

  it('migrates a format 2 database: the history records of an account\'s own instructions are deleted, applied records with a hash still compared', async () => {
    const { coop, alice, bob } = await fund();
    const results = [];
    for (let i = 1; i <= 6; i++) results.push(...(await store.submitSigned([signed(store, alice, BigInt(i), { transfer: { payee: bob.id, amount: 1n } })])));
    const statement = await store.history(alice.id, { limit: 100 });
    const bobStatement = await store.history(bob.id, { limit: 100 });
    await store.close();
    // Format 2: a history record for every entry of an account's own instruction, and the body's hash in applied records.
    const db = new Level<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' });
    let own = 0;
    for await (const [k, v] of db.iterator(keys.range(KEYSPACES.applied))) {
      const index = Number(pbStorage.AppliedRecord.decode(v).entryIndex);
      const entry = pb.Entry.decode((await db.get(keys.entry(index)))!);
      await db.put(k, pbStorage.AppliedRecord.encode({ entryIndex: u64Field(index), bodyHash: sha256(entry.applied!.body!) }).finish());
      await db.put(keys.history(k.subarray(1, 21), index), new Uint8Array());
      own++;
    }
    expect(own).toBe(7); // the labor record and six transfers
    await db.put(keys.meta('format'), new Uint8Array([0, 0, 0, 2]));
    const historyRecords = async () => {
      let n = 0;
      for await (const _ of db.keys(keys.range(KEYSPACES.history))) n++;
      return n;
    };
    const before = await historyRecords();
    await db.close();

    store = await LedgerStore.open(storeOptions(dir, bank));
    expect((await verifyStore(store)).problems).toEqual([]);
    expect(await store.history(alice.id, { limit: 100 })).toEqual(statement);
    expect(await store.history(bob.id, { limit: 100 })).toEqual(bobStatement);
    // a retry checked against a format 2 record (by the hash), and one with other bytes
    const [again] = await store.submitSigned([signed(store, alice, 3n, { transfer: { payee: bob.id, amount: 1n } })]);
    expect(again).toMatchObject({ code: 'APPLIED', duplicate: true, entryIndex: (results[2] as { entryIndex: number }).entryIndex });
    const [other] = await store.submitSigned([signed(store, coop, 1n, { labor: { worker: alice.id, day: DAY, milliHours: 1000n, category: 'standard' } })]);
    expect(other?.code).toBe('SEQUENCE_REPLAYED');
    await store.close();
    await db.open();
    expect(await historyRecords()).toBe(before - own);
    expect([...(await db.get(keys.meta('format')))!]).toEqual([0, 0, 0, FORMAT_VERSION]);
    await db.close();
    store = await LedgerStore.open(storeOptions(dir, bank));
  });

  it('migrates a format 1 database: the Merkle nodes below the lowest stored level are deleted, and derived', async () => {
    const { alice, bob } = await fund();
    for (let i = 1; i <= 40; i++) await store.submitSigned([signed(store, alice, BigInt(i), { transfer: { payee: bob.id, amount: 1n } })]);
    const size = store.size;
    const root = store.head.root;
    await store.close();
    // Format 1: every complete subtree stored, levels 0 to 3 too, in both node keyspaces.
    const db = new Level<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' });
    const frontier = new Frontier();
    for (let i = 0; i < size; i++) {
      for (const n of frontier.append(leafHash((await db.get(keys.entry(i)))!))) await db.put(keys.node(n.level, n.index), n.hash);
    }
    const replicaNode = (level: number) => Uint8Array.from([KEYSPACES.replicaNodes, ...new Uint8Array(32).fill(7), level, 0, 0, 0, 0, 0, 0, 0, 1]);
    await db.put(replicaNode(2), new Uint8Array(32));
    await db.put(replicaNode(LOWEST_STORED_LEVEL), new Uint8Array(32));
    await db.put(keys.meta('format'), new Uint8Array([0, 0, 0, 1]));
    const levels = async () => {
      const seen = new Set<number>();
      for await (const k of db.keys(keys.range(KEYSPACES.nodes))) seen.add(k[1]!);
      return [...seen].sort((a, b) => a - b);
    };
    expect(await levels()).toEqual([0, 1, 2, 3, 4, 5]);
    await db.close();

    store = await LedgerStore.open(storeOptions(dir, bank));
    expect(Buffer.from(store.head.root).equals(Buffer.from(root))).toBe(true);
    expect((await verifyStore(store)).problems).toEqual([]);
    const proof = await store.inclusionProof(3, size);
    expect(verifyInclusion((await store.leafHash(3))!, 3, size, proof, root)).toBe(true);
    await store.close();
    await db.open();
    expect(await levels()).toEqual([4, 5]);
    expect(await db.get(replicaNode(2))).toBeUndefined();
    expect(await db.get(replicaNode(LOWEST_STORED_LEVEL))).toBeDefined();
    expect([...(await db.get(keys.meta('format')))!]).toEqual([0, 0, 0, FORMAT_VERSION]);
    await db.close();
    store = await LedgerStore.open(storeOptions(dir, bank));
  });

  it('refuses another bank key', async () => {
    await store.close();
    await expect(LedgerStore.open(storeOptions(dir, newHolder()))).rejects.toMatchObject({ code: 'KEY_FILE_INVALID' });
    store = await reopenFresh();
  });
});

describe('a damaged database', () => {
  async function damage(f: (db: Level<Uint8Array, Uint8Array>) => Promise<void>): Promise<void> {
    await store.close();
    const db = new Level<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' });
    await f(db);
    await db.close();
  }
  async function openAndVerify(): Promise<string[]> {
    try {
      store = await LedgerStore.open(storeOptions(dir, bank));
    } catch (err) {
      expect(isMutualError(err, 'DB_CORRUPT')).toBe(true);
      store = await reopenFresh();
      return [(err as Error).message];
    }
    const report = await verifyStore(store);
    expect(report.ok).toBe(false);
    return report.problems;
  }

  let funded: { alice: Acct; bob: Acct } | undefined;
  beforeEach(async () => {
    const { alice, bob } = await fund();
    funded = { alice, bob };
    for (let i = 1; i <= 20; i++) await store.submitSigned([signed(store, alice, BigInt(i), { transfer: { payee: bob.id, amount: 10n } })]);
  });

  it('is detected when a balance was changed', async () => {
    const alice = await firstMember();
    await damage(async (db) => {
      const rec = (await db.get(keys.account(alice)))!;
      const copy = new Uint8Array(rec);
      const i = copy.length - 1;
      copy[i] = copy[i]! ^ 1;
      await db.put(keys.account(alice), copy);
    });
    expect((await openAndVerify()).join('\n')).toMatch(/account/);
  });

  it('is detected when an entry in the middle is missing or altered', async () => {
    await damage((db) => db.del(keys.entry(5)));
    expect((await openAndVerify()).join('\n')).toMatch(/entr(y|ies) 5/);
  });

  it('is detected when the last entry is missing', async () => {
    const size = store.size;
    await damage((db) => db.del(keys.entry(size - 1)));
    expect((await openAndVerify()).join('\n')).toMatch(new RegExp(`entry ${size - 1}`));
  });

  it('is detected when a stored Merkle node was altered', async () => {
    expect(store.size).toBeGreaterThanOrEqual(16);
    await damage(async (db) => {
      const node = Uint8Array.from((await db.get(keys.node(LOWEST_STORED_LEVEL, 0)))!);
      node[0] = node[0]! ^ 1;
      await db.put(keys.node(LOWEST_STORED_LEVEL, 0), node);
    });
    expect((await openAndVerify()).join('\n')).toMatch(/Merkle (tree )?node/);
  });

  it('is detected when the log ends a stored Merkle node and an entry under it was swapped', async () => {
    const { alice, bob } = funded!;
    const block = 2 ** LOWEST_STORED_LEVEL;
    for (let i = 21; store.size % block !== 0; i++) await store.submitSigned([signed(store, alice, BigInt(i), { transfer: { payee: bob.id, amount: 1n } })]);
    const size = store.size;
    const earlier = (await store.getEntry(size - 2))!;
    await damage((db) => db.put(keys.entry(size - 1), earlier));
    expect((await openAndVerify()).join('\n')).toMatch(/do not match their Merkle node/);
  });

  it('is reported by verify when a Merkle node below the lowest stored level is stored', async () => {
    await damage((db) => db.put(keys.node(0, 0), new Uint8Array(32)));
    expect((await openAndVerify()).join('\n')).toMatch(/level 0, index 0\) is stored/);
  });

  it('is detected when the latest head is missing', async () => {
    await damage((db) => db.del(keys.meta('head')));
    expect((await openAndVerify()).join('\n')).toMatch(/head/);
  });

  /** Reopening moves the write-ahead log into a table file; returns the table files. */
  async function tableFiles(): Promise<string[]> {
    await store.close();
    store = await LedgerStore.open(storeOptions(dir, bank));
    await store.close();
    const tables = readdirSync(dir).filter((f) => f.endsWith('.ldb'));
    expect(tables.length).toBeGreaterThan(0);
    return tables.map((t) => join(dir, t));
  }

  it('is detected when a table file has flipped bytes', async () => {
    const [file] = await tableFiles();
    const bytes = readFileSync(file!);
    for (let i = 64; i < bytes.length - 64; i += 97) bytes[i] = bytes[i]! ^ 0xff;
    writeFileSync(file!, bytes);
    expect((await openAndVerify()).length).toBeGreaterThan(0);
  });

  it('is detected when a table file is deleted', async () => {
    for (const f of await tableFiles()) unlinkSync(f);
    const err = await LedgerStore.open(storeOptions(dir, bank)).catch((e: unknown) => e);
    expect(isMutualError(err, 'DB_CORRUPT')).toBe(true);
    expect((err as Error).message).toMatch(/cannot open the database/);
    store = await reopenFresh();
  });

  async function firstMember(): Promise<Uint8Array> {
    for await (const [k] of store.db.iterator(keys.range(KEYSPACES.accounts))) return k.subarray(1);
    throw new Error('no account');
  }
});

/** A fresh store in a new directory, so that afterEach has something to close. */
async function reopenFresh(): Promise<LedgerStore> {
  cleanup();
  ({ dir, cleanup } = tempDir());
  return LedgerStore.open(storeOptions(dir, bank));
}

describe('conservation helper', () => {
  it('is exported for replay states', () => {
    expect(typeof conservationProblem).toBe('function');
  });
});
