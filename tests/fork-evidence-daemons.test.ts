// Three real daemons of one bioregion learn that a bank forked its log from a fork proof alone.
// The test reads a bank's key from its data directory and signs a head that contradicts its
// log; a small mesh node in this process, connected to one daemon only, then publishes a
// ForkProof on the evidence topic (or the forged head on the heads topic), so that the other
// daemons can learn of the fork only through gossip between the daemons.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatBankId, fromBase64, toBase64 } from '@mutual/codec';
import { openTreeHead, signTreeHead, type SignedHead } from '@mutual/ledger';
import { forkPath, Frontier, leafHash } from '@mutual/merkle';
import { Mesh } from '@mutual/mesh';
import { checkForkProof, encodeForkProof, LedgerStore, ReplicaStore } from '@mutual/store';
import { keyPairFromSeed, signDetached, verify } from '@mutual/verifier';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bankDirs, FEDERATE, killAll, startBioregion, waitFederated, waitFor, type MeshDaemon } from './support/mesh-daemon.ts';

interface BankRow {
  id: string;
  replicated: number;
  behind: number;
  head: { size: number } | null;
  forked: boolean;
  forkProof?: string;
}

let tmp: string;
const daemons: Record<'a' | 'b' | 'c', MeshDaemon> = {} as never;
const cleanups: Array<() => Promise<void>> = [];

async function get<T>(d: MeshDaemon, path: string): Promise<T> {
  const r = await fetch(`${d.url}${path}`);
  if (r.status !== 200) throw new Error(`GET ${path}: ${r.status} ${await r.text()}`);
  return (await r.json()) as T;
}
const banks = async (d: MeshDaemon) => (await get<{ banks: BankRow[] }>(d, '/v1/banks')).banks;
const rowOf = async (at: MeshDaemon, of: MeshDaemon) => (await banks(at)).find((r) => r.id === of.bank);

/** The latest signed head of a daemon's bank, checked. */
async function headOf(d: MeshDaemon): Promise<SignedHead> {
  const h = openTreeHead(fromBase64((await get<{ signed: string }>(d, '/v1/head')).signed), verify);
  if (!h) throw new Error('the head does not verify');
  return h;
}

/** Signs a tree head as daemon `key` of this bioregion, with its key read from its data directory. */
function signAs(key: 'a' | 'b' | 'c', size: number, root: Uint8Array): SignedHead {
  const file = JSON.parse(readFileSync(join(bankDirs(tmp, key).data, 'bank.key'), 'utf8')) as { seed: string };
  const keys = keyPairFromSeed(fromBase64(file.seed, 32));
  return signTreeHead(keys.publicKey, size, root, BigInt(Date.now()), (m) => signDetached(m, keys.secretKey));
}

/** A mesh node of this process, of the same bioregion, connected to `to` only. */
async function injector(to: MeshDaemon): Promise<Mesh> {
  const dir = mkdtempSync(join(tmpdir(), 'mutual-injector-'));
  const seed = new Uint8Array(32).map(() => Math.floor(Math.random() * 256));
  const keys = keyPairFromSeed(seed);
  const ledger = await LedgerStore.open({ dir, bankKey: keys.publicKey, sign: (m) => signDetached(m, keys.secretKey), verify, genesis: { name: 'Injector', bioregion: 'test' } });
  const replicas = await ReplicaStore.open(ledger.db, verify);
  const mesh = await Mesh.start({ ledger, replicas, verify, seed, listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: to.listen });
  cleanups.push(async () => {
    await mesh.stop();
    await ledger.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await waitFor(`the injector hears ${to.bank} on the evidence and heads topics`, async () =>
    mesh.peers().some((p) => p.peerId === to.peerId && p.gossip.includes('evidence') && p.gossip.includes('heads')),
  );
  return mesh;
}

/** Waits until every daemon in `at` holds the whole log of `of`, and returns its size. */
async function replicatedEverywhere(of: MeshDaemon, at: MeshDaemon[]): Promise<number> {
  const size = (await headOf(of)).size;
  for (const d of at) {
    await waitFor(`${d.bank} replicates ${of.bank}`, async () => {
      const r = await rowOf(d, of);
      return r !== undefined && r.replicated === size && r.behind === 0;
    });
  }
  return size;
}

/** Waits until `at` shows `of` forked, with a proof that verifies, and returns how long it took. */
async function shownForked(at: MeshDaemon, of: MeshDaemon, since: number): Promise<number> {
  const row = await waitFor(`${at.bank} shows ${of.bank} forked`, async () => {
    const r = await rowOf(at, of);
    return r?.forked ? r : undefined;
  }, 10_000);
  const evidence = checkForkProof(fromBase64(row.forkProof!), verify);
  expect(evidence && formatBankId(evidence.bank)).toBe(of.bank);
  return Date.now() - since;
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'mutual-fork-daemons-'));
  // Federated: each replicates the two others' logs.
  Object.assign(daemons, await startBioregion(tmp, FEDERATE));
  await waitFederated(Object.values(daemons));
}, 120_000);

afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
  await killAll();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('fork evidence between three daemons', () => {
  it('a proof over heads of different sizes, gossiped to A only, marks B forked at A and C', async () => {
    const { a, b, c } = daemons;
    await replicatedEverywhere(b, [a, c]);
    // B's real head of size m, and a head of size m + 1 over a log that differs at entry m - 1.
    const real = await headOf(b);
    const m = real.size;
    const entries = (await get<{ entries: string[] }>(b, `/v1/entries?from=0&limit=${m}`)).entries.map((e) => fromBase64(e));
    const other = [...entries.slice(0, m - 1), new TextEncoder().encode('another entry'), new TextEncoder().encode('one more')];
    const nodes = new Map<string, Uint8Array>();
    const frontier = new Frontier();
    for (const e of other) for (const n of frontier.append(leafHash(e))) nodes.set(`${n.level}/${n.index}`, n.hash);
    const forged = signAs('b', m + 1, frontier.root());
    const path = await forkPath((level, index) => nodes.get(`${level}/${index}`)!, m, m + 1);
    const proof = encodeForkProof(real, forged, path);
    expect(checkForkProof(proof, verify)).toBeDefined();

    const mesh = await injector(a);
    const t0 = Date.now();
    await mesh.publishEvidence(proof);
    const ms = Math.max(await shownForked(a, b, t0), await shownForked(c, b, t0));
    expect(ms).toBeLessThan(5_000);
    // The forked bank itself is not told it is forked by its own node.
    expect((await rowOf(b, b))?.forked).toBe(false);
  }, 60_000);

  it('a forged head of C on the heads topic is detected by A and spread as evidence to B', async () => {
    const { a, b, c } = daemons;
    const size = await replicatedEverywhere(c, [a, b]);
    const mesh = await injector(a);
    const t0 = Date.now();
    await mesh.publishHead(signAs('c', size, new Uint8Array(32).fill(0x66)));
    const ms = Math.max(await shownForked(a, c, t0), await shownForked(b, c, t0));
    expect(ms).toBeLessThan(5_000);
    expect(a.output()).toContain('a bank signed two inconsistent tree heads');
  }, 60_000);

  it('a proof over two heads of one size, gossiped to C only, marks A forked at C and B', async () => {
    const { a, b, c } = daemons;
    await replicatedEverywhere(a, [b, c]);
    const real = await headOf(a);
    const proof = encodeForkProof(real, signAs('a', real.size, new Uint8Array(32).fill(0x77)), []);
    const mesh = await injector(c);
    const t0 = Date.now();
    await mesh.publishEvidence(proof);
    const ms = Math.max(await shownForked(c, a, t0), await shownForked(b, a, t0));
    expect(ms).toBeLessThan(5_000);
    // The proof in GET /v1/banks is the one gossiped, byte for byte.
    expect((await rowOf(b, a))?.forkProof).toBe(toBase64(proof));
  }, 60_000);
});
