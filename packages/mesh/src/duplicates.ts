import { randomBytes } from 'node:crypto';
import type { Connection, PeerId, Stream } from '@libp2p/interface';
import type { MeshHost } from './host.ts';
import type { MeshLogger } from './mesh.ts';

/**
 * At this look after a connection opened, a spare still carrying streams is closed; the peer is
 * looked at CHECKS + 1 times at most (the end that does not decide closes a look later).
 */
export const CHECKS = 5;

/** libp2p's ping protocol, which every host of the mesh answers. */
const PING_PROTOCOL = '/ipfs/ping/1.0.0';
const PING_BYTES = 32;
/** How long a ping of a peer connected twice may take (libp2p's own ping timeout). */
export const PING_TIMEOUT_MS = 10_000;

/**
 * Connections to one peer opened within this many milliseconds of the oldest count as opened
 * together: the two ends may have seen them open in either order.
 */
export const SIMULTANEOUS_MS = 50;

/**
 * The connection to keep of a peer's open connections (`self` is this node's peer ID): the
 * oldest, which carries the streams already open; but of connections opened together
 * (SIMULTANEOUS_MS), one dialed by the peer whose ID sorts first, the oldest of those. Both ends
 * make the same choice from the same connections, also when the two dialed each other at the
 * same instant and each saw its own dial complete first.
 */
export function keeperOf(open: readonly Connection[], self: string): Connection | undefined {
  if (open.length === 0) return undefined;
  const oldest = (cs: readonly Connection[]) => cs.reduce((a, b) => (b.timeline.open < a.timeline.open ? b : a));
  const first = oldest(open).timeline.open;
  const together = open.filter((c) => c.timeline.open <= first + SIMULTANEOUS_MS);
  const remote = open[0]!.remotePeer.toString();
  const lower = remote < self ? remote : self;
  const preferred = together.filter((c) => (c.direction === 'outbound' ? self : remote) === lower);
  return oldest(preferred.length > 0 ? preferred : together);
}

export interface DuplicateConnectionsOptions {
  /** This node's peer ID. */
  readonly self: string;
  /** A peer's connections. */
  readonly connections: (peer: PeerId) => Connection[];
  /** Whether `conn` carries gossipsub's outbound stream to its peer. */
  readonly gossips: (conn: Connection) => boolean;
  /** Whether the peer answers over `conn` (a ping on that connection); undefined when this node could not tell. */
  readonly alive: (conn: Connection) => Promise<boolean | undefined>;
  readonly delayMs: number;
  readonly log: MeshLogger;
}

/**
 * Closes the spare connections of a pair of banks that dialed each other.
 *
 * Two banks that list each other as bootstrap peers each dial the other, and libp2p keeps both
 * connections: dialing an address without a peer ID, it cannot tell that it already has a
 * connection to the peer there. The spare counts against MAX_PEERS and is pinged; and when the
 * two dialed at the same instant, each end may put its long-lived streams (gossipsub's, pushes,
 * sync) on a different connection, so neither is ever idle.
 *
 * `delayMs` after a connection opens, and as long again each time while the peer has spares,
 * CHECKS + 1 times at most, the node looks at the peer's connections (one look at a time): it
 * picks the connection to keep ({@link keeperOf}: the oldest, or of two opened together the one
 * dialed by the lower peer ID), and closes the spares that carry no stream, or every spare at
 * the CHECKS-th look. Only the end with the lower peer ID closes spares, so that the two never
 * close each other's keeper; the other end closes them only when they are still there a look
 * later (the deciding end may not hold the same connections: one of its own may be dead).
 * Before closing a spare, the node pings the peer over the keeper: a peer that restarted may
 * have connected again before its old connection was found dead; when the keeper does not
 * answer and a spare does, the keeper is closed instead. The node's own streams go on the
 * keeper ({@link DuplicateConnections.preferred}), and gossipsub opens its stream again on a
 * peer's remaining connection (patches/README.md).
 *
 * As a last resort, `delayMs` after a connection closes and again as long after that, if the
 * peer is still connected by connections that were open before the close and none of them
 * carries gossipsub's stream, they are closed: the peer disconnects, the bootstrap redial
 * connects the two again, and gossipsub opens its streams on the new connection.
 */
export class DuplicateConnections {
  readonly #o: DuplicateConnectionsOptions;
  readonly #timers = new Set<NodeJS.Timeout>();
  /** The check of each peer (peer ID) in progress: checks of one peer run one after the other. */
  readonly #checks = new Map<string, Promise<void>>();
  #stopped = false;

  constructor(o: DuplicateConnectionsOptions) {
    this.#o = o;
  }

  /** The connection to open new streams to `peer` on: the one that will be kept. */
  preferred(peer: PeerId): Connection | undefined {
    return keeperOf(this.#open(peer), this.#o.self);
  }

  /**
   * Looks at the connection's peer `delayMs` from now, and again as long later each time while
   * it has spares, CHECKS + 1 times at most.
   */
  opened(conn: Connection, look = 1): void {
    this.#later(async () => {
      const { left } = await this.check(conn.remotePeer);
      if (left > 0 && look <= CHECKS) this.opened(conn, look + 1);
    });
  }

  /**
   * Keeps one of the open connections to `peer` (see the class); returns how many it closed and
   * how many spares are left. One check of a peer runs at a time.
   */
  check(peer: PeerId): Promise<{ closed: number; left: number }> {
    const id = peer.toString();
    const run = (this.#checks.get(id) ?? Promise.resolve()).then(() => this.#check(peer));
    const settled = run.then(
      () => {},
      () => {},
    );
    this.#checks.set(id, settled);
    void settled.then(() => {
      if (this.#checks.get(id) === settled) this.#checks.delete(id);
    });
    return run;
  }

  async #check(peer: PeerId): Promise<{ closed: number; left: number }> {
    const open = this.#open(peer);
    if (this.#stopped || open.length < 2) return { closed: 0, left: 0 };
    const keeper = keeperOf(open, this.#o.self)!;
    const spares = open.filter((c) => c !== keeper);
    // The end with the lower peer ID decides; the other closes spares only when that has not
    // happened long after (the first may not see the same connections: one it holds may be dead).
    const decides = this.#o.self < peer.toString();
    const now = Date.now();
    const age = (c: Connection) => now - c.timeline.open;
    const closable = (c: Connection) =>
      decides ? c.streams.length === 0 || age(c) >= (CHECKS - 0.5) * this.#o.delayMs : age(c) >= (CHECKS + 0.5) * this.#o.delayMs;
    const closing = spares.filter(closable);
    if (closing.length === 0) return { closed: 0, left: spares.length };
    // Before closing what may carry streams, make sure the peer answers on the keeper. A peer
    // that restarted may have connected again before its old connection was found dead: then
    // the keeper is closed, but only when a spare answers (a slow peer answers on none).
    const alive = await this.#o.alive(keeper);
    if (this.#stopped) return { closed: 0, left: spares.length };
    if (alive === false) {
      for (const c of spares) {
        if (c.status === 'open' && (await this.#o.alive(c)) === true && keeper.status === 'open' && !this.#stopped) {
          this.#o.log.info({ peer: peer.toString(), connection: keeper.id }, 'a peer connected twice answered on a newer connection only: closing the older');
          void keeper.close().catch(() => {});
          return { closed: 1, left: spares.length - 1 };
        }
      }
      return { closed: 0, left: spares.length };
    }
    if (alive === undefined) return { closed: 0, left: spares.length };
    let closed = 0;
    for (const c of closing) {
      if (c.status !== 'open') continue;
      this.#o.log.debug({ peer: peer.toString(), connection: c.id, direction: c.direction, streams: c.streams.length }, 'closing a spare connection to a connected peer');
      void c.close().catch(() => {});
      closed++;
    }
    return { closed, left: spares.length - closed };
  }

  /** Looks for a lost gossip stream to the closed connection's peer `delayMs` from now, and again as long after. */
  closed(conn: Connection): void {
    const closedAt = Date.now();
    this.#later(() => {
      if (this.gossipLost(conn.remotePeer, closedAt)) this.#later(() => void this.checkGossip(conn.remotePeer, closedAt));
    });
  }

  /**
   * Whether `peer` is connected by connections opened before `before` (ms since the epoch), none
   * of which carries gossipsub's stream (newer ones get a stream of their own when identified).
   */
  gossipLost(peer: PeerId, before: number): boolean {
    return this.#withoutGossip(peer, before).length > 0;
  }

  /** Closes the connections of {@link gossipLost}; returns how many it closed. */
  checkGossip(peer: PeerId, before: number): number {
    const older = this.#stopped ? [] : this.#withoutGossip(peer, before);
    if (older.length === 0) return 0;
    this.#o.log.info({ peer: peer.toString(), connections: older.length }, 'gossip stream to a connected peer lost with its connection: reconnecting');
    for (const c of older) void c.close().catch(() => {});
    return older.length;
  }

  stop(): void {
    this.#stopped = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }

  /** The connections of `peer` opened before `before` when none of its connections carries gossipsub's stream, else none. */
  #withoutGossip(peer: PeerId, before: number): Connection[] {
    const open = this.#open(peer);
    return open.some((c) => this.#o.gossips(c)) ? [] : open.filter((c) => c.timeline.open <= before);
  }

  #open(peer: PeerId): Connection[] {
    return this.#o.connections(peer).filter((c) => c.status === 'open');
  }

  #later(fn: () => unknown): void {
    if (this.#stopped) return;
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      if (this.#stopped) return;
      // Whatever goes wrong in a look is logged, never an unhandled rejection (which stops a node).
      Promise.resolve()
        .then(fn)
        .catch((err: unknown) => this.#o.log.warn({ err }, 'looking at the connections to a peer failed'));
    }, this.#o.delayMs);
    timer.unref();
    this.#timers.add(timer);
  }
}

/** Whether `conn` carries the stream on which `host`'s gossipsub sends to the peer, open for writing. */
export function hasGossipStream(host: MeshHost, conn: Connection): boolean {
  const protocols = host.services.pubsub.protocols;
  return conn.streams.some((s) => s.direction === 'outbound' && s.writeStatus === 'writable' && s.protocol !== undefined && protocols.includes(s.protocol));
}

/** Errors that say nothing of the peer: a local limit, or a peer that answered without ping. */
const UNTOLD = new Set(['TooManyOutboundProtocolStreamsError', 'UnsupportedProtocolError']);

/**
 * Whether the peer answers a ping over `conn` within `timeoutMs`: libp2p's ping protocol (32
 * random bytes, echoed) on a new stream of that connection. Undefined when this node could not
 * tell (a local stream limit, or a peer that does not speak the ping protocol).
 */
export async function pingOver(conn: Connection, timeoutMs: number): Promise<boolean | undefined> {
  if (conn.status !== 'open') return false;
  const signal = AbortSignal.timeout(timeoutMs);
  let stream: Stream;
  try {
    stream = await conn.newStream(PING_PROTOCOL, { signal });
  } catch (err) {
    return UNTOLD.has((err as Error).name) ? undefined : false;
  }
  let ok = false;
  try {
    const sent = randomBytes(PING_BYTES);
    const echoed = new Promise<boolean>((resolve) => {
      const got: Uint8Array[] = [];
      let length = 0;
      const done = (answer: boolean) => {
        stream.removeEventListener('message', onMessage);
        stream.removeEventListener('close', onClose);
        signal.removeEventListener('abort', onClose);
        resolve(answer);
      };
      const onMessage = (e: { data: { subarray(): Uint8Array } | Uint8Array }) => {
        const bytes = e.data instanceof Uint8Array ? e.data : e.data.subarray();
        got.push(bytes);
        length += bytes.length;
        if (length >= PING_BYTES) done(Buffer.concat(got).subarray(0, PING_BYTES).equals(sent));
      };
      const onClose = () => done(false);
      stream.addEventListener('message', onMessage);
      stream.addEventListener('close', onClose);
      signal.addEventListener('abort', onClose);
    });
    if (!stream.send(sent)) await stream.onDrain({ signal });
    ok = await echoed;
    return ok;
  } catch {
    return false;
  } finally {
    // A stream left half open would count against the ping protocol's stream limit.
    if (ok) await stream.close({ signal: AbortSignal.timeout(timeoutMs) }).catch(() => stream.abort(new Error('ping done')));
    else stream.abort(new Error('no answer to a ping'));
  }
}

/** A DuplicateConnections over `host`'s connections and gossipsub, told of each connection that opens or closes. */
export function watchDuplicateConnections(host: MeshHost, delayMs: number, log: MeshLogger, pingTimeoutMs = PING_TIMEOUT_MS): DuplicateConnections {
  const d = new DuplicateConnections({
    self: host.peerId.toString(),
    connections: (peer) => host.getConnections(peer),
    gossips: (conn) => hasGossipStream(host, conn),
    alive: (conn) => pingOver(conn, pingTimeoutMs),
    delayMs,
    log,
  });
  host.addEventListener('connection:open', (e) => d.opened(e.detail));
  host.addEventListener('connection:close', (e) => d.closed(e.detail));
  return d;
}
