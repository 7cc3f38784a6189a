import { multiaddr } from '@multiformats/multiaddr';
import type { MeshHost } from './host.ts';
import type { MeshLogger } from './mesh.ts';

/** First and longest wait between two dials of a bootstrap address. */
export const REDIAL_MIN_MS = 500;
export const REDIAL_MAX_MS = 30_000;

/**
 * Keeps a connection to each bootstrap address: dials it, and after a failed dial or a
 * disconnect dials again with exponential backoff (with jitter, capped at REDIAL_MAX_MS),
 * until the mesh stops or the peer turns out to be of another bioregion.
 */
export class Redialer {
  readonly #host: MeshHost;
  readonly #addrs: readonly string[];
  readonly #refused: (peer: string) => boolean;
  readonly #signal: AbortSignal;
  readonly #log: MeshLogger;
  /** Wakes the loop waiting on a connected peer when it disconnects. */
  readonly #waiters = new Map<string, () => void>();

  constructor(host: MeshHost, addrs: readonly string[], refused: (peer: string) => boolean, signal: AbortSignal, log: MeshLogger) {
    this.#host = host;
    this.#addrs = addrs;
    this.#refused = refused;
    this.#signal = signal;
    this.#log = log;
  }

  start(): void {
    for (const addr of this.#addrs) void this.#keep(addr);
  }

  disconnected(peer: string): void {
    const wake = this.#waiters.get(peer);
    if (wake && this.#host.getConnections().every((c) => c.remotePeer.toString() !== peer)) wake();
  }

  async #keep(addr: string): Promise<void> {
    let backoff = REDIAL_MIN_MS;
    while (!this.#signal.aborted) {
      try {
        const conn = await this.#host.dial(multiaddr(addr), { signal: AbortSignal.any([this.#signal, AbortSignal.timeout(10_000)]) });
        const peer = conn.remotePeer.toString();
        backoff = REDIAL_MIN_MS;
        await new Promise<void>((resolve) => {
          this.#waiters.set(peer, resolve);
          this.#signal.addEventListener('abort', () => resolve(), { once: true });
          if (conn.status !== 'open') resolve();
        });
        this.#waiters.delete(peer);
        if (this.#refused(peer)) return;
        this.#log.info({ addr }, 'bootstrap peer disconnected; redialing');
      } catch (err) {
        if (this.#signal.aborted) return;
        this.#log.debug({ err, addr, backoffMs: backoff }, 'dialing a bootstrap peer failed');
      }
      await sleep(backoff * (0.75 + Math.random() / 2), this.#signal);
      backoff = Math.min(backoff * 2, REDIAL_MAX_MS);
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
  });
}
