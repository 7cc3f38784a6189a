// Federation agreements over real meshes on 127.0.0.1: proposed and signed through the admin
// routes, gossiped, and adopted by every member without another step.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { formatBankId } from '@mutual/codec';
import { agreementMessage, encodeSignedAgreement } from '@mutual/ledger';
import { Mesh } from '@mutual/mesh';
import { pb } from '@mutual/protocol';
import { AgreementPool, LedgerStore, ReplicaStore, verifyStore } from '@mutual/store';
import { keyPairFromSeed, signDetached, verify } from '@mutual/verifier';
import { afterEach, describe, expect, it } from 'vitest';
import { Federation } from '../src/federation.ts';
import { buildApp } from '../src/index.ts';
import { silentLogger, tempDir, waitFor } from './fixture.ts';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

/** A bank wired as bank-node.ts wires it: store, replicas, mesh, federation and the app. */
async function meshBank(name: string, bootstrap: readonly string[], seed: Uint8Array = new Uint8Array(randomBytes(32))) {
  const { dir, cleanup } = tempDir();
  const keys = keyPairFromSeed(seed);
  const sign = (m: Uint8Array) => signDetached(m, keys.secretKey);
  const store = await LedgerStore.open({ dir: join(dir, 'ledger'), bankKey: keys.publicKey, sign, verify, genesis: { name, bioregion: 'Cascadia' } });
  const replicas = await ReplicaStore.open(store.db, verify);
  let federation: Federation | undefined;
  const received: Uint8Array[] = [];
  const pool = new AgreementPool(store.db, verify);
  const mesh = await Mesh.start({
    agreements: async () => (await pool.list()).map((x) => x.signed),
    ledger: store,
    replicas,
    verify,
    seed: keys.secretKey.subarray(0, 32),
    listen: ['/ip4/127.0.0.1/tcp/0'],
    bootstrap,
    onAgreement: (s) => {
      received.push(s);
      void federation?.receive(s);
    },
  });
  federation = new Federation({ store, pool, mesh, sign });
  const token = randomBytes(16).toString('hex');
  const app = await buildApp({ store, logger: silentLogger(), adminToken: token, mesh, federation });
  cleanups.push(async () => {
    await app.close();
    await mesh.stop();
    await store.close();
    cleanup();
  });
  const admin = { authorization: `Bearer ${token}` };
  return { app, store, keys, mesh, federation, admin, received, id: formatBankId(keys.publicKey) };
}
type Bank = Awaited<ReturnType<typeof meshBank>>;

const list = async (b: Bank) => (await b.app.inject({ method: 'GET', url: '/v1/agreements' })).json().agreements;
const kinds = async (b: Bank) => {
  const out: string[] = [];
  for (let i = 0; i < b.store.size; i++) out.push(pb.Entry.decode((await b.store.getEntry(i))!).kind ?? '');
  return out;
};

async function threeBanks(): Promise<[Bank, Bank, Bank]> {
  const a = await meshBank('Alder', []);
  const b = await meshBank('Birch', a.mesh.addresses());
  const c = await meshBank('Cedar', a.mesh.addresses());
  const known = async (x: Bank, y: Bank) => (await x.mesh.bankName(y.keys.publicKey)) !== undefined;
  await waitFor('the hellos', async () => (await known(a, b)) && (await known(a, c)) && (await known(b, a)) && (await known(c, a)));
  // Gossip reaches a peer only once this node's gossipsub sees it subscribed to the topic.
  const hears = (x: Bank, y: Bank) => x.mesh.peers().some((p) => p.bank && Buffer.from(p.bank).equals(Buffer.from(y.keys.publicKey)) && p.gossip.includes('agreements'));
  // B and C dial only A, which relays between them.
  await waitFor('agreement subscriptions', () => hears(a, b) && hears(a, c) && hears(b, a) && hears(c, a));
  return [a, b, c];
}

describe('federation agreements over the mesh', () => {
  it('a member that was away while an agreement was gossiped gets it from the pool of a peer it meets', async () => {
    const seedC = new Uint8Array(randomBytes(32));
    const keysC = keyPairFromSeed(seedC);
    const a = await meshBank('Alder', []);
    const b = await meshBank('Birch', a.mesh.addresses());
    await waitFor('a and b meet', async () => (await a.mesh.bankName(b.keys.publicKey)) !== undefined);
    // A and B sign an agreement naming C, which is not running.
    const bytes = pb.Agreement.encode({
      bioregion: 'Cascadia',
      members: [a, b].map((x) => ({ bank: x.keys.publicKey, name: x.store.bank.name })).concat([{ bank: keysC.publicKey, name: 'Cedar' }]),
      rates: [{ category: 'standard', rateMilli: 1000 }],
      clearingLimit: 5000,
      createdMs: Date.now(),
    }).finish();
    const sigs = [a, b].map((x) => ({ bank: x.keys.publicKey, signature: signDetached(agreementMessage(bytes), x.keys.secretKey) }));
    await a.federation.receive(encodeSignedAgreement(bytes, sigs));
    await waitFor('b has it', async () => (await list(b)).length === 1);

    const c = await meshBank('Cedar', a.mesh.addresses(), seedC);
    await waitFor('c learns it from a', async () => (await list(c)).length === 1);
    const [row] = await list(c);
    expect(row.members.map((m: { signed: boolean }) => m.signed)).toEqual([true, true, false]);
    const signed = await c.app.inject({ method: 'POST', url: `/v1/agreements/${row.id}/sign`, headers: c.admin });
    expect(signed.json().agreement).toMatchObject({ complete: true, inForce: true });
    for (const x of [a, b]) await waitFor(`${x.store.bank.name} adopts`, () => x.store.agreementInForce !== undefined);
  }, 60_000);

  it('A proposes, B and C sign through the routes, and all three adopt it', async () => {
    const [a, b, c] = await threeBanks();
    const unknown = await a.app.inject({
      method: 'POST', url: '/v1/agreements', headers: a.admin,
      payload: { members: [b.id, formatBankId(new Uint8Array(32).fill(3))], clearingLimit: '1000' },
    });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().error.code).toBe('UNKNOWN_BANK');
    expect((await a.app.inject({ method: 'POST', url: '/v1/agreements', payload: { members: [b.id], clearingLimit: '1' } })).statusCode).toBe(401);

    const proposed = await a.app.inject({
      method: 'POST', url: '/v1/agreements', headers: a.admin,
      payload: { members: [a.id, b.id, c.id], clearingLimit: '1000', rates: [{ category: 'standard', rate: '1' }, { category: 'care', rate: '1.25' }] },
    });
    expect(proposed.statusCode).toBe(201);
    const { id, agreement } = proposed.json();
    expect(agreement).toMatchObject({
      id, bioregion: 'Cascadia', clearingLimit: '1000', previous: null, complete: false, adopted: false, inForce: false,
      members: [{ bank: a.id, name: 'Alder', signed: true }, { bank: b.id, name: 'Birch', signed: false }, { bank: c.id, name: 'Cedar', signed: false }],
      rates: [{ category: 'standard', rate: '1' }, { category: 'care', rate: '1.25' }],
    });

    await waitFor('b and c see the proposal', async () => (await list(b)).length === 1 && (await list(c)).length === 1);
    const signedB = await b.app.inject({ method: 'POST', url: `/v1/agreements/${id}/sign`, headers: b.admin });
    expect(signedB.statusCode).toBe(200);
    expect(signedB.json().agreement.complete).toBe(false);
    await waitFor('c sees b\'s signature', async () => (await list(c))[0].members[1].signed === true);
    const signedC = await c.app.inject({ method: 'POST', url: `/v1/agreements/${id}/sign`, headers: c.admin });
    expect(signedC.json().agreement).toMatchObject({ complete: true, adopted: true, inForce: true });

    for (const x of [a, b, c]) {
      // In force as soon as applied; in the readable log once its commit is durable.
      await waitFor(`${x.store.bank.name} adopts`, async () => x.store.agreementInForce !== undefined && (await kinds(x)).at(-2) === 'agreementAdopted');
      expect(Buffer.from(x.store.agreementInForce!.id).toString('hex')).toBe(id);
      expect(x.store.agreementInForce!.clearingLimit).toBe(1_000_000n);
      expect((await kinds(x)).slice(-2)).toEqual(['agreementAdopted', 'rateSchedule']);
      expect([...x.store.rates]).toEqual([['standard', 1000], ['care', 1250]]);
      expect((await list(x))[0]).toMatchObject({ complete: true, adopted: true, inForce: true });
      expect((await verifyStore(x.store)).ok).toBe(true);
    }
    // Signing again changes nothing.
    const size = a.store.size;
    expect((await a.app.inject({ method: 'POST', url: `/v1/agreements/${id}/sign`, headers: a.admin })).statusCode).toBe(200);
    expect(a.store.size).toBe(size);
  }, 40_000);

  it('a bank joins by an amendment signed by the members and itself, and adopts it as its first agreement', async () => {
    const [a, b, c] = await threeBanks();
    const founding = await a.federation.propose({ members: [b.keys.publicKey], clearingLimit: 1_000n });
    await waitFor('b sees the founding proposal', async () => (await list(b)).length === 1);
    await b.federation.signAgreement(founding.id);
    for (const x of [a, b]) await waitFor(`${x.store.bank.name} adopts the founding agreement`, () => x.store.agreementInForce !== undefined);

    const amendment = await a.federation.propose({ members: [b.keys.publicKey, c.keys.publicKey], clearingLimit: 2_000n, amends: founding.id });
    await waitFor('b and c see the amendment', async () => (await list(b)).length === 2 && (await list(c)).length === 2);
    await b.federation.signAgreement(amendment.id);
    await waitFor('c sees b\'s signature', async () => (await list(c)).find((r: { id: string }) => r.id === Buffer.from(amendment.id).toString('hex'))?.members[1].signed === true);
    await c.federation.signAgreement(amendment.id);
    const amendmentId = Buffer.from(amendment.id).toString('hex');
    for (const x of [a, b, c]) {
      await waitFor(`${x.store.bank.name} adopts the amendment`, async () => x.store.agreementInForce !== undefined && Buffer.from(x.store.agreementInForce.id).toString('hex') === amendmentId && (await kinds(x)).at(-2) === 'agreementAdopted');
      expect(x.store.agreementInForce!.members).toHaveLength(3);
      expect(x.store.agreementInForce!.clearingLimit).toBe(2_000n);
      expect((await verifyStore(x.store)).ok).toBe(true);
    }
    // The joining bank adopted one agreement, the amendment; the founding one was never its own.
    const rows = async (x: Bank) => Object.fromEntries((await list(x)).map((r: { id: string; adopted: boolean; inForce: boolean }) => [r.id, [r.adopted, r.inForce]]));
    const foundingId = Buffer.from(founding.id).toString('hex');
    expect(await rows(c)).toEqual({ [foundingId]: [false, false], [amendmentId]: [true, true] });
    expect(await rows(a)).toEqual({ [foundingId]: [true, false], [amendmentId]: [true, true] });
    expect((await kinds(c)).filter((k) => k === 'agreementAdopted')).toHaveLength(1);
    expect((await kinds(a)).filter((k) => k === 'agreementAdopted')).toHaveLength(2);
  }, 60_000);

  it('rejects a gossiped agreement with a forged signature: nothing changes', async () => {
    const [a, b, c] = await threeBanks();
    // B (a member) makes an agreement of the three, signs it as itself and forges C's and A's signatures.
    const bytes = pb.Agreement.encode({
      bioregion: 'Cascadia',
      members: [a, b, c].map((x) => ({ bank: x.keys.publicKey, name: x.store.bank.name })),
      rates: [{ category: 'standard', rateMilli: 1000 }],
      clearingLimit: 5,
    }).finish();
    const msg = agreementMessage(bytes);
    const forged = encodeSignedAgreement(bytes, [
      { bank: b.keys.publicKey, signature: signDetached(msg, b.keys.secretKey) },
      { bank: a.keys.publicKey, signature: signDetached(msg, b.keys.secretKey) },
      { bank: c.keys.publicKey, signature: signDetached(msg, b.keys.secretKey) },
    ]);
    const before = [a.store.size, c.store.size];
    await b.mesh.publishAgreement(forged);
    // A valid proposal published afterwards (by A, which has met both) is delivered: the forged one, before it, never was.
    const honest = await a.federation.propose({ members: [b.keys.publicKey, c.keys.publicKey], clearingLimit: 1n });
    await waitFor('the honest proposal reaches b and c', async () => (await list(b)).length === 1 && (await list(c)).length === 1);
    for (const x of [a, c]) {
      expect((await list(x)).map((r: { id: string }) => r.id)).toEqual([Buffer.from(honest.id).toString('hex')]);
      expect(x.received.some((r) => Buffer.from(r).equals(Buffer.from(forged)))).toBe(false);
      expect(x.store.agreementInForce).toBeUndefined();
    }
    expect([a.store.size, c.store.size]).toEqual(before);
  }, 40_000);
});
