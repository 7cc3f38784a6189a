import type { Connection, PeerId } from '@libp2p/interface';
import type { MeshLogger } from './mesh.ts';

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
 * the oldest, among those that carry no stream. Both ends of a connection see the same streams
 * and nearly the same opening time, so both close the same spare. Should two connections open
 * within the same instant and each side close a different one, the peer disconnects and the
 * bootstrap redial connects the two again.
 */
export class DuplicateConnections {
  readonly #connections: (peer: PeerId) => Connection[];
  readonly #delayMs: number;
  readonly #log: MeshLogger;
  readonly #timers = new Set<NodeJS.Timeout>();
  #stopped = false;
  /** Spare connections closed so far. */
  closed = 0;

  constructor(connections: (peer: PeerId) => Connection[], delayMs: number, log: MeshLogger) {
    this.#connections = connections;
    this.#delayMs = delayMs;
    this.#log = log;
  }

  /** Checks the connection's peer `delayMs` from now. */
  opened(conn: Connection): void {
    if (this.#stopped) return;
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      this.check(conn.remotePeer);
    }, this.#delayMs);
    timer.unref();
    this.#timers.add(timer);
  }

  /** Closes the idle open connections to `peer` other than its oldest; returns how many. */
  check(peer: PeerId): number {
    if (this.#stopped) return 0;
    const open = this.#connections(peer).filter((c) => c.status === 'open');
    if (open.length < 2) return 0;
    const oldest = open.reduce((a, b) => (b.timeline.open < a.timeline.open ? b : a));
    let n = 0;
    for (const c of open) {
      if (c === oldest || c.streams.length > 0) continue;
      this.#log.debug({ peer: peer.toString(), connection: c.id, direction: c.direction }, 'closing a spare connection to a connected peer');
      void c.close().catch(() => {});
      n++;
    }
    this.closed += n;
    return n;
  }

  stop(): void {
    this.#stopped = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }
}
