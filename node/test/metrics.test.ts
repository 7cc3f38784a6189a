// GET /metrics as an operator reads it: each value read at scrape time moves with what it
// measures (the commit queue, the agreement in force, the process, the mesh and each replica).
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { formatBankId } from '@mutual/codec';
import { LIMITS } from '@mutual/interface';
import { signTreeHead } from '@mutual/ledger';
import { Mesh } from '@mutual/mesh';
import { LedgerStore, ReplicaStore, type StoreOptions } from '@mutual/store';
import { keyPairFromSeed, signDetached, verify } from '@mutual/verifier';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { agreementBytes, signAgreement } from '../../packages/ledger/test/agreement-fixture.ts';
import { newHolder, openAccount, signed, storeOptions } from '../../packages/store/test/fixture.ts';
import { buildApp } from '../src/index.ts';
import { silentLogger, tempDir, waitFor } from './fixture.ts';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

async function scrape(app: FastifyInstance): Promise<string> {
  const r = await app.inject({ method: 'GET', url: '/metrics' });
  expect(r.statusCode).toBe(200);
  expect(r.headers['content-type']).toMatch(/^text\/plain/);
  return r.body;
}

/** The value of one series (`name` with exactly these labels), or undefined when it is absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const want = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(',');
  const series = want ? `${name}{${want}}` : name;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  }
  return undefined;
}

/** A store (with `extra` options) and its app, without a mesh, closed after the test. */
async function storeApp(extra: Partial<StoreOptions> = {}) {
  const { dir, cleanup } = tempDir();
  const bank = newHolder();
  const store = await LedgerStore.open(storeOptions(join(dir, 'ledger'), bank, extra));
  const app = await buildApp({ store, logger: silentLogger(), adminToken: randomBytes(16).toString('hex') });
  cleanups.push(async () => {
    await app.close();
    await store.close();
    cleanup();
  });
  return { store, app, bank };
}

describe('/metrics of the store and the process', () => {
  it('shows the commands waiting to be committed against the limit past which they are refused', async () => {
    // Signatures checked on a pool the test holds back: a submission waits in the queue until
    // its signatures are checked.
    let release = () => {};
    const held = new Promise<void>((r) => (release = r));
    const { store, app } = await storeApp({
      verifyBatch: async (items) => {
        await held;
        return Uint8Array.from(items, (x) => (verify(x.signature, x.message, x.publicKey) ? 1 : 0));
      },
    });
    const alice = await openAccount(store);
    const bob = await openAccount(store);
    let text = await scrape(app);
    expect(sample(text, 'mutual_queued_instructions')).toBe(0);
    expect(sample(text, 'mutual_queued_instructions_limit')).toBe(LIMITS.MAX_QUEUED_INSTRUCTIONS);

    // 64 signatures or more go to the pool (fewer are checked on the calling thread).
    const waiting = store.submitSigned(Array.from({ length: 100 }, (_, i) => signed(store, alice, BigInt(i + 1), { transfer: { payee: bob.id, amount: 1n } })));
    text = await scrape(app);
    expect(sample(text, 'mutual_queued_instructions')).toBe(100);
    release();
    await waiting;
    expect(sample(await scrape(app), 'mutual_queued_instructions')).toBe(0);
  });

  it('says whether a federation agreement is in force', async () => {
    const { store, app, bank } = await storeApp();
    expect(sample(await scrape(app), 'mutual_agreement_in_force')).toBe(0);
    const other = newHolder();
    const bytes = agreementBytes({ members: [{ key: bank.publicKey, name: 'Test Bank' }, { key: other.publicKey }] });
    const [r] = await store.submit([{ type: 'adoptAgreement', signed: signAgreement(bytes, [bank, other]) }]);
    expect(r?.code).toBe('APPLIED');
    expect(sample(await scrape(app), 'mutual_agreement_in_force')).toBe(1);
  });

  it("shows the node's version and the process's CPU, heap and event loop, in every app of the process", async () => {
    const a = await storeApp();
    const b = await storeApp();
    const text = await scrape(a.app);
    expect(sample(text, 'mutual_build_info', { version: '0.1.0', protocol: '1' })).toBe(1);
    for (const name of ['process_start_time_seconds', 'process_resident_memory_bytes', 'nodejs_heap_size_used_bytes']) expect(sample(text, name), name).toBeGreaterThan(0);
    // Measured from the first app of the process on: present, if not yet above zero.
    expect(sample(text, 'nodejs_eventloop_lag_p99_seconds')).toBeGreaterThanOrEqual(0);
    const cpu = sample(text, 'process_cpu_user_seconds_total')!;
    const until = performance.now() + 50;
    while (performance.now() < until) {
      // Burns CPU time for the counter to show.
    }
    const again = await scrape(b.app);
    expect(sample(again, 'process_cpu_user_seconds_total')).toBeGreaterThan(cpu);
    expect(sample(again, 'mutual_build_info', { version: '0.1.0', protocol: '1' })).toBe(1);
  });
});

/** A bank as bank-node.ts builds it: store, replicas, a mesh on 127.0.0.1 and the app. */
async function meshBank(name: string, bootstrap: readonly string[]) {
  const { dir, cleanup } = tempDir();
  const keys = keyPairFromSeed(new Uint8Array(randomBytes(32)));
  const sign = (m: Uint8Array) => signDetached(m, keys.secretKey);
  const store = await LedgerStore.open({ dir: join(dir, 'ledger'), bankKey: keys.publicKey, sign, verify, genesis: { name, bioregion: 'Cascadia' } });
  const replicas = await ReplicaStore.open(store.db, verify);
  const mesh = await Mesh.start({ ledger: store, replicas, verify, seed: keys.secretKey.subarray(0, 32), listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap });
  const unsubscribe = store.subscribe((e) => void mesh.publishHead(e.head));
  const app = await buildApp({ store, logger: silentLogger(), adminToken: randomBytes(16).toString('hex'), mesh });
  cleanups.push(async () => {
    await app.close();
    unsubscribe();
    await mesh.stop();
    await store.close();
    cleanup();
  });
  return { app, store, replicas, mesh, keys, sign, id: formatBankId(keys.publicKey) };
}

describe('/metrics of the mesh', () => {
  it('counts peers, banks known and forked, pushes, and each replica against the newest head known', async () => {
    const a = await meshBank('Alder', []);
    let text = await scrape(a.app);
    for (const name of ['mutual_peers_connected', 'mutual_peers_verified', 'mutual_banks_known', 'mutual_banks_forked']) expect(sample(text, name), name).toBe(0);
    expect(text).not.toMatch(/^mutual_replica_/m);

    const b = await meshBank('Birch', a.mesh.addresses());
    await waitFor('the hello at b', async () => sample(await scrape(b.app), 'mutual_peers_verified') === 1);
    text = await scrape(b.app);
    expect(sample(text, 'mutual_peers_connected')).toBe(1);
    expect(sample(text, 'mutual_banks_known')).toBe(1);

    // A commits: b's replica of it follows, up to the newest head b knows.
    await openAccount(a.store);
    const size = a.store.size;
    const ofA = { bank: a.id };
    await waitFor('b replicates a', async () => sample(await scrape(b.app), 'mutual_replica_size', ofA) === size);
    text = await scrape(b.app);
    expect(sample(text, 'mutual_replica_head_size', ofA)).toBe(size);
    expect(sample(text, 'mutual_replica_forked', ofA)).toBe(0);

    // A head of a's ahead of its log (no peer can serve its entries): the replica lags it.
    const ahead = signTreeHead(a.keys.publicKey, size + 5, new Uint8Array(32).fill(1), a.store.head.timeMs, a.sign);
    await b.replicas.recordHead(ahead);
    text = await scrape(b.app);
    expect(sample(text, 'mutual_replica_head_size', ofA)).toBe(size + 5);
    expect(sample(text, 'mutual_replica_size', ofA)).toBe(size);

    // A second head of that size over another root proves a fork.
    const contradicting = signTreeHead(a.keys.publicKey, size + 5, new Uint8Array(32).fill(2), a.store.head.timeMs, a.sign);
    await b.replicas.recordHead(contradicting);
    text = await scrape(b.app);
    expect(sample(text, 'mutual_banks_forked')).toBe(1);
    expect(sample(text, 'mutual_replica_forked', ofA)).toBe(1);

    // Pushes, a counter by outcome: one written to a connected bank, one left to replication.
    expect(text).toMatch(/^# TYPE mutual_pushes_total counter$/m);
    const pushes = (t: string) => ({ sent: sample(t, 'mutual_pushes_total', { outcome: 'sent' }), unsent: sample(t, 'mutual_pushes_total', { outcome: 'unsent' }) });
    expect(pushes(await scrape(a.app))).toEqual({ sent: 0, unsent: 0 });
    expect(await a.mesh.push(b.keys.publicKey, new Uint8Array([1, 2, 3]))).toBe(true);
    expect(await a.mesh.push(newHolder().publicKey, new Uint8Array([1, 2, 3]))).toBe(false);
    expect(pushes(await scrape(a.app))).toEqual({ sent: 1, unsent: 1 });
  }, 30_000);
});
