import type { Connection } from '@libp2p/interface';

/**
 * Inbound connections whose dialer has not completed a hello yet. The dialer says hello as
 * soon as it connects; one that does not (a scanner, a stuck or hostile peer) would otherwise
 * hold one of the MAX_PEERS connection slots for as long as it likes. Past the deadline the
 * connection is closed. Outbound connections need no watch: this node's own hello there has
 * its own timeout and closes the connection when it fails.
 */
export class HelloDeadlines {
  readonly #ms: number;
  readonly #onExpire: (conn: Connection) => void;
  readonly #timers = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(ms: number, onExpire: (conn: Connection) => void) {
    this.#ms = ms;
    this.#onExpire = onExpire;
  }

  /** Starts the clock of an inbound connection. */
  watch(conn: Connection): void {
    const timer = setTimeout(() => {
      this.#timers.delete(conn.id);
      if (conn.status === 'open') this.#onExpire(conn);
    }, this.#ms);
    // A pending deadline is no reason to keep the process alive.
    timer.unref();
    this.#timers.set(conn.id, timer);
  }

  /** The connection's hello completed (or it closed): no deadline any more. */
  clear(conn: Connection): void {
    clearTimeout(this.#timers.get(conn.id));
    this.#timers.delete(conn.id);
  }

  /** Cancels every deadline (the mesh is stopping). */
  stop(): void {
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
  }
}
