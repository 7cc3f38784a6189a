import type { Connection } from '@libp2p/interface';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import type { MeshHost } from './host.ts';
import type { MeshLogger } from './mesh.ts';

/** First and longest wait between two dials of a bootstrap address. */
export const REDIAL_MIN_MS = 500;
export const REDIAL_MAX_MS = 30_000;
/**
 * A connection to a bootstrap peer that stayed up this long resets the backoff. One that ends
 * sooner (a peer that hangs up at once, or soon after its hello) does not: such a peer is
 * dialed with a growing wait, at most once per REDIAL_MAX_MS once the wait is at its longest.
 */
export const REDIAL_STABLE_MS = 30_000;
/**
 * While a bootstrap peer cannot be reached (the dial fails, or the connection closes before
 * the hello verified), it is warned of once it has failed for REDIAL_WARN_AFTER_MS and then at
 * most once per this long, with the number of attempts; the other attempts are logged at debug.
 */
export const REDIAL_WARN_MS = 5 * 60_000;
/**
 * How long a bootstrap peer may fail before the first warning: banks of a bioregion started
 * together reach each other within seconds, and a peer restarting is back within this.
 */
export const REDIAL_WARN_AFTER_MS = 30_000;
/**
 * Wait between two dials of a bootstrap address without a peer ID whose peer said it is of
 * another bioregion: another bank may come to listen there (a host name given to a bank
 * created again, in the right bioregion). An address with a peer ID is not dialed again: a
 * bank's bioregion is written in its genesis and never changes.
 */
export const REDIAL_OTHER_BIOREGION_MS = 10 * 60_000;

export interface RedialTiming {
  readonly minMs: number;
  readonly maxMs: number;
  readonly stableMs: number;
  readonly warnMs: number;
  readonly warnAfterMs: number;
  readonly otherBioregionMs: number;
}

export const REDIAL_TIMING: RedialTiming = {
  minMs: REDIAL_MIN_MS,
  maxMs: REDIAL_MAX_MS,
  stableMs: REDIAL_STABLE_MS,
  warnMs: REDIAL_WARN_MS,
  warnAfterMs: REDIAL_WARN_AFTER_MS,
  otherBioregionMs: REDIAL_OTHER_BIOREGION_MS,
};

/** How the hello on a connection this node dialed ended. */
export type HelloOutcome =
  | { readonly kind: 'joined' }
  /** The peer's hello verified and names another bioregion: it was hung up on. */
  | { readonly kind: 'other-bioregion'; readonly bioregion: string }
  /** No verified hello (the peer hung up, did not answer, or said an invalid one): the connection was closed. */
  | { readonly kind: 'failed'; readonly err: unknown };

export interface RedialHooks {
  /** The outcome of the hello this node says on `conn`, once it is known; undefined for a connection it did not dial. */
  hello(conn: Connection): Promise<HelloOutcome> | undefined;
  /** The bioregion of a peer refused as of another bioregion, if it is one. */
  refused(peer: string): string | undefined;
}

/**
 * Keeps a connection to each bootstrap address: dials it, and after a failed attempt or a
 * disconnect dials again with exponential backoff (with jitter, capped at maxMs), reset only
 * by a connection that stayed up for stableMs, until the mesh stops or the peer there turns
 * out to be of another bioregion. An operator with a wrong address or peer learns it from a
 * warning, not from an empty list of peers.
 */
export class Redialer {
  readonly #host: MeshHost;
  readonly #addrs: readonly string[];
  readonly #hooks: RedialHooks;
  readonly #signal: AbortSignal;
  readonly #log: MeshLogger;
  readonly #t: RedialTiming;
  /** Wakes the loops waiting on a connected peer when it disconnects (two addresses may name one peer). */
  readonly #waiters = new Map<string, Set<() => void>>();

  constructor(host: MeshHost, addrs: readonly string[], hooks: RedialHooks, signal: AbortSignal, log: MeshLogger, timing: RedialTiming = REDIAL_TIMING) {
    this.#host = host;
    this.#addrs = addrs;
    this.#hooks = hooks;
    this.#signal = signal;
    this.#log = log;
    this.#t = timing;
  }

  start(): void {
    for (const addr of this.#addrs) void this.#keep(addr);
  }

  disconnected(peer: string): void {
    const wake = this.#waiters.get(peer);
    if (wake && this.#host.getConnections().every((c) => c.remotePeer.toString() !== peer)) for (const w of wake) w();
  }

  async #keep(addr: string): Promise<void> {
    let ma: Multiaddr;
    try {
      ma = multiaddr(addr);
    } catch (err) {
      this.#log.warn({ addr, err }, 'a bootstrap address is not a multiaddr: not dialing it');
      return;
    }
    const named = ma.getComponents().some((c) => c.name === 'p2p');
    let backoff = this.#t.minMs;
    /** Attempts failed in a row, since when, and when the last warning of them was logged. */
    let failed = 0;
    let failingSince = 0;
    let warnedAt: number | undefined;
    /** The last peer of another bioregion met at this address, warned of once. */
    let otherPeer: string | undefined;
    while (!this.#signal.aborted) {
      let conn: Connection;
      try {
        conn = await this.#host.dial(ma, { signal: AbortSignal.any([this.#signal, AbortSignal.timeout(10_000)]) });
      } catch (err) {
        if (this.#signal.aborted) return;
        // A list of bootstrap addresses shared by every bank of a bioregion names this one too.
        if (/dial self/i.test((err as Error | undefined)?.message ?? '')) {
          this.#log.info({ addr }, "a bootstrap address is this node's own: not dialing it");
          return;
        }
        // This node's own gater refused: a bank the operator blocked. Not a reachability problem.
        if ((err as Error | undefined)?.name === 'DialDeniedError') this.#log.debug({ err, addr, backoffMs: backoff }, 'dialing a bootstrap peer was denied here');
        else if (failed++ === 0) failingSince = performance.now();
        warnedAt = this.#failed(addr, err, failed, failingSince, warnedAt, backoff);
        backoff = await this.#wait(backoff);
        continue;
      }
      const peer = conn.remotePeer.toString();
      const openedAt = performance.now();
      const outcome = (await this.#hooks.hello(conn)) ?? { kind: 'joined' };
      const bioregion = outcome.kind === 'other-bioregion' ? outcome.bioregion : this.#hooks.refused(peer);
      if (bioregion !== undefined) {
        if (this.#signal.aborted) return;
        failed = 0;
        warnedAt = undefined;
        if (otherPeer !== peer) {
          otherPeer = peer;
          this.#log.warn(
            { addr, peer, bioregion },
            named
              ? 'a bootstrap peer is of another bioregion: not dialing it again'
              : `a bootstrap peer is of another bioregion: dialing its address again only every ${Math.round(this.#t.otherBioregionMs / 60_000)} minutes`,
          );
        } else this.#log.debug({ addr, peer, bioregion }, 'the bootstrap address still leads to a peer of another bioregion');
        if (named) return;
        await sleep(this.#t.otherBioregionMs, this.#signal);
        backoff = this.#t.minMs;
        continue;
      }
      if (outcome.kind === 'failed') {
        if (this.#signal.aborted) return;
        if (failed++ === 0) failingSince = performance.now();
        warnedAt = this.#failed(addr, outcome.err, failed, failingSince, warnedAt, backoff);
        backoff = await this.#wait(backoff);
        continue;
      }
      if (warnedAt !== undefined) this.#log.info({ addr, peer, failedAttempts: failed }, 'reached a bootstrap peer again');
      failed = 0;
      warnedAt = undefined;
      await new Promise<void>((resolve) => {
        const waiters = this.#waiters.get(peer) ?? new Set();
        this.#waiters.set(peer, waiters);
        const wake = () => {
          waiters.delete(wake);
          if (waiters.size === 0 && this.#waiters.get(peer) === waiters) this.#waiters.delete(peer);
          this.#signal.removeEventListener('abort', wake);
          resolve();
        };
        waiters.add(wake);
        this.#signal.addEventListener('abort', wake, { once: true });
        if (conn.status !== 'open' || this.#signal.aborted) wake();
      });
      if (this.#signal.aborted) return;
      const upMs = performance.now() - openedAt;
      if (upMs >= this.#t.stableMs) backoff = this.#t.minMs;
      this.#log.info({ addr, peer, upMs: Math.round(upMs), redialInMs: backoff }, 'bootstrap peer disconnected; redialing');
      backoff = await this.#wait(backoff);
    }
  }

  /**
   * Logs attempt `n` of a run of failed ones, failing since `since`: a warning once they have
   * gone on for warnAfterMs, then once per warnMs. Returns when the last warning was logged.
   */
  #failed(addr: string, err: unknown, n: number, since: number, warnedAt: number | undefined, backoff: number): number | undefined {
    const now = performance.now();
    if (warnedAt === undefined ? now - since >= this.#t.warnAfterMs : now - warnedAt >= this.#t.warnMs) {
      this.#log.warn({ addr, err, attempts: n }, 'cannot connect to a bootstrap peer; still trying');
      return now;
    }
    this.#log.debug({ addr, err, attempts: n, backoffMs: backoff }, 'dialing a bootstrap peer failed');
    return warnedAt;
  }

  /** Sleeps about `backoff` (with jitter); returns the next backoff. */
  async #wait(backoff: number): Promise<number> {
    await sleep(backoff * (0.75 + Math.random() / 2), this.#signal);
    return Math.min(backoff * 2, this.#t.maxMs);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
