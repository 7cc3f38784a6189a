import type { Connection, PeerId } from '@libp2p/interface';
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

  /** Checks the connection's peer `delayMs` from now (and again while a spare is busy, see CHECKS). */
  opened(conn: Connection, checks = 1): void {
    if (this.#stopped) return;
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      if (this.check(conn.remotePeer).busy > 0 && checks < CHECKS) this.opened(conn, checks + 1);
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
    this.closed += result.closed;
    return result;
  }

  stop(): void {
    this.#stopped = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }
}
