// Peers that say a valid hello and then misbehave: take sync requests and never answer, say
// hello again and again, ask before their hello, or come with a fresh key each time. What
// they cost a node is bounded, and honest peers are served and followed as if they were not there.
import type { Connection } from '@libp2p/interface';
import { decodeStrict, pb } from '@mutual/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import type { MeshLogger } from '../src/index.ts';
import { helloPeer, stopRawPeers, type HelloPeer } from './raw-peer.ts';
import { replicated, startBank, stopAll, waitFor, type TestBank } from './fixture.ts';

afterEach(async () => {
  await stopRawPeers();
  await stopAll();
});

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const idOf = (p: HelloPeer) => p.node.peerId.toString();
const joined = (at: TestBank, p: HelloPeer) => at.mesh.peers().some((x) => x.peerId === idOf(p) && x.bank !== undefined);

/** What an honest peer holding nothing answers. */
function nothingHeld(r: { getEvidence?: unknown; getAgreements?: unknown }): Uint8Array {
  if (r.getEvidence) return pb.SyncResponse.encode({ evidence: { proofs: [] } }).finish();
  if (r.getAgreements) return pb.SyncResponse.encode({ agreements: { agreements: [] } }).finish();
  return pb.SyncResponse.encode({ error: { code: 'NOT_FOUND', message: 'no log of this bank here' } }).finish();
}

/** A logger keeping the messages of the info lines with their peer. */
function recorder(): MeshLogger & { lines: Array<{ msg: string; peer?: unknown }>; debugs: Array<{ msg: string; peer?: unknown }> } {
  const lines: Array<{ msg: string; peer?: unknown }> = [];
  const debugs: Array<{ msg: string; peer?: unknown }> = [];
  return {
    lines,
    debugs,
    info: (o, msg) => lines.push({ msg, peer: (o as { peer?: unknown }).peer }),
    warn() {},
    debug: (o, msg) => debugs.push({ msg, peer: (o as { peer?: unknown }).peer }),
  };
}

describe('peers that take sync requests and never answer', () => {
  it('do not hold up a catch-up from an honest peer', async () => {
    const federated = new Set<string>();
    const a = await startBank({ replicates: (bank) => federated.has(hex(bank)) });
    // Connected first: a node that asked its peers one after another would ask them first.
    const silent = await Promise.all([1, 2, 3].map(() => helloPeer()));
    for (const s of silent) await s.connect(a.mesh.addresses()[0]!);
    await waitFor('their hellos', () => silent.every((s) => joined(a, s)));
    const c = await startBank();
    await c.commit(3);
    const b = await startBank({ bootstrap: [...c.mesh.addresses(), ...a.mesh.addresses()] });
    await waitFor('b replicates c', () => replicated(b, c));
    const key = c.store.bank.key;
    const size = c.store.size;
    await c.stop();

    // c is away; b holds its log, and so does nobody else.
    federated.add(hex(key));
    a.mesh.scheduleCatchUp(key);
    await waitFor('a catches up on c from b', () => a.replicas.status(key)?.size === size, 5_000);
  }, 30_000);

  it('do not hold up following a bank by their hellos, and are struck for what they leave unanswered', async () => {
    const a = await startBank();
    const c = await startBank({ bootstrap: a.mesh.addresses() });
    await c.commit(1);
    await waitFor('a replicates c', () => replicated(a, c));
    // Each hello is a new peer that may hold newer heads of what a replicates.
    const silent = await Promise.all([1, 2, 3].map(() => helloPeer()));
    for (const s of silent) await s.connect(a.mesh.addresses()[0]!);
    await waitFor('their hellos', () => silent.every((s) => joined(a, s)));
    await c.commit(2);
    await waitFor('a follows c', () => replicated(a, c), 6_000);
    await waitFor('each silent peer struck', () => silent.every((s) => a.mesh.strikes(idOf(s)) >= 1), 15_000);
  }, 40_000);
});

describe('the hello before sync', () => {
  it('a sync request is answered only once the peer has a verified hello of this bioregion', async () => {
    const a = await startBank({ helloTimeoutMs: 1500 });
    await a.commit(1);
    const addr = a.mesh.addresses()[0]!;
    const getHead = pb.SyncRequest.encode({ getHead: { bank: a.store.bank.key } }).finish();

    // No hello at all: the request is never answered, and the connection closes at the deadline.
    const mute = await helloPeer();
    expect(await mute.request(await mute.dial(addr), getHead, 4000)).toBeUndefined();

    // Another bioregion, asking before its hello: not answered either.
    const other = await helloPeer({ bioregion: 'Sonoran' });
    const otherConn = await other.dial(addr);
    const otherAsked = other.request(otherConn, getHead, 4000);
    await sleep(200);
    await other.hello(otherConn);
    expect(await otherAsked).toBeUndefined();

    // This bioregion, asking before its hello: answered once the hello has verified.
    const peer = await helloPeer();
    const conn = await peer.dial(addr);
    const asked = peer.request(conn, getHead, 4000);
    await sleep(200);
    await peer.hello(conn);
    const answer = await asked;
    expect(answer).toBeDefined();
    expect(Buffer.from(pb.SyncResponse.decode(answer!).head!)).toEqual(Buffer.from(a.store.head.bytes));
  }, 30_000);

  it('a connection carries one hello; what a hello starts is done once per peer in a while, and again once that while has passed', async () => {
    const a = await startBank({ onAgreement: () => {}, helloFollowUpMs: 3000 });
    const addr = a.mesh.addresses()[0]!;
    const p = await helloPeer({ answer: nothingHeld });
    const first = await p.connect(addr);
    await waitFor('a asks p for its pool and its fork proofs', () => p.requests.some((r) => r.getEvidence) && p.requests.some((r) => r.getAgreements));

    // A second hello on the same connection: reset unread, and struck.
    expect(await p.hello(first)).toBeUndefined();
    await waitFor('the strike', () => a.mesh.strikes(idOf(p)) === 1);

    // The same peer on a new connection: met again, not asked again.
    await first.close();
    await waitFor('a sees p go', () => !joined(a, p));
    const second: Connection = await p.connect(addr);
    await waitFor('p joins again', () => joined(a, p));
    await sleep(500);
    expect(second.status).toBe('open');
    expect(p.requests.filter((r) => r.getEvidence)).toHaveLength(1);
    expect(p.requests.filter((r) => r.getAgreements)).toHaveLength(1);
    // Once the while has passed, what p may have held meanwhile is asked for, p being still connected.
    await waitFor('a asks p again', () => p.requests.filter((r) => r.getEvidence).length === 2 && p.requests.filter((r) => r.getAgreements).length === 2, 8_000);
  }, 30_000);
});

describe('what a node keeps per peer', () => {
  it('keeps strikes and refusals of at most maxRememberedPeers peers, forgetting the oldest', async () => {
    const log = recorder();
    const a = await startBank({ maxRememberedPeers: 3, logger: log });
    const addr = a.mesh.addresses()[0]!;

    // Five fresh keys, each with a hello that does not check: a strike each.
    const bad = await Promise.all([1, 2, 3, 4, 5].map(() => helloPeer()));
    for (const p of bad) {
      await p.hello(await p.dial(addr), Uint8Array.from([1, 2, 3]));
      await waitFor('the strike', () => a.mesh.strikes(idOf(p)) === 1);
    }
    expect(bad.map((p) => a.mesh.strikes(idOf(p)))).toEqual([0, 0, 1, 1, 1]);

    // Four peers of another bioregion: each hung up on and refused from then on, the first
    // only until three others have come after it.
    const refusals = (p: HelloPeer) => log.lines.filter((l) => l.msg === 'a peer of another bioregion: hanging up, not dialing it again' && l.peer === idOf(p)).length;
    const others = await Promise.all([1, 2, 3, 4].map(() => helloPeer({ bioregion: 'Sonoran' })));
    for (const p of others) {
      await p.hello(await p.dial(addr));
      await waitFor('the refusal', () => refusals(p) === 1);
    }
    await waitFor('a hangs up on them', () => others.every((p) => p.node.getConnections().length === 0));
    // One remembered comes again: its hello is answered (it learns a's bioregion) and it is
    // hung up on, logged at debug only.
    const last = others[3]!;
    const reply = await last.hello(await last.dial(addr));
    expect(reply && decodeStrict(pb.Hello, reply)?.bioregion).toBe('Cascadia');
    await waitFor('hung up on again', () => last.node.getConnections().length === 0);
    expect(refusals(last)).toBe(1);
    expect(log.debugs.filter((l) => l.msg === 'a peer of another bioregion again: hanging up' && l.peer === idOf(last))).toHaveLength(1);
    // The first, forgotten, is refused again as a peer never seen.
    await others[0]!.hello(await others[0]!.dial(addr));
    await waitFor('the first refused again as never seen', () => refusals(others[0]!) === 2, 5_000);
  }, 30_000);
});
