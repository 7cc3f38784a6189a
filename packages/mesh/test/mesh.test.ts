import { afterEach, describe, expect, it } from 'vitest';
import { replicated, startBank, stopAll, waitFor } from './fixture.ts';
import { LIMITS } from '@mutual/interface';
import { signTreeHead } from '@mutual/ledger';
import { encodeForkProof } from '@mutual/store';
import { signBytes } from '../../ledger/test/fixture.ts';
import { HEAD_REFRESH_MS } from '../src/mesh.ts';

afterEach(stopAll);

describe('the mesh', () => {
  it('hears a busy bank by its gossip before it would ask for its head', () => {
    // A bank that commits gossips a head every HEAD_GOSSIP_INTERVAL_MS; one not heard from for
    // HEAD_REFRESH_MS is asked (GetHead). Were the gossip slower, every busy pair would ask too.
    expect(LIMITS.HEAD_GOSSIP_INTERVAL_MS).toBeLessThan(HEAD_REFRESH_MS);
  });

  it('connects banks of one bioregion after a verified hello, and hangs up on another bioregion', async () => {
    const a = await startBank();
    const b = await startBank({ bootstrap: a.mesh.addresses() });
    await waitFor('the hello', () => a.mesh.peers().some((p) => p.name !== undefined) && b.mesh.peers().some((p) => p.name !== undefined));
    const seen = b.mesh.peers()[0]!;
    expect(Buffer.from(seen.bank!).equals(Buffer.from(a.store.bank.key))).toBe(true);
    expect(seen.bioregion).toBe('Cascadia');
    expect(seen.peerId).toBe(a.mesh.peerId);

    const other = await startBank({ bioregion: 'Sonoran', bootstrap: a.mesh.addresses() });
    await waitFor('the other bioregion to be dropped', () => other.mesh.peers().length === 0 && a.mesh.peers().every((p) => p.peerId !== other.mesh.peerId), 10_000);
    expect((await a.mesh.banks()).map((x) => x.name)).not.toContain(other.store.bank.name);
  }, 30_000);

  it('gossips each new head to every bank, which replicates the log', async () => {
    const a = await startBank();
    const b = await startBank({ bootstrap: a.mesh.addresses() });
    const c = await startBank({ bootstrap: [...a.mesh.addresses(), ...b.mesh.addresses()] });
    await waitFor('all connected', () => a.mesh.peers().length === 2 && b.mesh.peers().length === 2 && c.mesh.peers().length === 2);
    await a.commit(3);
    await b.commit(2);
    for (const [at, of] of [[b, a], [c, a], [a, b], [c, b], [a, c], [b, c]] as const) {
      await waitFor(`a replica at size ${of.store.size}`, () => replicated(at, of));
    }
    const row = (await c.mesh.banks()).find((x) => x.name === a.store.bank.name)!;
    expect(row.head?.size).toBe(a.store.size);
    expect((await c.mesh.banks()).filter((x) => x.self)).toHaveLength(1);
  }, 30_000);

  it('asks a bank it has not heard from for its head, so a head gossip never carried still replicates', async () => {
    const a = await startBank({ gossip: false });
    const b = await startBank({ bootstrap: a.mesh.addresses() });
    await waitFor('the hello', () => a.mesh.peers().some((p) => p.name !== undefined) && b.mesh.peers().some((p) => p.name !== undefined));
    await waitFor('the replica from the hello', () => replicated(b, a));
    const before = a.store.size;
    // A commits and gossips nothing, pushes nothing: B learns of it only by asking.
    await a.commit(3);
    await waitFor('b replicates a', () => replicated(b, a), 3 * HEAD_REFRESH_MS);
    expect(b.replicas.status(a.store.bank.key)?.size).toBe(before + 3);
  }, 30_000);

  it('fetches the entries only of the banks it replicates, and of a bank as soon as it does', async () => {
    let federated = false;
    const a = await startBank({ replicates: () => federated });
    const b = await startBank({ bootstrap: a.mesh.addresses() });
    await waitFor('the hello', () => a.mesh.peers().some((p) => p.name !== undefined) && b.mesh.peers().some((p) => p.name !== undefined));
    await b.commit(3);
    const rowAtA = async () => (await a.mesh.banks()).find((x) => Buffer.from(x.bank).equals(Buffer.from(b.store.bank.key)));
    await waitFor("b's head at a", async () => (await rowAtA())?.head?.size === b.store.size);
    // a replicates b (as b replicates a, by default) only once it is told to.
    await waitFor('b replicates a', () => replicated(b, a));
    await new Promise((r) => setTimeout(r, 2_500));
    expect(await rowAtA()).toMatchObject({ replicating: false, replicated: 0, behind: b.store.size });
    // Nothing of b in a's replica store: one head of it, held by the mesh.
    expect(a.replicas.status(b.store.bank.key)).toBeUndefined();
    federated = true;
    a.mesh.scheduleCatchUp(b.store.bank.key);
    await waitFor('a replicates b', () => replicated(a, b));
    expect(await rowAtA()).toMatchObject({ replicating: true, behind: 0 });
  }, 30_000);

  it('forgets the oldest banks met that are neither connected nor replicated, past its bound', async () => {
    const replicated = new Set<string>();
    const a = await startBank({ maxKnownBanks: 2, replicates: (bank) => replicated.has(Buffer.from(bank).toString('hex')) });
    const names = async () => (await a.mesh.banks()).filter((x) => !x.self).map((x) => x.name).sort();
    const meet = async (opts: { replicated?: boolean } = {}) => {
      const x = await startBank({ bootstrap: a.mesh.addresses() });
      if (opts.replicated) replicated.add(Buffer.from(x.store.bank.key).toString('hex'));
      await waitFor('the hello', async () => (await a.mesh.bankName(x.store.bank.key)) === x.store.bank.name);
      return x;
    };
    const b = await meet({ replicated: true });
    const c = await meet();
    await c.stop();
    await waitFor('c gone', () => a.mesh.peers().every((p) => p.name !== c.store.bank.name));
    const d = await meet();
    // Three met, bound two: c (disconnected, not replicated) is forgotten; b (replicated) and d (connected) stay.
    expect(await a.mesh.bankName(c.store.bank.key)).toBeUndefined();
    expect(await a.mesh.bankName(b.store.bank.key)).toBe(b.store.bank.name);
    expect(await names()).toEqual([b.store.bank.name, d.store.bank.name].sort());
    // Met again by its next hello.
    await c.restart(a.mesh.addresses());
    await waitFor('c met again', async () => (await a.mesh.bankName(c.store.bank.key)) === c.store.bank.name);
  }, 30_000);

  it('follows a bank that commits often with a catch-up every two gossip intervals, not one per head', async () => {
    const a = await startBank();
    const b = await startBank({ bootstrap: a.mesh.addresses() });
    await waitFor('the hello', () => a.mesh.peers().some((p) => p.name !== undefined) && b.mesh.peers().some((p) => p.name !== undefined));
    await a.commit(1);
    await waitFor('b replicates a', () => replicated(b, a));
    // Count the entry ranges A serves of its own log from now on.
    let served = 0;
    const getEntries = a.store.getEntries.bind(a.store);
    a.store.getEntries = (from: number, to: number) => {
      served++;
      return getEntries(from, to);
    };
    // Six commits, each gossiped, within well under the interval.
    const started = Date.now();
    for (let i = 0; i < 6; i++) await a.commit(1);
    expect(Date.now() - started).toBeLessThan(1500);
    await waitFor('b replicates a', () => replicated(b, a), 10_000);
    expect(served).toBeGreaterThanOrEqual(1);
    expect(served).toBeLessThanOrEqual(2);
  }, 30_000);

  it('catches up after downtime from any peer holding a replica, with the origin bank offline', async () => {
    const a = await startBank();
    const b = await startBank({ bootstrap: a.mesh.addresses() });
    const c = await startBank({ bootstrap: [...a.mesh.addresses(), ...b.mesh.addresses()] });
    await a.commit(2);
    await waitFor('c replicates a', () => replicated(c, a));
    await c.stop();
    await a.commit(1200); // more than one sync chunk
    await waitFor('b replicates a', () => replicated(b, a), 30_000);
    const size = a.store.size;
    const key = Buffer.from(a.store.bank.key);
    await a.stop();
    await c.restart(b.mesh.addresses());
    const rowOfA = async () => (await c.mesh.banks()).find((x) => key.equals(Buffer.from(x.bank)));
    await waitFor('c catches up on a from b', async () => (await rowOfA())?.replicated === size, 30_000);
    expect(size).toBe(2 + 2 + 1200);
    expect((await rowOfA())?.behind).toBe(0);
    expect((await rowOfA())?.head?.size).toBe(size);
  }, 60_000);
});

describe('the counts the node exports as metrics', () => {
  it('are peers connected and verified, banks known and forked, and each replicated bank with its newest head', async () => {
    let federated = false;
    const a = await startBank({ replicates: () => federated });
    expect(a.mesh.peerCounts()).toEqual({ connected: 0, verified: 0 });
    expect(a.mesh.bankCounts()).toEqual({ known: 0, forked: 0 });
    expect(a.mesh.replication()).toEqual([]);

    const b = await startBank({ bootstrap: a.mesh.addresses() });
    await waitFor('the hello', () => a.mesh.peerCounts().verified === 1);
    expect(a.mesh.peerCounts()).toEqual({ connected: 1, verified: 1 });
    await b.commit(2);
    const keyB = Buffer.from(b.store.bank.key);
    await waitFor("b's head at a", async () => (await a.mesh.banks()).some((x) => keyB.equals(x.bank) && x.head?.size === b.store.size));
    // Known, not replicated: counted, but no replica row.
    expect(a.mesh.bankCounts()).toEqual({ known: 1, forked: 0 });
    expect(a.mesh.replication()).toEqual([]);

    federated = true;
    a.mesh.scheduleCatchUp(b.store.bank.key);
    await waitFor('a replicates b', () => replicated(a, b));
    const rows = () => a.mesh.replication().map((r) => ({ ...r, bank: Buffer.from(r.bank).toString('hex') }));
    expect(rows()).toEqual([{ bank: keyB.toString('hex'), replicated: b.store.size, head: b.store.size, forked: false }]);
    expect(a.mesh.bankCounts()).toEqual({ known: 1, forked: 0 });

    // b signs a second head of its size over another root: a holds it forked.
    const head = b.store.head;
    const other = signTreeHead(b.store.bank.key, head.size, new Uint8Array(32).fill(4), head.timeMs, (m) => signBytes(m, b.seed));
    expect(await a.replicas.recordFork(encodeForkProof(head, other, []))).toBe(true);
    expect(rows()).toEqual([{ bank: keyB.toString('hex'), replicated: b.store.size, head: b.store.size, forked: true }]);
    expect(a.mesh.bankCounts()).toEqual({ known: 1, forked: 1 });

    await b.stop();
    await waitFor('b disconnected', () => a.mesh.peerCounts().connected === 0);
    expect(a.mesh.peerCounts()).toEqual({ connected: 0, verified: 0 });
    expect(a.mesh.bankCounts()).toEqual({ known: 1, forked: 1 });
  }, 30_000);
});
