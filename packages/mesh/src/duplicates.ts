import type { Connection, PeerId } from '@libp2p/interface';
import type { MeshHost } from './host.ts';
import type { MeshLogger } from './mesh.ts';

/** Looks at a peer's connections at most this many times after one opens. */
export const CHECKS = 5;

/**
 * Closes the spare connections of a pair of banks that dialed each other.
 *
 * Two banks that list each other as bootstrap peers each dial the other, and libp2p keeps both
 * connections: dialing an address without a peer ID, it cannot tell that it already has a
 * connection to the peer there. Every stream then goes on the older connection (gossipsub's,
 * pushes, sync) and the newer one stays idle: it counts against MAX_PEERS, is pinged, and if
 * the older one then closes alone, gossipsub is left with no stream to that peer (it opens its
 * stream when a peer connects, not when one of two connections closes).
 *
 * `delayMs` after a connection opens, each side closes every open connection to that peer but
 * the oldest, among those that carry no stream; a spare that still carries one then (a ping or
 * an identify exchange in progress) is looked at again, `delayMs` later each time, up to
 * CHECKS times in all. Both ends of a connection see the same streams and nearly the same
 * opening time, so both close the same spare. Should two connections open within the same
 * instant and each side close a different one, the peer disconnects and the bootstrap redial
 * connects the two again.
 *
 * Gossipsub keeps one outbound stream per peer and opens it when the peer connects. If the
 * connection that carried it closes while another stays open (a spare still busy, or the new
 * connection of a peer that restarted before its old one was found dead: gossipsub does not
 * open a second stream while the first is there), gossipsub sends that peer nothing more while the two stay connected.
 * So `delayMs` after a connection closes, if its peer is still connected and gossipsub has no
 * stream to it, every connection to the peer is closed: the peer disconnects, the bootstrap
 * redial connects the two again, and gossipsub opens its streams on the new connection.
 */
export class DuplicateConnections {
  readonly #connections: (peer: PeerId) => Connection[];
  readonly #gossiping: (peer: PeerId) => boolean;
  readonly #delayMs: number;
  readonly #log: MeshLogger;
  readonly #timers = new Set<NodeJS.Timeout>();
  #stopped = false;

  /**
   * `connections` lists a peer's connections; `gossiping` tells whether gossipsub has its
   * outbound stream to the peer.
   */
  constructor(connections: (peer: PeerId) => Connection[], gossiping: (peer: PeerId) => boolean, delayMs: number, log: MeshLogger) {
    this.#connections = connections;
    this.#gossiping = gossiping;
    this.#delayMs = delayMs;
    this.#log = log;
  }

  /** Checks the connection's peer `delayMs` from now (and again while a spare is busy, see CHECKS). */
  opened(conn: Connection, checks = 1): void {
    if (this.#stopped) return;
    this.#later(() => {
      if (this.check(conn.remotePeer).busy > 0 && checks < CHECKS) this.opened(conn, checks + 1);
    });
  }

  /** Checks the closed connection's peer for a lost gossip stream `delayMs` from now. */
  closed(conn: Connection): void {
    if (this.#stopped) return;
    this.#later(() => this.checkGossip(conn.remotePeer));
  }

  /**
   * Closes every connection to `peer` when it has open ones but gossipsub has no stream to it;
   * returns how many it closed.
   */
  checkGossip(peer: PeerId): number {
    if (this.#stopped) return 0;
    const open = this.#connections(peer).filter((c) => c.status === 'open');
    if (open.length === 0 || this.#gossiping(peer)) return 0;
    this.#log.info({ peer: peer.toString(), connections: open.length }, 'gossip stream to a connected peer lost with its connection: reconnecting');
    for (const c of open) void c.close().catch(() => {});
    return open.length;
  }

  #later(fn: () => void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      fn();
    }, this.#delayMs);
    timer.unref();
    this.#timers.add(timer);
  }

  /**
   * Closes the idle open connections to `peer` other than its oldest; returns how many it
   * closed and how many spares it left because they carry streams.
   */
  check(peer: PeerId): { closed: number; busy: number } {
    const result = { closed: 0, busy: 0 };
    if (this.#stopped) return result;
    const open = this.#connections(peer).filter((c) => c.status === 'open');
    if (open.length < 2) return result;
    const oldest = open.reduce((a, b) => (b.timeline.open < a.timeline.open ? b : a));
    for (const c of open) {
      if (c === oldest) continue;
      if (c.streams.length > 0) {
        result.busy++;
        continue;
      }
      this.#log.debug({ peer: peer.toString(), connection: c.id, direction: c.direction }, 'closing a spare connection to a connected peer');
      void c.close().catch(() => {});
      result.closed++;
    }
    return result;
  }

  stop(): void {
    this.#stopped = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }
}

/** A DuplicateConnections over `host`'s connections and gossipsub, told of each connection that opens or closes. */
export function watchDuplicateConnections(host: MeshHost, delayMs: number, log: MeshLogger): DuplicateConnections {
  const d = new DuplicateConnections(
    (peer) => host.getConnections(peer),
    (peer) => host.getConnections(peer).some((c) => c.status === 'open' && hasGossipStream(host, c)),
    delayMs,
    log,
  );
  host.addEventListener('connection:open', (e) => d.opened(e.detail));
  host.addEventListener('connection:close', (e) => d.closed(e.detail));
  return d;
}

/** Whether `conn` carries the stream on which `host`'s gossipsub sends to the peer. */
export function hasGossipStream(host: MeshHost, conn: Connection): boolean {
  const protocols = host.services.pubsub.protocols;
  return conn.streams.some((s) => s.direction === 'outbound' && s.protocol !== undefined && protocols.includes(s.protocol));
}
