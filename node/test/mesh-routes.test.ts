// GET /v1/peers and GET /v1/banks: with no mesh, with a mesh view of chosen rows (every
// field of the shapes in docs/RPC.md), and with two real meshes on 127.0.0.1; PUT
// /v1/peers/blocked on a mesh view.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { formatBankId } from '@mutual/codec';
import type { BankInfo, PeerInfo } from '@mutual/mesh';
import { Mesh } from '@mutual/mesh';
import { LedgerStore, ReplicaStore } from '@mutual/store';
import { keyPairFromSeed, signDetached, verify } from '@mutual/verifier';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../src/index.ts';
import { openAccount, silentLogger, tempDir, testBank, waitFor, type TestBank } from './fixture.ts';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

async function bank(extra: Parameters<typeof testBank>[0] = {}): Promise<TestBank> {
  const t = await testBank(extra);
  cleanups.push(() => t.close());
  return t;
}

const get = async (t: { app: TestBank['app'] }, url: string) => {
  const r = await t.app.inject({ method: 'GET', url });
  expect(r.statusCode).toBe(200);
  return r.json();
};

describe('GET /v1/peers and /v1/banks without a mesh', () => {
  it('shows no peers, and this bank alone with its own log', async () => {
    const t = await bank();
    await openAccount(t);
    expect(await get(t, '/v1/peers')).toEqual({ peers: [] });
    const head = await get(t, '/v1/head');
    expect(await get(t, '/v1/banks')).toEqual({
      banks: [{ id: formatBankId(t.bank.publicKey), name: 'Test Bank', bioregion: 'Cascadia', self: true, head, replicated: t.store.size, behind: 0, replicating: true, forked: false }],
    });
  });
});

describe('GET /v1/peers and /v1/banks from a mesh view', () => {
  it('writes bank keys as IDs, omits what a pending hello has not told, and a missing head as null', async () => {
    const other = keyPairFromSeed(new Uint8Array(32).fill(9)).publicKey;
    const peers: PeerInfo[] = [
      { peerId: '12D3KooWDone', bank: other, name: 'Birch', bioregion: 'Cascadia', addresses: ['/ip4/127.0.0.1/tcp/4001'], latencyMs: 4, gossip: ['heads', 'agreements'] },
      { peerId: '12D3KooWPending', addresses: ['/ip4/127.0.0.1/tcp/4002', '/ip4/127.0.0.1/tcp/4003'], gossip: [] },
    ];
    let banks: BankInfo[] = [];
    const t = await bank({ mesh: { peers: () => peers, banks: async () => banks } });
    banks = [
      { bank: t.bank.publicKey, name: 'Test Bank', bioregion: 'Cascadia', self: true, head: t.store.head, replicated: t.store.size, behind: 0, replicating: true },
      { bank: other, name: 'Birch', bioregion: 'Cascadia', self: false, head: undefined, replicated: 0, behind: 0, replicating: true },
      { bank: other, name: 'Birch', bioregion: 'Cascadia', self: false, head: undefined, replicated: 0, behind: 3, replicating: false, forkProof: new Uint8Array([1, 2, 3]) },
    ];
    expect(await get(t, '/v1/peers')).toEqual({
      peers: [
        { peerId: '12D3KooWDone', bank: formatBankId(other), name: 'Birch', bioregion: 'Cascadia', addresses: ['/ip4/127.0.0.1/tcp/4001'], latencyMs: 4, gossip: ['heads', 'agreements'] },
        { peerId: '12D3KooWPending', addresses: ['/ip4/127.0.0.1/tcp/4002', '/ip4/127.0.0.1/tcp/4003'], gossip: [] },
      ],
    });
    const body = await get(t, '/v1/banks');
    expect(body.banks[0]).toEqual({ id: formatBankId(t.bank.publicKey), name: 'Test Bank', bioregion: 'Cascadia', self: true, head: await get(t, '/v1/head'), replicated: t.store.size, behind: 0, replicating: true, forked: false });
    expect(body.banks[1]).toEqual({ id: formatBankId(other), name: 'Birch', bioregion: 'Cascadia', self: false, head: null, replicated: 0, behind: 0, replicating: true, forked: false });
    expect(body.banks[2]).toEqual({ id: formatBankId(other), name: 'Birch', bioregion: 'Cascadia', self: false, head: null, replicated: 0, behind: 3, replicating: false, forked: true, forkProof: 'AQID' });
  });
});

/** A bank as bank-node.ts builds it: store, replicas, a mesh on 127.0.0.1 and the app. */
async function meshBank(name: string, bootstrap: readonly string[]) {
  const { dir, cleanup } = tempDir();
  const keys = keyPairFromSeed(new Uint8Array(randomBytes(32)));
  const store = await LedgerStore.open({
    dir: join(dir, 'ledger'),
    bankKey: keys.publicKey,
    sign: (m) => signDetached(m, keys.secretKey),
    verify,
    genesis: { name, bioregion: 'Cascadia' },
  });
  const replicas = await ReplicaStore.open(store.db, verify);
  const mesh = await Mesh.start({ ledger: store, replicas, verify, seed: keys.secretKey.subarray(0, 32), listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap });
  const unsubscribe = store.subscribe((e) => void mesh.publishHead(e.head));
  const token = randomBytes(16).toString('hex');
  const app = await buildApp({ store, logger: silentLogger(), adminToken: token, mesh });
  const t = { app, store, bank: keys, token, dir, close: async () => {} } satisfies TestBank;
  cleanups.push(async () => {
    await app.close();
    unsubscribe();
    await mesh.stop();
    await store.close();
    cleanup();
  });
  return { ...t, mesh };
}

describe('PUT /v1/peers/blocked', () => {
  it('compares bank IDs by their canonical form: an ID in upper case names the bank already blocked', async () => {
    const blocked = new Map<string, Uint8Array>();
    const calls: string[] = [];
    const mesh = {
      peers: () => [],
      banks: async () => [],
      block(b: Uint8Array) {
        calls.push(`block ${formatBankId(b)}`);
        blocked.set(formatBankId(b), b);
      },
      unblock(b: Uint8Array) {
        calls.push(`unblock ${formatBankId(b)}`);
        blocked.delete(formatBankId(b));
      },
      blocked: () => [...blocked.values()],
    };
    const t = await bank({ mesh });
    const put = async (banks: string[]) => {
      const r = await t.app.inject({ method: 'PUT', url: '/v1/peers/blocked', headers: { authorization: `Bearer ${t.token}` }, payload: { banks } });
      expect(r.statusCode).toBe(200);
      return r.json();
    };
    const a = formatBankId(keyPairFromSeed(new Uint8Array(32).fill(1)).publicKey);
    const b = formatBankId(keyPairFromSeed(new Uint8Array(32).fill(2)).publicKey);

    expect(await put([a.toUpperCase()])).toEqual({ banks: [a] });
    expect(calls.splice(0)).toEqual([`block ${a}`]);
    // The same list again: no change, so no call (not an unblock, which would redial it).
    expect(await put([a.toUpperCase()])).toEqual({ banks: [a] });
    expect(calls.splice(0)).toEqual([]);
    // The same bank written either way, twice: still one bank.
    expect(await put([a, a.toUpperCase()])).toEqual({ banks: [a] });
    expect(calls.splice(0)).toEqual([]);
    expect(await put([a.toUpperCase(), b.toUpperCase()])).toEqual({ banks: [a, b] });
    expect(calls.splice(0)).toEqual([`block ${b}`]);
    expect(await put([b])).toEqual({ banks: [b] });
    expect(calls.splice(0)).toEqual([`unblock ${a}`]);
  });
});

describe('GET /v1/peers and /v1/banks with real meshes', () => {
  it("show the other bank once its hello has verified, and its log replicated after a commit", async () => {
    const a = await meshBank('Alder', []);
    const b = await meshBank('Birch', a.mesh.addresses());
    const idA = formatBankId(a.bank.publicKey);
    const idB = formatBankId(b.bank.publicKey);
    await waitFor('the hellos', async () => (await get(a, '/v1/peers')).peers.some((p: { bank?: string }) => p.bank === idB) && (await get(b, '/v1/peers')).peers.some((p: { bank?: string }) => p.bank === idA));
    const [peer] = (await get(b, '/v1/peers')).peers;
    expect(peer).toMatchObject({ peerId: a.mesh.peerId, bank: idA, name: 'Alder', bioregion: 'Cascadia' });
    expect(peer.addresses.length).toBeGreaterThan(0);
    expect(peer.addresses.every((x: string) => x.startsWith('/ip4/127.0.0.1/tcp/'))).toBe(true);

    await openAccount(a);
    await openAccount(a);
    const headA = await get(a, '/v1/head');
    const size = a.store.size;
    expect(headA.size).toBe(size);
    const rowOfA = async () => (await get(b, '/v1/banks')).banks.find((x: { id: string }) => x.id === idA);
    await waitFor('b replicates a', async () => (await rowOfA())?.replicated === size);
    expect(await rowOfA()).toEqual({ id: idA, name: 'Alder', bioregion: 'Cascadia', self: false, head: headA, replicated: size, behind: 0, replicating: true, forked: false });
    const self = (await get(b, '/v1/banks')).banks.filter((x: { self: boolean }) => x.self);
    expect(self).toEqual([expect.objectContaining({ id: idB, name: 'Birch', replicated: b.store.size, behind: 0 })]);
  }, 30_000);
});
