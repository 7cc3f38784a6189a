import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TopicValidatorResult } from '@libp2p/gossipsub';
import { LIMITS } from '@mutual/interface';
import { signTreeHead, type SignedHead } from '@mutual/ledger';
import { pb, u64 } from '@mutual/protocol';
import { checkForkProof, encodeForkProof, LedgerStore } from '@mutual/store';
import { verify } from '@mutual/verifier';
import { multiaddr } from '@multiformats/multiaddr';
import { afterEach, describe, expect, it } from 'vitest';
import { newHolder, signBytes } from '../../ledger/test/fixture.ts';
import { openAccount, storeOptions } from '../../store/test/fixture.ts';
import { catchUp } from '../src/catch-up.ts';
import { answerSync } from '../src/sync-server.ts';
import { topics } from '../src/index.ts';
import { helloPeer, rawPeer, stopRawPeers, type HelloPeer } from './raw-peer.ts';
import { replicated, startBank, stopAll, waitFor, type TestBank } from './fixture.ts';

const dirs: string[] = [];
const stores: LedgerStore[] = [];
afterEach(async () => {
  await stopRawPeers();
  await Promise.allSettled(stores.splice(0).map((s) => s.close()));
  await stopAll();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Signs a head of `bank` over any root, with its key, as a bank that forks would. */
function forge(bank: TestBank, size: number, root: Uint8Array): SignedHead {
  return signTreeHead(bank.store.bank.key, size, root, 1n, (m) => signBytes(m, bank.seed));
}

/** A second log under `bank`'s key, with another genesis: a fork from entry 0 on. */
async function forkedLog(bank: TestBank, accounts: number): Promise<LedgerStore> {
  const dir = mkdtempSync(join(tmpdir(), 'mutual-fork-'));
  dirs.push(dir);
  const store = await LedgerStore.open(storeOptions(dir, { seed: bank.seed, publicKey: bank.store.bank.key }, { verify, genesis: { name: 'Other history', bioregion: bank.bioregion } }));
  stores.push(store);
  for (let i = 0; i < accounts; i++) await openAccount(store);
  return store;
}

async function snapshot(bank: TestBank): Promise<string> {
  return JSON.stringify((await bank.mesh.banks()).map((b) => [Buffer.from(b.bank).toString('hex'), b.replicated, b.head?.size, b.forkProof !== undefined]));
}

const unsigned = (data: Uint8Array) => ({ type: 'unsigned' as const, topic: 't', data });

/** Whether `at` has met `of` (holds a replica of it). */
async function knows(at: TestBank, of: TestBank): Promise<boolean> {
  return (await at.mesh.banks()).some((x) => Buffer.from(x.bank).equals(Buffer.from(of.store.bank.key)));
}

/** Banks a and c, a replicating c's log of one commit, and a valid fork proof against c. */
async function replicatedPair(): Promise<{ a: TestBank; c: TestBank; proof: Uint8Array }> {
  const a = await startBank();
  const c = await startBank({ bootstrap: a.mesh.addresses() });
  await c.commit(1);
  await waitFor('a replicates c', () => replicated(a, c));
  const head = c.store.head;
  return { a, c, proof: encodeForkProof(head, forge(c, head.size, new Uint8Array(32).fill(4)), []) };
}
const forkedAt = (at: TestBank, of: TestBank) => at.replicas.isForked(of.store.bank.key);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A fresh key, and a valid fork proof against it: two heads of one size it signed over other roots. */
function proofOfFreshKey(): { key: Uint8Array; proof: Uint8Array } {
  const k = newHolder();
  const head = (r: number) => signTreeHead(k.publicKey, 3, new Uint8Array(32).fill(r), 1n, (m) => signBytes(m, k.seed));
  return { key: k.publicKey, proof: encodeForkProof(head(1), head(2), []) };
}

/** An answer to GetEvidence with `proofs`; to anything else, what a peer holding nothing answers. */
const serving = (proofs: () => Uint8Array[]) => (r: { getEvidence?: unknown; getAgreements?: unknown }) =>
  pb.SyncResponse.encode(
    r.getEvidence ? { evidence: { proofs: proofs() } } : r.getAgreements ? { agreements: { agreements: [] } } : { error: { code: 'NOT_FOUND', message: 'no log of this bank here' } },
  ).finish();

describe('fork evidence', () => {
  it('the evidence validator rejects garbage, truncated, oversized and invalid proofs, ignores unknown or marked banks', async () => {
    const a = await startBank();
    const b = await startBank({ bootstrap: a.mesh.addresses() });
    await a.commit(1);
    await waitFor('b replicates a', () => replicated(b, a));
    const before = await snapshot(b);
    const head = a.store.head;
    const valid = encodeForkProof(head, forge(a, head.size, new Uint8Array(32).fill(5)), []);
    const oversized = new Uint8Array(LIMITS.MAX_FORK_PROOF_BYTES + 1);
    oversized.set(valid);
    const consistent = encodeForkProof((await a.store.getHead(2))!, head, await a.store.consistencyProof(2, head.size));
    const twoBanks = encodeForkProof(head, forge(b, head.size, new Uint8Array(32).fill(5)), []);
    const badSig = pb.ForkProof.encode({ first: head.bytes, second: pb.SignedTreeHead.encode({ head: forge(a, head.size, new Uint8Array(32)).head, signature: new Uint8Array(64) }).finish() }).finish();
    const withPath = encodeForkProof(head, forge(a, head.size, new Uint8Array(32).fill(5)), [new Uint8Array(32)]);
    const badPath = encodeForkProof((await a.store.getHead(2))!, forge(a, head.size, new Uint8Array(32).fill(5)), [new Uint8Array(32).fill(1)]);
    const invalid = [new Uint8Array(0), new Uint8Array([0xff, 0x01, 0x02]), valid.subarray(0, valid.length - 5), oversized, consistent, twoBanks, badSig, withPath, badPath, head.bytes];
    for (const data of invalid) expect(b.mesh.validateEvidence(unsigned(data))).toBe(TopicValidatorResult.Reject);
    for (const data of invalid) expect(await b.replicas.recordFork(data)).toBe(false);
    const stranger = newHolder();
    const sHead = (r: number) => signTreeHead(stranger.publicKey, 3, new Uint8Array(32).fill(r), 1n, (m) => signBytes(m, stranger.seed));
    expect(b.mesh.validateEvidence(unsigned(encodeForkProof(sHead(1), sHead(2), [])))).toBe(TopicValidatorResult.Ignore);
    expect(b.mesh.validateEvidence(unsigned(encodeForkProof(forge(b, 9, new Uint8Array(32)), forge(b, 9, new Uint8Array(32).fill(1)), [])))).toBe(TopicValidatorResult.Ignore);
    expect(await snapshot(b)).toBe(before);
    expect(forkedAt(b, a)).toBe(false);

    expect(b.mesh.validateEvidence(unsigned(valid))).toBe(TopicValidatorResult.Accept);
    expect(await b.replicas.recordFork(valid)).toBe(true);
    expect(b.mesh.validateEvidence(unsigned(valid))).toBe(TopicValidatorResult.Ignore);
    // The forked bank's heads are no longer taken.
    await a.commit(1);
    expect(b.mesh.validateHead(unsigned(a.store.head.bytes))).toBe(TopicValidatorResult.Ignore);
  }, 30_000);

  it('a raw peer publishing bad evidence loses its score and changes nothing', async () => {
    const a = await startBank();
    const b = await startBank({ bootstrap: a.mesh.addresses() });
    await waitFor('b replicates a', () => replicated(b, a));
    const raw = await rawPeer();
    const topic = topics('Cascadia').evidence;
    raw.services.pubsub.subscribe(topic);
    await raw.dial(multiaddr(a.mesh.addresses()[0]!));
    await waitFor('a subscribed to evidence, as the raw peer sees it', () => raw.services.pubsub.getSubscribers(topic).length > 0);
    const before = await snapshot(a);
    const head = b.store.head;
    const consistent = encodeForkProof(head, head, []);
    for (const data of [new Uint8Array([1, 2, 3, 4]), new Uint8Array(5000).fill(7), consistent, consistent.subarray(0, 20)]) {
      await raw.services.pubsub.publish(topic, data);
    }
    await waitFor('the raw peer loses standing', () => a.mesh.score(raw.peerId.toString()) < 0);
    expect(await snapshot(a)).toBe(before);
    expect(forkedAt(a, b)).toBe(false);
  }, 30_000);

  it('a valid proof reaches a bank that only hears it through gossip', async () => {
    const a = await startBank();
    const c = await startBank({ bootstrap: a.mesh.addresses() });
    const b = await startBank({ bootstrap: [...a.mesh.addresses(), ...c.mesh.addresses()] });
    await c.commit(1);
    await waitFor('a and b replicate c', async () => (await replicated(a, c)) && (await replicated(b, c)));
    await waitFor('b hears a on the evidence topic', () => b.mesh.peers().some((p) => p.peerId === a.mesh.peerId && p.gossip.includes('evidence')));
    const raw = await rawPeer();
    const topic = topics('Cascadia').evidence;
    raw.services.pubsub.subscribe(topic);
    await raw.dial(multiaddr(a.mesh.addresses()[0]!));
    await waitFor('a subscribed, as the raw peer sees it', () => raw.services.pubsub.getSubscribers(topic).length > 0);
    const head = c.store.head;
    await raw.services.pubsub.publish(topic, encodeForkProof(head, forge(c, head.size, new Uint8Array(32).fill(6)), []));
    await waitFor('a marks c forked', () => forkedAt(a, c));
    await waitFor('b marks c forked', () => forkedAt(b, c));
    const row = (await b.mesh.banks()).find((x) => Buffer.from(x.bank).equals(Buffer.from(c.store.bank.key)))!;
    expect(checkForkProof(row.forkProof!, verify)).toBeDefined();
  }, 30_000);

  it('a bank that joins after a fork proof was gossiped gets it from the peers it meets, before or after meeting the forked bank', async () => {
    const { a, c, proof } = await replicatedPair();
    expect(await a.replicas.recordFork(proof)).toBe(true);
    // Past gossipsub's message cache (3 heartbeats of 1 s): a newcomer can only get the proof by asking.
    await new Promise((r) => setTimeout(r, 4_000));

    // b meets a first: c is not known to it yet, so the proof waits until b meets c.
    const b = await startBank({ bootstrap: a.mesh.addresses() });
    await waitFor('b meets a', () => knows(b, a));
    await new Promise((r) => setTimeout(r, 300));
    // Not forked at b while b has not met c (the proof waits in memory).
    if (!(await knows(b, c))) expect(forkedAt(b, c)).toBe(false);
    await c.stop();
    await c.restart(b.mesh.addresses());
    await waitFor('b marks c forked', () => forkedAt(b, c));
    expect(b.replicas.forkProof(c.store.bank.key)).toEqual(a.replicas.forkProof(c.store.bank.key));

    // d meets both at once, in whatever order.
    const d = await startBank({ bootstrap: [...c.mesh.addresses(), ...a.mesh.addresses()] });
    await waitFor('d marks c forked', () => forkedAt(d, c));
    // Nobody holds a proof against the others.
    for (const x of [a, b, d]) for (const y of [a, b, d]) if (x !== y) expect(forkedAt(x, y)).toBe(false);
  }, 40_000);

  it('a peer answers GetEvidence with the fork proofs it holds', async () => {
    const { a, proof } = await replicatedPair();
    const request = pb.SyncRequest.encode({ getEvidence: {} }).finish();
    const source = { servableHead: async () => undefined, entries: async () => [], consistency: async () => [] } as never;
    const empty = await answerSync(request, source, { evidence: () => a.replicas.forks().map((f) => f.proof) });
    expect(empty[1]).toBe(true);
    expect(pb.SyncResponse.decode(empty[0]).evidence?.proofs ?? []).toEqual([]);
    await a.replicas.recordFork(proof);
    const [bytes, ok] = await answerSync(request, source, { evidence: () => a.replicas.forks().map((f) => f.proof) });
    expect(ok).toBe(true);
    expect(pb.SyncResponse.decode(bytes).evidence?.proofs?.map((p) => Buffer.from(p))).toEqual([Buffer.from(proof)]);
    // An evidence request with a field it does not have is malformed.
    const [, wellFormed] = await answerSync(Uint8Array.from([0x2a, 0x02, 0x08, 0x01]), source, {});
    expect(wellFormed).toBe(false);
  }, 30_000);

  it('a forged head on the heads topic is detected by the node that gets it, and spread as evidence', async () => {
    const a = await startBank();
    const c = await startBank({ bootstrap: a.mesh.addresses() });
    const b = await startBank({ bootstrap: [...a.mesh.addresses(), ...c.mesh.addresses()] });
    await c.commit(1);
    await waitFor('a and b replicate c', async () => (await replicated(a, c)) && (await replicated(b, c)));
    await waitFor('b hears a on the evidence topic', () => b.mesh.peers().some((p) => p.peerId === a.mesh.peerId && p.gossip.includes('evidence')));
    const raw = await rawPeer();
    const topic = topics('Cascadia').heads;
    raw.services.pubsub.subscribe(topic);
    await raw.dial(multiaddr(a.mesh.addresses()[0]!));
    await waitFor('a subscribed, as the raw peer sees it', () => raw.services.pubsub.getSubscribers(topic).length > 0);
    await raw.services.pubsub.publish(topic, forge(c, c.store.size, new Uint8Array(32).fill(8)).bytes);
    await waitFor('a marks c forked', () => forkedAt(a, c));
    await waitFor('b marks c forked', () => forkedAt(b, c));
  }, 30_000);

  it('relays a proof against a bank it has met and does not replicate, to the banks that do, and keeps it only in memory', async () => {
    const c = await startBank();
    await c.commit(1);
    const hub = await startBank({ bootstrap: c.mesh.addresses(), replicates: () => false });
    const b = await startBank({ bootstrap: hub.mesh.addresses(), replicates: (bank) => Buffer.from(bank).equals(Buffer.from(c.store.bank.key)) });
    await waitFor('the hub has met c', () => knows(hub, c));
    await waitFor('b hears the hub on the evidence topic', () => b.mesh.peers().some((p) => p.peerId === hub.mesh.peerId && p.gossip.includes('evidence')));
    const raw = await rawPeer();
    const topic = topics('Cascadia').evidence;
    raw.services.pubsub.subscribe(topic);
    await raw.dial(multiaddr(hub.mesh.addresses()[0]!));
    await waitFor('the hub subscribed, as the raw peer sees it', () => raw.services.pubsub.getSubscribers(topic).length > 0);
    const head = c.store.head;
    await raw.services.pubsub.publish(topic, encodeForkProof(head, forge(c, head.size, new Uint8Array(32).fill(7)), []));
    await waitFor('b marks c forked', () => forkedAt(b, c));
    // The hub relayed it without keeping it for good: c is none of its concern.
    expect(forkedAt(hub, c)).toBe(false);
    expect(hub.replicas.forks()).toEqual([]);
  }, 30_000);

  it('takes in and keeps no fork proof against a key of no concern to it, though that key said hello; ignores one against a key never met', async () => {
    const federated = new Set<string>();
    const a = await startBank({ replicates: (bank) => federated.has(hex(bank)) });
    const selfProof = (p: HelloPeer) => encodeForkProof(p.head(3, new Uint8Array(32).fill(1)), p.head(3, new Uint8Array(32).fill(2)), []);
    // A key that says hello (a bank met), then gossips a proof that it forked itself.
    const gossiper = await helloPeer({ answer: serving(() => []) });
    await gossiper.connect(a.mesh.addresses()[0]!);
    await waitFor('a asks it for its fork proofs', () => gossiper.requests.some((r) => r.getEvidence));
    // Relayed (its counterparties may hear it only through a), not kept: see the test above.
    expect(a.mesh.validateEvidence(unsigned(selfProof(gossiper)))).toBe(TopicValidatorResult.Accept);
    expect(a.mesh.validateEvidence(unsigned(proofOfFreshKey().proof))).toBe(TopicValidatorResult.Ignore);
    // Another serves such a proof when asked.
    let served: Uint8Array = new Uint8Array(0);
    const server = await helloPeer({ answer: serving(() => [served]) });
    served = selfProof(server);
    await server.connect(a.mesh.addresses()[0]!);
    await waitFor('a asks it for its fork proofs', () => server.requests.some((r) => r.getEvidence));
    await sleep(500);
    expect(a.replicas.isForked(server.key)).toBe(false);
    expect(a.replicas.forks()).toEqual([]);
    // Against a bank a federates with, the same kind of proof is taken.
    const counterparty = proofOfFreshKey();
    federated.add(hex(counterparty.key));
    expect(a.mesh.validateEvidence(unsigned(counterparty.proof))).toBe(TopicValidatorResult.Accept);
  }, 30_000);

  it('answers GetEvidence with the proofs against banks it federates with first', async () => {
    const federated = new Set<string>();
    const a = await startBank({ replicates: (bank) => federated.has(hex(bank)) });
    // A store full of proofs against other keys, recorded before the one that matters.
    await Promise.all(Array.from({ length: LIMITS.MAX_FORK_PROOFS_PER_ANSWER }, () => a.replicas.recordFork(proofOfFreshKey().proof)));
    const counterparty = proofOfFreshKey();
    federated.add(hex(counterparty.key));
    expect(await a.replicas.recordFork(counterparty.proof)).toBe(true);
    const peer = await helloPeer({ answer: serving(() => []) });
    const conn = await peer.connect(a.mesh.addresses()[0]!);
    const answer = await peer.request(conn, pb.SyncRequest.encode({ getEvidence: {} }).finish(), 5000);
    const proofs = pb.SyncResponse.decode(answer!).evidence?.proofs ?? [];
    expect(proofs).toHaveLength(LIMITS.MAX_FORK_PROOFS_PER_ANSWER);
    expect(Buffer.from(proofs[0]!)).toEqual(Buffer.from(counterparty.proof));
  }, 30_000);

  it('keeps the newest MAX_PENDING_FORK_PROOFS proofs against banks of no concern yet, and records one when its bank comes to matter', async () => {
    const federated = new Set<string>();
    const a = await startBank({ replicates: (bank) => federated.has(hex(bank)) });
    const junk = Array.from({ length: LIMITS.MAX_PENDING_FORK_PROOFS }, () => proofOfFreshKey().proof);
    const flooder = await helloPeer({ answer: serving(() => junk) });
    await flooder.connect(a.mesh.addresses()[0]!);
    await waitFor('a asks the flooder for its fork proofs', () => flooder.requests.some((r) => r.getEvidence));
    await sleep(1000);
    // A bank a does not federate with yet, forked, its proof held by a peer met later.
    const later = proofOfFreshKey();
    const holder = await helloPeer({ answer: serving(() => [later.proof]) });
    await holder.connect(a.mesh.addresses()[0]!);
    await waitFor('a asks the holder for its fork proofs', () => holder.requests.some((r) => r.getEvidence));
    await sleep(500);
    expect(a.replicas.forks()).toEqual([]);
    federated.add(hex(later.key));
    a.mesh.scheduleCatchUp(later.key);
    await waitFor('a holds that bank forked', () => a.replicas.isForked(later.key), 5_000);
    expect(a.replicas.forks()).toHaveLength(1);
  }, 30_000);

  for (const accounts of [1, 2]) {
    it(`catch-up: a peer serving a longer, inconsistent tree proves a fork and is not struck (held size ${2 + accounts})`, async () => {
      const a = await startBank();
      await a.commit(accounts);
      const b = await startBank({ bootstrap: a.mesh.addresses() });
      await waitFor('b replicates a', () => replicated(b, a));
      await b.mesh.stop();
      const fork = await forkedLog(a, accounts + 3);
      const struck: string[] = [];
      const answer = async (req: Uint8Array) => {
        const r = pb.SyncRequest.decode(req);
        if (r.getHead) return { head: fork.head.bytes };
        if (r.getEntries) {
          const from = Number(u64(r.getEntries.from));
          const end = from + r.getEntries.count!;
          const size = Number(u64(r.getEntries.treeSize));
          return { entries: { entries: await fork.getEntries(from, end), proof: end === size ? [] : await fork.consistencyProof(end, size) } };
        }
        const c = r.getConsistency!;
        return { consistency: { path: await fork.consistencyProof(Number(u64(c.fromSize)), Number(u64(c.toSize))) } };
      };
      await catchUp(a.store.bank.key, [{ id: { toString: () => 'holder of the other branch' } as never }], b.replicas, {
        verify,
        signal: new AbortController().signal,
        strike: (_p, why) => struck.push(why),
        request: async (_p, req) => pb.SyncResponse.decode(pb.SyncResponse.encode(await answer(req)).finish()),
      });
      expect(struck).toEqual([]);
      expect(forkedAt(b, a)).toBe(true);
      const e = checkForkProof(b.replicas.forkProof(a.store.bank.key)!, verify)!;
      expect([e.first.size, e.second.size]).toEqual([a.store.size, fork.size]);
    }, 30_000);
  }
});
