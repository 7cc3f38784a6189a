// Two banks that dial each other keep one connection, the same at both ends: the spare is
// closed once idle, or after CHECKS looks (packages/mesh/src/duplicates.ts), and gossip (with
// the gossipsub patch of patches/), pushes and sync carry on over the connection that is kept.
import { randomBytes } from 'node:crypto';
import type { Connection, PeerId } from '@libp2p/interface';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CHECKS, DuplicateConnections, hasGossipStream, keeperOf, pingOver, SIMULTANEOUS_MS, watchDuplicateConnections, type DuplicateConnectionsOptions } from '../src/duplicates.ts';
import { LIMITS } from '@mutual/interface';
import { createHost, type MeshHost } from '../src/host.ts';
import { replicated, startBank, stopAll, waitFor, type TestBank } from './fixture.ts';
import { freePorts } from '../../../tests/support/ports.ts';

afterEach(stopAll);

const SILENT = { info() {}, warn() {}, debug() {} };
const SELF = 'peer-b';
const peer = { toString: () => 'peer-a' } as unknown as PeerId; // sorts before SELF
type MockConnection = Connection & { close: ReturnType<typeof vi.fn> };

/** A connection to `peer` as this node (SELF) sees it. */
function conn(id: string, open: number, o: { streams?: number; status?: string; direction?: 'inbound' | 'outbound' } = {}): MockConnection {
  const c = {
    id,
    status: o.status ?? 'open',
    remotePeer: peer,
    direction: o.direction ?? 'inbound',
    timeline: { open },
    streams: Array.from({ length: o.streams ?? 0 }, () => ({})),
    close: vi.fn(async () => {
      c.status = 'closed';
    }),
  };
  return c as unknown as MockConnection;
}

function duplicates(conns: () => Connection[], o: Partial<DuplicateConnectionsOptions> = {}): DuplicateConnections {
  return new DuplicateConnections({ self: SELF, connections: conns, gossips: () => true, alive: async () => true, delayMs: 10, log: SILENT, ...o });
}

describe('keeperOf', () => {
  // peer-a sorts first: its dials are this node's inbound connections.
  const mirror = (c: MockConnection) => ({ ...c, direction: c.direction === 'inbound' ? 'outbound' : 'inbound', remotePeer: { toString: () => SELF } }) as unknown as Connection;

  it('keeps the oldest connection', () => {
    const old = conn('old', 1000, { direction: 'outbound' });
    const newer = conn('newer', 1000 + SIMULTANEOUS_MS + 1);
    expect(keeperOf([newer, old], SELF)).toBe(old);
    expect(keeperOf([newer, old].map(mirror), 'peer-a')?.id).toBe('old');
  });

  it('of connections opened together, keeps one dialed by the peer whose ID sorts first, the same seen from both ends', () => {
    const out = conn('out', 1000, { direction: 'outbound' });
    const in1 = conn('in1', 1000 + SIMULTANEOUS_MS);
    const in2 = conn('in2', 1000 + SIMULTANEOUS_MS / 2);
    expect(keeperOf([out, in1, in2], SELF)).toBe(in2);
    // Seen from peer-a, each opened a few milliseconds apart from here, in another order.
    const there = [out, in1, in2].map(mirror);
    (there[0]!.timeline as { open: number }).open = 1000 + SIMULTANEOUS_MS;
    expect(keeperOf(there, 'peer-a')?.id).toBe('in2');
  });

  it('keeps the oldest of those opened together when the peer that sorts first dialed none, and nothing of nothing', () => {
    const a = conn('a', 1000 + SIMULTANEOUS_MS, { direction: 'outbound' });
    const b = conn('b', 1000, { direction: 'outbound' });
    expect(keeperOf([a, b], SELF)).toBe(b);
    expect(keeperOf([], SELF)).toBeUndefined();
  });
});

describe('DuplicateConnections', () => {
  // Tests that use fake timers start them themselves.
  afterEach(() => {
    vi.useRealTimers();
  });

  /** Sorts before the peer: this end decides. */
  const DECIDER = 'peer-0';
  const DELAY = 2000;
  /** A connection opened `ago` ms before now. */
  const aged = (id: string, ago: number, o: Parameters<typeof conn>[2] = {}) => conn(id, Date.now() - ago, o);
  const deciding = (conns: () => Connection[], o: Partial<DuplicateConnectionsOptions> = {}) => duplicates(conns, { self: DECIDER, delayMs: DELAY, ...o });

  it('closes the idle spares once the peer answers on the keeper', async () => {
    const keeper = aged('keeper', 60_000, { streams: 3 });
    const spare = aged('spare', DELAY);
    const spare2 = aged('spare2', DELAY, { direction: 'outbound' });
    const pinged: Connection[] = [];
    const d = deciding(() => [spare, keeper, spare2], { alive: async (c) => (pinged.push(c), true) });
    expect(await d.check(peer)).toEqual({ closed: 2, left: 0 });
    expect(pinged).toEqual([keeper]);
    expect(keeper.close).not.toHaveBeenCalled();
    expect(spare.close).toHaveBeenCalledOnce();
    expect(spare2.close).toHaveBeenCalledOnce();
    expect(d.preferred(peer)).toBe(keeper);
  });

  it('leaves a busy spare until it is CHECKS looks old, then closes it, and pings only when it closes something', async () => {
    const keeper = aged('keeper', 60_000);
    const young = aged('young', DELAY, { streams: 1 });
    const alive = vi.fn(async () => true);
    expect(await deciding(() => [keeper, young], { alive }).check(peer)).toEqual({ closed: 0, left: 1 });
    expect(young.close).not.toHaveBeenCalled();
    expect(alive).not.toHaveBeenCalled();
    const old = aged('old', CHECKS * DELAY, { streams: 1 });
    expect(await deciding(() => [keeper, old]).check(peer)).toEqual({ closed: 1, left: 0 });
    expect(old.close).toHaveBeenCalledOnce();
    expect(keeper.close).not.toHaveBeenCalled();
  });

  it('at the end with the higher peer ID, closes a spare only a look after the deciding end would have', async () => {
    const keeper = aged('keeper', 60_000);
    const spare = aged('spare', CHECKS * DELAY);
    expect(await duplicates(() => [keeper, spare], { self: 'peer-z', delayMs: DELAY }).check(peer)).toEqual({ closed: 0, left: 1 });
    expect(spare.close).not.toHaveBeenCalled();
    const older = aged('older', (CHECKS + 1) * DELAY, { streams: 2 });
    expect(await duplicates(() => [keeper, older], { self: 'peer-z', delayMs: DELAY }).check(peer)).toEqual({ closed: 1, left: 0 });
    expect(older.close).toHaveBeenCalledOnce();
    expect(keeper.close).not.toHaveBeenCalled();
  });

  it('closes a keeper that does not answer when a spare does; nothing when none does or it cannot tell', async () => {
    const dead = aged('dead', 60_000, { streams: 2 });
    const fresh = aged('fresh', DELAY);
    expect(await deciding(() => [dead, fresh], { alive: async (c) => c === fresh }).check(peer)).toEqual({ closed: 1, left: 0 });
    expect(dead.close).toHaveBeenCalledOnce();
    expect(fresh.close).not.toHaveBeenCalled();

    const slow = aged('slow', 60_000, { streams: 2 });
    const other = aged('other', DELAY);
    expect(await deciding(() => [slow, other], { alive: async () => false }).check(peer)).toEqual({ closed: 0, left: 1 });
    expect(await deciding(() => [slow, other], { alive: async () => undefined }).check(peer)).toEqual({ closed: 0, left: 1 });
    expect(slow.close).not.toHaveBeenCalled();
    expect(other.close).not.toHaveBeenCalled();
  });

  it('does nothing with one open connection, counting only open ones, and pings nothing', async () => {
    const only = aged('only', DELAY);
    const closing = aged('closing', 60_000, { status: 'closing' });
    const alive = vi.fn(async () => true);
    expect(await deciding(() => [closing, only], { alive }).check(peer)).toEqual({ closed: 0, left: 0 });
    expect(only.close).not.toHaveBeenCalled();
    expect(closing.close).not.toHaveBeenCalled();
    expect(alive).not.toHaveBeenCalled();
  });

  it('runs one check of a peer at a time', async () => {
    const keeper = aged('keeper', 60_000);
    const spare = aged('spare', DELAY);
    const answers: Array<(alive: boolean) => void> = [];
    const d = deciding(() => [keeper, spare], { alive: () => new Promise<boolean>((r) => answers.push(r)) });
    const first = d.check(peer);
    const second = d.check(peer);
    await new Promise((r) => setTimeout(r, 10));
    expect(answers).toHaveLength(1);
    answers[0]!(true);
    expect(await first).toEqual({ closed: 1, left: 0 });
    // The second finds one connection left, and pings nothing.
    expect(await second).toEqual({ closed: 0, left: 0 });
    expect(answers).toHaveLength(1);
  });

  it('looks at a peer the given delay after its connection opens, and not after stop', async () => {
    vi.useFakeTimers();
    const keeper = aged('keeper', 60_000, { streams: 1 });
    const spare = aged('spare', 0);
    const d = deciding(() => [keeper, spare]);
    d.opened(spare);
    await vi.advanceTimersByTimeAsync(DELAY - 1);
    expect(spare.close).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(spare.close).toHaveBeenCalledOnce();

    const later = aged('later', 0);
    const d2 = deciding(() => [keeper, later]);
    d2.opened(later);
    d2.stop();
    await vi.advanceTimersByTimeAsync(DELAY * 3);
    expect(later.close).not.toHaveBeenCalled();
  });

  it('logs a look that fails instead of leaving a rejection unhandled', async () => {
    vi.useFakeTimers();
    const keeper = aged('keeper', 60_000, { streams: 1 });
    const spare = aged('spare', 0);
    const warn = vi.fn();
    const d = deciding(() => [keeper, spare], { alive: async () => Promise.reject(new Error('no ping')), log: { ...SILENT, warn } });
    d.opened(spare);
    await vi.advanceTimersByTimeAsync(DELAY);
    expect(warn).toHaveBeenCalledOnce();
    expect(warn.mock.calls[0]![1]).toBe('looking at the connections to a peer failed');
    expect(spare.close).not.toHaveBeenCalled();
  });

  it('looks again while spares are left, closes a busy one at the CHECKS-th look, and stops looking', async () => {
    vi.useFakeTimers();
    const keeper = aged('keeper', 60_000, { streams: 1 });
    const spare = aged('spare', 0, { streams: 1 }); // an exchange in progress
    const d = deciding(() => [keeper, spare]);
    d.opened(spare);
    await vi.advanceTimersByTimeAsync(DELAY * 2);
    expect(spare.close).not.toHaveBeenCalled();
    (spare.streams as unknown[]).length = 0; // the exchange is over
    await vi.advanceTimersByTimeAsync(DELAY);
    expect(spare.close).toHaveBeenCalledOnce();

    const stuck = aged('stuck', 0, { streams: 1 }); // a stream that stays open
    let looks = 0;
    const d2 = deciding(() => (looks++, [keeper, stuck]));
    d2.opened(stuck);
    await vi.advanceTimersByTimeAsync(DELAY * (CHECKS - 1));
    expect(stuck.close).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(DELAY);
    expect(stuck.close).toHaveBeenCalledOnce();
    const seen = looks;
    await vi.advanceTimersByTimeAsync(DELAY * 3);
    expect(looks).toBe(seen);

    // At the other end: looked at CHECKS + 1 times at most, however busy.
    const kept = aged('kept', 0, { streams: 1 });
    let looks3 = 0;
    const d3 = duplicates(() => (looks3++, [keeper, kept]), { self: 'peer-z', delayMs: DELAY, alive: async () => undefined });
    d3.opened(kept);
    await vi.advanceTimersByTimeAsync(DELAY * (CHECKS + 4));
    expect(kept.close).not.toHaveBeenCalled();
    expect(looks3).toBeGreaterThan(0);
    expect(looks3).toBeLessThanOrEqual(2 * (CHECKS + 1));
  });

  it('closes the connections older than a close when none carries the gossip stream, and only those', () => {
    const a = conn('a', 1, { streams: 2 });
    const b = conn('b', 2, { streams: 1 });
    const newer = conn('newer', 10);
    const closing = conn('closing', 0, { status: 'closing' });
    let gossiping = false;
    const d = duplicates(() => [closing, a, b, newer], { gossips: () => gossiping });
    expect(d.gossipLost(peer, 5)).toBe(true);
    expect(d.checkGossip(peer, 5)).toBe(2);
    expect(a.close).toHaveBeenCalledOnce();
    expect(b.close).toHaveBeenCalledOnce();
    expect(newer.close).not.toHaveBeenCalled();
    expect(closing.close).not.toHaveBeenCalled();

    gossiping = true;
    const c = conn('c', 3, { streams: 1 });
    expect(duplicates(() => [c], { gossips: () => gossiping }).checkGossip(peer, 5)).toBe(0);
    expect(c.close).not.toHaveBeenCalled();
    // Only connections newer than the close: they get gossip streams of their own.
    expect(duplicates(() => [conn('new', 9)], { gossips: () => false }).checkGossip(peer, 5)).toBe(0);
    expect(duplicates(() => [], { gossips: () => false }).checkGossip(peer, 5)).toBe(0);
  });

  it('after a close, closes a connection without gossip only when it still has none one delay later', async () => {
    vi.useFakeTimers();
    const gone = conn('gone', 1, { status: 'closed' });
    const left = conn('left', 0, { streams: 1 });
    let gossiping = false;
    const d = duplicates(() => [gone, left], { gossips: () => gossiping, delayMs: 2000 });
    d.closed(gone);
    await vi.advanceTimersByTimeAsync(2000);
    gossiping = true; // gossipsub opened its stream again on `left`
    await vi.advanceTimersByTimeAsync(2000);
    expect(left.close).not.toHaveBeenCalled();

    gossiping = false;
    d.closed(gone);
    await vi.advanceTimersByTimeAsync(3999);
    expect(left.close).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(left.close).toHaveBeenCalledOnce();

    const left2 = conn('left2', 0, { streams: 1 });
    const d2 = duplicates(() => [gone, left2], { gossips: () => false, delayMs: 2000 });
    d2.closed(gone);
    d2.stop();
    await vi.advanceTimersByTimeAsync(5000);
    expect(left2.close).not.toHaveBeenCalled();
  });
});

const TOPIC = 'duplicates-test';
const HOLD = '/mutual-test/hold/1.0.0';
const hosts: MeshHost[] = [];
afterEach(async () => {
  await Promise.allSettled(hosts.splice(0).map((h) => h.stop()));
});

/** A started host subscribed to TOPIC, answering HOLD by keeping the stream open. */
async function gossipHost(): Promise<MeshHost> {
  const h = await createHost({ seed: randomBytes(32), listen: ['/ip4/127.0.0.1/tcp/0'], headsTopic: TOPIC, gater: {} });
  hosts.push(h);
  await h.handle(HOLD, () => {});
  h.services.pubsub.subscribe(TOPIC);
  await h.start();
  return h;
}

const gossipStream = (from: MeshHost, to: MeshHost) => from.getConnections(to.peerId).some((c) => c.status === 'open' && hasGossipStream(from, c));
const open = (from: MeshHost, to: MeshHost) => from.getConnections(to.peerId).filter((c) => c.status === 'open');

/** Resolves once `host` has identified `n` connections of `peer`. */
function identified(host: MeshHost, peer: PeerId, n: number): Promise<void> {
  let seen = 0;
  return new Promise((resolve) => {
    const on = (e: CustomEvent<{ peerId: PeerId }>) => {
      if (e.detail.peerId.equals(peer) && ++seen >= n) {
        host.removeEventListener('peer:identify', on);
        resolve();
      }
    };
    host.addEventListener('peer:identify', on);
  });
}

/** A message published by `from` on TOPIC reaches `to`. */
async function gossipFlows(from: MeshHost, to: MeshHost): Promise<void> {
  await waitFor('the peer in the topic', () => from.services.pubsub.getSubscribers(TOPIC).some((p) => p.equals(to.peerId)), 10_000);
  const got: Uint8Array[] = [];
  const on = (e: CustomEvent<{ data: Uint8Array }>) => got.push(e.detail.data);
  to.services.pubsub.addEventListener('message', on);
  try {
    const data = randomBytes(16);
    await from.services.pubsub.publish(TOPIC, data);
    await waitFor('the message delivered', () => got.some((d) => Buffer.from(d).equals(data)), 10_000);
  } finally {
    to.services.pubsub.removeEventListener('message', on);
  }
}

/**
 * Two hosts connected twice, a dialing b and then b dialing a: gossipsub's streams on the first
 * connection, both identified, and a stream held open on the second, so that neither is idle.
 */
async function connectedTwice(watch: boolean): Promise<{ a: MeshHost; b: MeshHost; first: Connection; second: Connection }> {
  const [a, b] = [await gossipHost(), await gossipHost()];
  if (watch) for (const h of [a, b]) watchDuplicateConnections(h, 300, SILENT);
  const first = await a.dial(b.getMultiaddrs()[0]!);
  await waitFor('gossip streams both ways', () => gossipStream(a, b) && gossipStream(b, a));
  const both = Promise.all([identified(a, b.peerId, 1), identified(b, a.peerId, 1)]);
  const second = await b.dial(a.getMultiaddrs()[0]!, { force: true });
  await both;
  await second.newStream(HOLD);
  const onFirst = open(a, b).find((c) => c.id !== undefined && c.direction === 'outbound')!;
  expect(onFirst).toBe(first);
  expect(hasGossipStream(a, first)).toBe(true);
  return { a, b, first, second };
}

describe('pingOver', () => {
  it('is true while the peer answers over the connection, false once it is gone', async () => {
    const [a, b] = [await gossipHost(), await gossipHost()];
    const conn = await a.dial(b.getMultiaddrs()[0]!);
    expect(await pingOver(conn, 5000)).toBe(true);
    expect(await pingOver(conn, 5000)).toBe(true);
    await b.stop();
    expect(await pingOver(conn, 2000)).toBe(false);
  }, 30_000);
});

describe('two hosts connected twice', () => {
  it('gossipsub opens its stream again on the remaining connection when the one carrying it closes (patches/)', async () => {
    const { a, b, first } = await connectedTwice(false);
    expect(open(a, b)).toHaveLength(2);
    await first.close();
    await waitFor('gossip streams both ways again', () => open(a, b).length === 1 && gossipStream(a, b) && gossipStream(b, a), 10_000);
    await gossipFlows(a, b);
    await gossipFlows(b, a);
  }, 30_000);

  it('dialing each other at the same instant, are left with one connection, the same at both ends, its ping answered', async () => {
    const [a, b] = [await gossipHost(), await gossipHost()];
    const said: string[] = [];
    const log = { ...SILENT, info: (_o: unknown, msg?: string) => void said.push(msg ?? '') };
    const opened = new Map<MeshHost, number>();
    for (const h of [a, b]) {
      watchDuplicateConnections(h, 300, log);
      h.addEventListener('connection:open', () => opened.set(h, (opened.get(h) ?? 0) + 1));
    }
    await Promise.all([a.dial(b.getMultiaddrs()[0]!, { force: true }), b.dial(a.getMultiaddrs()[0]!, { force: true })]);
    // Each end has seen both connections open (its inbound one a little after its own dial).
    await waitFor('both connections at both ends', () => opened.get(a) === 2 && opened.get(b) === 2, 5000);
    await waitFor('one connection at each end', () => open(a, b).length === 1 && open(b, a).length === 1, 15_000);
    expect(open(a, b)[0]!.direction).not.toBe(open(b, a)[0]!.direction);
    await waitFor('gossip streams both ways', () => gossipStream(a, b) && gossipStream(b, a), 10_000);
    await gossipFlows(a, b);
    await gossipFlows(b, a);
    expect(said).toEqual([]);
  }, 30_000);

  it('are left with one connection, the same at both ends, though neither was idle; and gossip flows', async () => {
    const { a, b } = await connectedTwice(true);
    // 300 ms a look, CHECKS looks at most: the busy spare is closed within about 1.5 s.
    await waitFor('one connection at each end', () => open(a, b).length === 1 && open(b, a).length === 1, 15_000);
    await waitFor('gossip streams both ways', () => gossipStream(a, b) && gossipStream(b, a), 10_000);
    // Both ends kept the same connection: outbound at one end is inbound at the other.
    expect(open(a, b)[0]!.direction).not.toBe(open(b, a)[0]!.direction);
    await gossipFlows(a, b);
    await gossipFlows(b, a);
  }, 30_000);
});

describe('two hosts connected once', () => {
  it('gossipsub opens its stream again on the same connection when the stream alone ends (patches/)', async () => {
    const [a, b] = [await gossipHost(), await gossipHost()];
    const conn = await a.dial(b.getMultiaddrs()[0]!);
    await waitFor('gossip streams both ways', () => gossipStream(a, b) && gossipStream(b, a));
    await gossipFlows(a, b);
    // What an overflowing write buffer does to the stream (libp2p aborts it), or a peer resetting
    // it: the stream ends, the connection stays.
    const protocols = a.services.pubsub.protocols;
    const stream = conn.streams.find((s) => s.direction === 'outbound' && s.protocol !== undefined && protocols.includes(s.protocol))!;
    stream.abort(new Error('write buffer overflow'));
    await waitFor('the stream gone', () => !gossipStream(a, b), 5000);
    await waitFor('a gossip stream again on the same connection', () => gossipStream(a, b), 10_000);
    expect(open(a, b)).toEqual([conn]);
    await gossipFlows(a, b);
    await gossipFlows(b, a);
  }, 30_000);
});

/** Banks started together, each listing every other as a bootstrap peer. */
async function dialingEachOther(n: number): Promise<TestBank[]> {
  const ports = await freePorts(n);
  const addr = (i: number) => `/ip4/127.0.0.1/tcp/${ports[i]}`;
  return Promise.all(ports.map((_, i) => startBank({ listen: [addr(i)], bootstrap: ports.flatMap((__, j) => (j === i ? [] : [addr(j)])) })));
}

const connectionsTo = (at: TestBank) => at.mesh.peers().map((p) => p.addresses.length);

describe('banks that dial each other', () => {
  it('keep one connection per pair, and gossip, push and sync over it', async () => {
    const banks = await dialingEachOther(3);
    await waitFor('every pair connected, by one connection each', () => banks.every((b) => connectionsTo(b).length === 2 && connectionsTo(b).every((n) => n === 1)), 20_000);
    // Still one each a while later (no bank dials again), and each peer's gossip subscriptions are seen.
    await new Promise((r) => setTimeout(r, 2500));
    for (const b of banks) {
      expect(connectionsTo(b)).toEqual([1, 1]);
      for (const p of b.mesh.peers()) expect(p.gossip).toEqual(expect.arrayContaining(['heads', 'agreements', 'evidence']));
    }
    const [a, b, c] = banks as [TestBank, TestBank, TestBank];
    await a.commit(3);
    await b.commit(2);
    for (const [at, of] of [[b, a], [c, a], [a, b], [c, b]] as const) await waitFor(`a replica of size ${of.store.size}`, () => replicated(at, of));
  }, 60_000);

  it('connect again after one of them restarts, still by one connection', async () => {
    const banks = await dialingEachOther(2);
    const [a, b] = banks as [TestBank, TestBank];
    await waitFor('one connection', () => connectionsTo(a).join() === '1' && connectionsTo(b).join() === '1', 20_000);
    const bootstrap = b.mesh.addresses();
    await a.stop();
    await waitFor('b to notice', () => b.mesh.peers().length === 0, 10_000);
    await a.restart(bootstrap);
    await waitFor('the two connected again', () => connectionsTo(a).length === 1 && connectionsTo(b).length === 1, 30_000);
    // b keeps redialing a's address (its backoff doubles from REDIAL_MIN_MS, 0.5 s), so its own
    // connection to a comes a few seconds after a's; DUPLICATE_CONNECTION_CHECK_MS later the
    // pair is down to one connection again, or CHECKS such intervals later if the spare was busy.
    await new Promise((r) => setTimeout(r, 8000));
    await waitFor('one connection again', () => connectionsTo(a).join() === '1' && connectionsTo(b).join() === '1', (CHECKS + 2) * LIMITS.DUPLICATE_CONNECTION_CHECK_MS);
    await a.commit(2);
    await waitFor('b to replicate a', () => replicated(b, a));
  }, 60_000);
});
