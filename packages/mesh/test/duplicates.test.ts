// Two banks that dial each other keep one connection: the spare is closed once it is known
// to be idle (packages/mesh/src/duplicates.ts), and gossip, pushes and sync carry on over the
// connection that is kept.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import type { Connection, PeerId } from '@libp2p/interface';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CHECKS, DuplicateConnections, hasGossipStream, watchDuplicateConnections } from '../src/duplicates.ts';
import { createHost, type MeshHost } from '../src/host.ts';
import { replicated, startBank, stopAll, waitFor, type TestBank } from './fixture.ts';

afterEach(stopAll);

const SILENT = { info() {}, warn() {}, debug() {} };
const peer = { toString: () => 'peer' } as unknown as PeerId;
const GOSSIPING = () => true;

function conn(id: string, open: number, streams = 0, status = 'open'): Connection & { close: ReturnType<typeof vi.fn> } {
  return {
    id,
    status,
    remotePeer: peer,
    direction: 'inbound',
    timeline: { open },
    streams: Array.from({ length: streams }, () => ({})),
    close: vi.fn(async () => {}),
  } as unknown as Connection & { close: ReturnType<typeof vi.fn> };
}

describe('DuplicateConnections', () => {
  it('closes the idle connections to a peer other than its oldest', () => {
    const old = conn('old', 1, 3);
    const spare = conn('spare', 2);
    const spare2 = conn('spare2', 3);
    const d = new DuplicateConnections(() => [spare, old, spare2], GOSSIPING, 10, SILENT);
    expect(d.check(peer)).toEqual({ closed: 2, busy: 0 });
    expect(old.close).not.toHaveBeenCalled();
    expect(spare.close).toHaveBeenCalledOnce();
    expect(spare2.close).toHaveBeenCalledOnce();
  });

  it('keeps the oldest connection even when it is idle, and a newer one that carries streams', () => {
    const old = conn('old', 1);
    const busy = conn('busy', 2, 1);
    const d = new DuplicateConnections(() => [old, busy], GOSSIPING, 10, SILENT);
    expect(d.check(peer)).toEqual({ closed: 0, busy: 1 });
    expect(old.close).not.toHaveBeenCalled();
    expect(busy.close).not.toHaveBeenCalled();
  });

  it('does nothing with one open connection, counting only open ones', () => {
    const only = conn('only', 2);
    const closing = conn('closing', 1, 0, 'closing');
    const d = new DuplicateConnections(() => [closing, only], GOSSIPING, 10, SILENT);
    expect(d.check(peer)).toEqual({ closed: 0, busy: 0 });
    expect(only.close).not.toHaveBeenCalled();
    expect(closing.close).not.toHaveBeenCalled();
  });

  it('checks a peer the given delay after its connection opens, and not after stop', async () => {
    vi.useFakeTimers();
    try {
      const old = conn('old', 1, 1);
      const spare = conn('spare', 2);
      const d = new DuplicateConnections(() => [old, spare], GOSSIPING, 2000, SILENT);
      d.opened(spare);
      vi.advanceTimersByTime(1999);
      expect(spare.close).not.toHaveBeenCalled();
      vi.advanceTimersByTime(1);
      expect(spare.close).toHaveBeenCalledOnce();

      const later = conn('later', 3);
      const d2 = new DuplicateConnections(() => [old, later], GOSSIPING, 2000, SILENT);
      d2.opened(later);
      d2.stop();
      vi.advanceTimersByTime(5000);
      expect(later.close).not.toHaveBeenCalled();
    } finally {
      vi.useRealTimers();
    }
  });

  it('looks again at a spare that carried a stream, up to CHECKS times', () => {
    vi.useFakeTimers();
    try {
      const old = conn('old', 1, 1);
      const spare = conn('spare', 2, 1); // an exchange in progress
      const d = new DuplicateConnections(() => [old, spare], GOSSIPING, 2000, SILENT);
      d.opened(spare);
      vi.advanceTimersByTime(2000 * 2);
      expect(spare.close).not.toHaveBeenCalled();
      (spare.streams as unknown[]).length = 0; // the exchange is over
      vi.advanceTimersByTime(2000);
      expect(spare.close).toHaveBeenCalledOnce();

      const stuck = conn('stuck', 3, 1);
      let looks = 0;
      const d2 = new DuplicateConnections(() => (looks++, [old, stuck]), GOSSIPING, 2000, SILENT);
      d2.opened(stuck);
      vi.advanceTimersByTime(2000 * (CHECKS + 3));
      expect(looks).toBe(CHECKS);
      expect(stuck.close).not.toHaveBeenCalled();
    } finally {
      vi.useRealTimers();
    }
  });

  it('closes every connection to a connected peer that gossipsub has no stream to', () => {
    const a = conn('a', 1, 2);
    const b = conn('b', 2, 1);
    const closing = conn('closing', 0, 0, 'closing');
    let gossiping = false;
    const d = new DuplicateConnections(() => [closing, a, b], () => gossiping, 10, SILENT);
    expect(d.checkGossip(peer)).toBe(2);
    expect(a.close).toHaveBeenCalledOnce();
    expect(b.close).toHaveBeenCalledOnce();
    expect(closing.close).not.toHaveBeenCalled();

    gossiping = true;
    const c = conn('c', 3, 1);
    const d2 = new DuplicateConnections(() => [c], () => gossiping, 10, SILENT);
    expect(d2.checkGossip(peer)).toBe(0);
    expect(c.close).not.toHaveBeenCalled();
    const d3 = new DuplicateConnections(() => [], () => false, 10, SILENT);
    expect(d3.checkGossip(peer)).toBe(0);
  });

  it('checks for a lost gossip stream the given delay after a connection closes, and not after stop', () => {
    vi.useFakeTimers();
    try {
      const gone = conn('gone', 1, 0, 'closed');
      const left = conn('left', 2, 1);
      const d = new DuplicateConnections(() => [gone, left], () => false, 2000, SILENT);
      d.closed(gone);
      vi.advanceTimersByTime(1999);
      expect(left.close).not.toHaveBeenCalled();
      vi.advanceTimersByTime(1);
      expect(left.close).toHaveBeenCalledOnce();

      const left2 = conn('left2', 2, 1);
      const d2 = new DuplicateConnections(() => [gone, left2], () => false, 2000, SILENT);
      d2.closed(gone);
      d2.stop();
      vi.advanceTimersByTime(5000);
      expect(left2.close).not.toHaveBeenCalled();
    } finally {
      vi.useRealTimers();
    }
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

/**
 * Two hosts connected twice: gossipsub's streams on the first connection, a stream held open on
 * the second so that it is not closed as a spare; then the first closes.
 */
async function gossipConnectionLost(watch: boolean): Promise<{ a: MeshHost; b: MeshHost }> {
  const [a, b] = [await gossipHost(), await gossipHost()];
  if (watch) for (const h of [a, b]) watchDuplicateConnections(h, 300, SILENT);
  const first = await a.dial(b.getMultiaddrs()[0]!);
  await waitFor('gossip streams both ways', () => gossipStream(a, b) && gossipStream(b, a));
  const second = await a.dial(b.getMultiaddrs()[0]!, { force: true });
  await second.newStream(HOLD);
  expect(open(a, b)).toHaveLength(2);
  const [bFirst] = open(b, a).sort((x, y) => x.timeline.open - y.timeline.open);
  expect(hasGossipStream(a, first)).toBe(true);
  expect(hasGossipStream(a, second)).toBe(false);
  expect(hasGossipStream(b, bFirst!)).toBe(true);
  await first.close();
  return { a, b };
}

describe('a gossip stream lost with its connection', () => {
  it('is lost for good while another connection stays open, without the check (gossipsub alone)', async () => {
    const { a, b } = await gossipConnectionLost(false);
    await new Promise((r) => setTimeout(r, 1500));
    expect(open(a, b)).toHaveLength(1);
    expect(gossipStream(a, b)).toBe(false);
    expect(gossipStream(b, a)).toBe(false);
  }, 30_000);

  it('makes both ends drop the peer, and gossip flows again over the next connection', async () => {
    const { a, b } = await gossipConnectionLost(true);
    await waitFor('the remaining connection closed', () => open(a, b).length === 0 && open(b, a).length === 0, 10_000);
    // What the bootstrap redial does in a bank.
    await a.dial(b.getMultiaddrs()[0]!);
    await waitFor('gossip streams both ways again', () => gossipStream(a, b) && gossipStream(b, a), 10_000);
    await waitFor('b in a\'s topic peers', () => a.services.pubsub.getSubscribers(TOPIC).some((p) => p.equals(b.peerId)), 10_000);
    const got: Uint8Array[] = [];
    b.services.pubsub.addEventListener('message', (e) => got.push(e.detail.data));
    const data = randomBytes(16);
    await a.services.pubsub.publish(TOPIC, data);
    await waitFor('the message at b', () => got.some((d) => Buffer.from(d).equals(data)), 10_000);
  }, 30_000);
});

async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, () => new Promise<ReturnType<typeof createServer>>((res, rej) => {
      const s = createServer();
      s.once('error', rej);
      s.listen(0, '127.0.0.1', () => res(s));
    })),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

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
    // pair is down to one connection again.
    await new Promise((r) => setTimeout(r, 8000));
    await waitFor('one connection again', () => connectionsTo(a).join() === '1' && connectionsTo(b).join() === '1', 5000);
    await a.commit(2);
    await waitFor('b to replicate a', () => replicated(b, a));
  }, 60_000);
});
