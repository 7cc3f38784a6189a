// A commit whose write fails (a full disk, an I/O error): nothing of it is acknowledged or
// shown, the store refuses further work and says so once, and the data directory reopens
// with the state of the last durable commit.
import { isMutualError } from '@mutual/interface';
import { AccountKind } from '@mutual/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { LedgerStore } from '../src/index.ts';
import { DAY, failWrites, newHolder, openAccount, signed, storeOptions, tempDir } from './fixture.ts';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

describe('a commit whose write fails', () => {
  it('is not acknowledged nor shown; the store refuses more work and reopens with the last durable state', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const bank = newHolder();
    const fatal: Error[] = [];
    let store = await LedgerStore.open(storeOptions(dir, bank, { onFatal: (err) => void fatal.push(err) }));
    const coop = await openAccount(store, AccountKind.cooperative);
    const alice = await openAccount(store);
    const [first] = await store.submitSigned([signed(store, coop, 1n, { labor: { worker: alice.id, day: DAY, milliHours: 8000n, category: 'standard' } })]);
    expect(first?.code).toBe('APPLIED');
    const before = { size: store.size, head: store.head.bytes, totals: { ...store.totals }, rates: store.rates, alice: (await store.getAccount(alice.id))!.balance };
    expect(before.totals.issued).toBe(8000n);

    failWrites(store.db);
    const labor = signed(store, coop, 2n, { labor: { worker: alice.id, day: DAY - 1, milliHours: 5000n, category: 'standard' } });
    const failed = await store.submitSigned([labor]).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(isMutualError(failed) && failed.code).toBe('STORE_CLOSED');
    expect(fatal).toHaveLength(1);
    expect(fatal[0]!.message).toMatch(/No space left on device/);

    // Nothing of the failed commit is visible: not its entry, its head, its totals nor its balance.
    expect(store.size).toBe(before.size);
    expect(Buffer.from(store.head.bytes).equals(Buffer.from(before.head))).toBe(true);
    expect(store.totals).toEqual(before.totals);
    expect(store.rates).toEqual(before.rates);
    expect((await store.getAccount(alice.id))!.balance).toBe(before.alice);
    expect(await store.getEntry(before.size)).toBeUndefined();

    // Later work is refused, without a second fatal report.
    await expect(store.submit([{ type: 'openAccount', holderKey: newHolder().publicKey, kind: AccountKind.member, label: '' }])).rejects.toMatchObject({ code: 'STORE_CLOSED' });
    expect(fatal).toHaveLength(1);
    await store.close();

    // Reopened: the last durable commit, and the same signed instruction applies now.
    store = await LedgerStore.open(storeOptions(dir, bank));
    try {
      expect(store.size).toBe(before.size);
      expect(store.totals).toEqual(before.totals);
      expect((await store.getAccount(alice.id))!.balance).toBe(before.alice);
      const [again] = await store.submitSigned([labor]);
      expect(again?.code).toBe('APPLIED');
      expect(store.totals.issued).toBe(13_000n);
      expect((await store.getAccount(alice.id))!.balance).toBe(before.alice + 5000n);
    } finally {
      await store.close();
    }
  });

  it('that cannot be made (the head cannot be signed) is refused the same way, and nothing waits forever', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const bank = newHolder();
    const fatal: Error[] = [];
    let failSigning = false;
    const options = storeOptions(dir, bank, { onFatal: (err) => void fatal.push(err) });
    const sign = options.sign;
    let store = await LedgerStore.open({
      ...options,
      sign: (m) => {
        if (failSigning) throw new Error('the signing key is not available');
        return sign(m);
      },
    });
    const alice = await openAccount(store);
    const size = store.size;
    const head = store.head.bytes;
    failSigning = true;
    const open = () => store.submit([{ type: 'openAccount', holderKey: newHolder().publicKey, kind: AccountKind.member, label: '' }]);
    // Two submissions: the one being committed, and one queued behind it.
    const answers = await Promise.allSettled([open(), open()]);
    for (const a of answers) expect(a).toMatchObject({ status: 'rejected', reason: { code: 'STORE_CLOSED' } });
    expect(fatal).toHaveLength(1);
    expect(fatal[0]!.message).toMatch(/signing key is not available/);
    expect(store.size).toBe(size);
    expect(Buffer.from(store.head.bytes).equals(Buffer.from(head))).toBe(true);
    expect(await store.getEntry(size)).toBeUndefined();
    await expect(open()).rejects.toMatchObject({ code: 'STORE_CLOSED' });
    await store.close();
    store = await LedgerStore.open(storeOptions(dir, bank));
    try {
      expect(store.size).toBe(size);
      expect(await store.getAccount(alice.id)).toBeDefined();
      expect((await open())[0]!.code).toBe('APPLIED');
    } finally {
      await store.close();
    }
  });
});
