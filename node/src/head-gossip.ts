import type { SignedHead } from '@mutual/ledger';

/**
 * Paces the gossip of this bank's heads: a head is published at once when none was in the
 * last `intervalMs`, otherwise the latest head offered is published at the end of the
 * interval. An idle bank's commit is gossiped without delay; a busy bank gossips one head per
 * interval instead of one per commit, which bounds the heads every other bank verifies and
 * the catch-up rounds they run. (Interbank entries do not wait for it: they are pushed.)
 */
export class HeadGossip {
  readonly #publish: (head: SignedHead) => unknown;
  readonly #intervalMs: number;
  readonly #now: () => number;
  #last = Number.NEGATIVE_INFINITY;
  /** Size of the last head published. */
  #lastSize = -1;
  #pending: SignedHead | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(publish: (head: SignedHead) => unknown, intervalMs: number, now: () => number = () => performance.now()) {
    this.#publish = publish;
    this.#intervalMs = intervalMs;
    this.#now = now;
  }

  offer(head: SignedHead): void {
    if (this.#stopped || head.size <= this.#lastSize) return;
    if (this.#pending && this.#pending.size >= head.size) return;
    this.#pending = head;
    if (this.#timer) return;
    const wait = this.#last + this.#intervalMs - this.#now();
    if (wait <= 0) this.#flush();
    else {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#flush();
      }, wait);
      this.#timer.unref();
    }
  }

  /** Publishes nothing more; a head waiting for its interval is dropped. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#pending = undefined;
  }

  #flush(): void {
    const head = this.#pending;
    this.#pending = undefined;
    if (!head || this.#stopped) return;
    this.#last = this.#now();
    this.#lastSize = head.size;
    this.#publish(head);
  }
}
