import { randomBytes } from 'node:crypto';
import type { Connection, PeerId } from '@libp2p/interface';
import type { MeshHost } from './host.ts';
import type { MeshLogger } from './mesh.ts';

/** Looks at a peer's connections at most this many times after one opens. */
export const CHECKS = 5;

/** libp2p's ping protocol, which every host of the mesh answers. */
const PING_PROTOCOL = '/ipfs/ping/1.0.0';
const PING_BYTES = 32;

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
  const together = open.filter((c) => c.timeline.open <= oldest(open).timeline.open + SIMULTANEOUS_MS);
  const remote = open[0]!.remotePeer.toString();
  const first = remote < self ? remote : self;
  const preferred = together.filter((c) => (c.direction === 'outbound' ? self : remote) === first);
  return oldest(preferred.length > 0 ? preferred : together);
}

export interface DuplicateConnectionsOptions {
  /** This node's peer ID. */
  readonly self: string;
  /** A peer's connections. */
  readonly connections: (peer: PeerId) => Connection[];
  /** Whether `conn` carries gossipsub's outbound stream to its peer. */
  readonly gossips: (conn: Connection) => boolean;
  /** Whether the peer answers over `conn` (a ping on that connection). */
  readonly alive: (conn: Connection) => Promise<boolean>;
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
 * `delayMs` after a connection opens, each side picks the connection to keep ({@link keeperOf}:
 * the oldest, or of two opened together the one dialed by the lower peer ID, the same choice at
 * both ends), checks with a ping over it that the peer answers there (a peer
 * that restarted may have connected again before its old connection was found dead: a keeper
 * that does not answer is closed instead), and closes the other open connections that carry no
 * stream. A spare still carrying one is looked at again, `delayMs` later each time; at the
 * CHECKS-th look it is closed anyway. The node's own streams go on the keeper
 * ({@link DuplicateConnections.preferred}) and are opened again there when a spare closes under
 * them; gossipsub opens its stream again on a peer's remaining connection
 * (patches/README.md).
 *
 * As a last resort, `delayMs` after a connection closes and again as long after that, if the
 * peer is still connected by connections that were open before the close and none of them
 * carries gossipsub's stream, they are closed: the peer disconnects, the bootstrap redial
 * connects the two again, and gossipsub opens its streams on the new connection.
 */
export class DuplicateConnections {
  readonly #o: DuplicateConnectionsOptions;
  readonly #timers = new Set<NodeJS.Timeout>();
  #stopped = false;

  constructor(o: DuplicateConnectionsOptions) {
    this.#o = o;
  }

  /** The connection to open new streams to `peer` on: the one that will be kept. */
  preferred(peer: PeerId): Connection | undefined {
    return keeperOf(this.#open(peer), this.#o.self);
  }

  /** Checks the connection's peer `delayMs` from now (and again while a spare is busy, see CHECKS). */
  opened(conn: Connection, checks = 1): void {
    this.#later(async () => {
      const { busy } = await this.check(conn.remotePeer, checks >= CHECKS);
      if (busy > 0 && checks < CHECKS) this.opened(conn, checks + 1);
    });
  }

  /**
   * Keeps one of the open connections to `peer` (see the class): closes a keeper that does not
   * answer a ping, else the other connections that carry no stream, or all of them when `last`;
   * returns how many it closed and how many spares it left because they carry streams.
   */
  async check(peer: PeerId, last = false): Promise<{ closed: number; busy: number }> {
    const result = { closed: 0, busy: 0 };
    if (this.#stopped || this.#open(peer).length < 2) return result;
    const keeper = keeperOf(this.#open(peer), this.#o.self)!;
    if (!(await this.#o.alive(keeper))) {
      if (this.#stopped || keeper.status !== 'open') return result;
      this.#o.log.info({ peer: peer.toString(), connection: keeper.id }, 'a connection to a peer connected twice did not answer a ping: closing it');
      void keeper.close().catch(() => {});
      result.closed++;
      // The others are looked at again: more than one may be left.
      if (this.#open(peer).length > 1) result.busy++;
      return result;
    }
    if (this.#stopped) return result;
    for (const c of this.#open(peer)) {
      if (c === keeper) continue;
      if (c.streams.length > 0 && !last) {
        result.busy++;
        continue;
      }
      this.#o.log.debug({ peer: peer.toString(), connection: c.id, direction: c.direction, streams: c.streams.length }, 'closing a spare connection to a connected peer');
      void c.close().catch(() => {});
      result.closed++;
    }
    return result;
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
    const open = this.#open(peer);
    const older = open.filter((c) => c.timeline.open <= before);
    return older.length > 0 && !open.some((c) => this.#o.gossips(c));
  }

  /** Closes the connections of {@link gossipLost}; returns how many it closed. */
  checkGossip(peer: PeerId, before: number): number {
    if (this.#stopped || !this.gossipLost(peer, before)) return 0;
    const older = this.#open(peer).filter((c) => c.timeline.open <= before);
    this.#o.log.info({ peer: peer.toString(), connections: older.length }, 'gossip stream to a connected peer lost with its connection: reconnecting');
    for (const c of older) void c.close().catch(() => {});
    return older.length;
  }

  stop(): void {
    this.#stopped = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }

  #open(peer: PeerId): Connection[] {
    return this.#o.connections(peer).filter((c) => c.status === 'open');
  }

  #later(fn: () => unknown): void {
    if (this.#stopped) return;
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      if (!this.#stopped) void fn();
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

/**
 * Whether the peer answers a ping over `conn` within `timeoutMs`: libp2p's ping protocol (32
 * random bytes, echoed) on a new stream of that connection.
 */
export async function pingOver(conn: Connection, timeoutMs: number): Promise<boolean> {
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    const stream = await conn.newStream(PING_PROTOCOL, { signal });
    try {
      const sent = randomBytes(PING_BYTES);
      const echoed = new Promise<boolean>((resolve) => {
        const got: Uint8Array[] = [];
        let length = 0;
        const done = (ok: boolean) => {
          stream.removeEventListener('message', onMessage);
          stream.removeEventListener('close', onClose);
          signal.removeEventListener('abort', onClose);
          resolve(ok);
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
      return await echoed;
    } finally {
      await stream.close({ signal: AbortSignal.timeout(timeoutMs) }).catch(() => stream.abort(new Error('ping done')));
    }
  } catch {
    return false;
  }
}

/** A DuplicateConnections over `host`'s connections and gossipsub, told of each connection that opens or closes. */
export function watchDuplicateConnections(host: MeshHost, delayMs: number, log: MeshLogger): DuplicateConnections {
  const d = new DuplicateConnections({
    self: host.peerId.toString(),
    connections: (peer) => host.getConnections(peer),
    gossips: (conn) => hasGossipStream(host, conn),
    alive: (conn) => pingOver(conn, delayMs),
    delayMs,
    log,
  });
  host.addEventListener('connection:open', (e) => d.opened(e.detail));
  host.addEventListener('connection:close', (e) => d.closed(e.detail));
  return d;
}
