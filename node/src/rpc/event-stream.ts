import type { CommitEvent, LedgerStore } from '@mutual/store';

/** Limits of one event stream. */
export interface EventStreamOptions {
  /** Entries held in memory for a client that is following live; more and it is disconnected. */
  readonly maxBufferedEntries: number;
  /** Entries read from disk at a time while replaying. */
  readonly pageSize: number;
}

export const EVENT_STREAM_DEFAULTS: EventStreamOptions = { maxBufferedEntries: 10_000, pageSize: 256 };

/** Why a stream ended. */
export type StreamEnd = 'stopped' | 'overflow' | 'error';

/**
 * Delivers every entry from `from` on, in order, exactly once: old ones read from the store,
 * new ones taken from commit events. It subscribes before reading anything, and whichever
 * source covers the next index is used, so the switch from replay to live has no gap and no
 * duplicate (the store publishes a commit only once it is durable and readable).
 *
 * While replaying from disk, live commits need not be kept (the store has them); once live,
 * they are buffered for the client, and a client that lets more than `maxBufferedEntries`
 * pile up is cut off: it can reconnect and resume from its Last-Event-ID.
 */
export class EventStream {
  readonly #store: LedgerStore;
  readonly #opts: EventStreamOptions;
  readonly #send: (index: number, bytes: Uint8Array) => Promise<void>;
  #next: number;
  #queue: Array<{ first: number; entries: readonly Uint8Array[] }> = [];
  #queued = 0;
  #live = false;
  #stopped = false;
  #end: StreamEnd = 'stopped';
  #wake: (() => void) | undefined;
  readonly #unsubscribe: () => void;
  readonly #stopSignal: Promise<void>;
  #signalStop!: () => void;

  constructor(store: LedgerStore, from: number, send: (index: number, bytes: Uint8Array) => Promise<void>, opts: EventStreamOptions = EVENT_STREAM_DEFAULTS) {
    this.#store = store;
    this.#opts = opts;
    this.#send = send;
    this.#next = from;
    this.#stopSignal = new Promise((resolve) => {
      this.#signalStop = resolve;
    });
    this.#unsubscribe = store.subscribe((e) => this.#onCommit(e));
  }

  /** Index of the next entry to deliver. */
  get next(): number {
    return this.#next;
  }

  #onCommit(e: CommitEvent): void {
    if (this.#stopped) return;
    this.#queue.push({ first: e.firstIndex, entries: e.entries });
    this.#queued += e.entries.length;
    if (this.#queued > this.#opts.maxBufferedEntries) {
      if (this.#live) {
        this.stop('overflow');
        return;
      }
      // Replaying from disk: the store holds all of it; read it back from there when we get to it.
      this.#queue = [];
      this.#queued = 0;
    }
    this.#wake?.();
  }

  /** Ends the stream (idempotent); `run` then resolves. */
  stop(end: StreamEnd = 'stopped'): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#end = end;
    this.#unsubscribe();
    this.#queue = [];
    this.#wake?.();
    this.#signalStop();
  }

  /**
   * Sends entries until stopped; resolves with why it ended. A failed send or read ends it
   * with 'error'. Resolves as soon as it is stopped, even with a send still pending: a client
   * cut off for not reading would otherwise hold the stream forever.
   */
  async run(): Promise<StreamEnd> {
    await Promise.race([this.#loop().catch(() => this.stop('error')), this.#stopSignal]);
    return this.#end;
  }

  async #loop(): Promise<void> {
    while (!this.#stopped) {
      // Drop what has been delivered already (from disk, or from an earlier event).
      while (this.#queue.length > 0 && this.#queue[0]!.first + this.#queue[0]!.entries.length <= this.#next) {
        this.#queued -= this.#queue.shift()!.entries.length;
      }
      const head = this.#queue[0];
      if (head && head.first <= this.#next) {
        this.#live = true;
        for (let i = this.#next - head.first; i < head.entries.length && !this.#stopped; i++) {
          await this.#send(head.first + i, head.entries[i]!);
          this.#next++;
        }
        continue;
      }
      const size = this.#store.size;
      if (this.#next < size) {
        this.#live = false;
        const entries = await this.#store.getEntries(this.#next, Math.min(size, this.#next + this.#opts.pageSize));
        for (const bytes of entries) {
          if (this.#stopped) return;
          await this.#send(this.#next, bytes);
          this.#next++;
        }
        continue;
      }
      // Caught up. Nothing is awaited between the checks above and setting #wake, so a commit
      // cannot slip in unseen.
      this.#live = true;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
      this.#wake = undefined;
    }
  }
}
