import type { CommitEvent, LedgerStore } from '@mutual/store';
import type { FastifyReply } from 'fastify';

/** Limits of one event stream. */
export interface EventStreamOptions {
  /**
   * Entries (on `/v1/interbank/events`, events) held in memory for a client that is following
   * live; more and it is disconnected.
   */
  readonly maxBufferedEntries: number;
  /** Entries read from disk at a time while replaying. */
  readonly pageSize: number;
}

export const EVENT_STREAM_DEFAULTS: EventStreamOptions = { maxBufferedEntries: 10_000, pageSize: 256 };

/** Why a stream ended. */
export type StreamEnd = 'stopped' | 'overflow' | 'error';

/**
 * What the event streams of the RPC share: `loop` sends one event at a time and waits for it
 * to be written, so what a slow client has not taken waits in the stream's own queue, which
 * the stream bounds (ending with 'overflow'), rather than in the socket's buffer, which has
 * no bound.
 */
export abstract class BoundedStream {
  #stopped = false;
  #end: StreamEnd = 'stopped';
  #wake: (() => void) | undefined;
  readonly #stopSignal: Promise<void>;
  #signalStop!: () => void;

  constructor() {
    this.#stopSignal = new Promise((resolve) => {
      this.#signalStop = resolve;
    });
  }

  protected get stopped(): boolean {
    return this.#stopped;
  }

  /** Ends the stream (idempotent); `run` then resolves. */
  stop(end: StreamEnd = 'stopped'): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#end = end;
    this.onStop();
    this.#wake?.();
    this.#signalStop();
  }

  /**
   * Sends events until stopped; resolves with why it ended. A failed send or read ends it
   * with 'error'. Resolves as soon as it is stopped, even with a send still pending: a client
   * cut off for not reading would otherwise hold the stream forever.
   */
  async run(): Promise<StreamEnd> {
    await Promise.race([this.loop().catch(() => this.stop('error')), this.#stopSignal]);
    return this.#end;
  }

  /** Called once, by `stop`: lets go of the subscription and of what is queued. */
  protected abstract onStop(): void;

  protected abstract loop(): Promise<void>;

  /** Wakes a `loop` waiting in `sleep`. */
  protected wake(): void {
    this.#wake?.();
  }

  /** Waits for `wake` or `stop`; whoever calls it must have checked for work with nothing awaited since. */
  protected async sleep(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.#wake = resolve;
    });
    this.#wake = undefined;
  }
}

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
export class EventStream extends BoundedStream {
  readonly #store: LedgerStore;
  readonly #opts: EventStreamOptions;
  readonly #send: (index: number, bytes: Uint8Array) => Promise<void>;
  #next: number;
  #queue: Array<{ first: number; entries: readonly Uint8Array[] }> = [];
  #queued = 0;
  #live = false;
  readonly #unsubscribe: () => void;

  constructor(store: LedgerStore, from: number, send: (index: number, bytes: Uint8Array) => Promise<void>, opts: EventStreamOptions = EVENT_STREAM_DEFAULTS) {
    super();
    this.#store = store;
    this.#opts = opts;
    this.#send = send;
    this.#next = from;
    this.#unsubscribe = store.subscribe((e) => this.#onCommit(e));
  }

  /** Index of the next entry to deliver. */
  get next(): number {
    return this.#next;
  }

  #onCommit(e: CommitEvent): void {
    if (this.stopped) return;
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
    this.wake();
  }

  protected onStop(): void {
    this.#unsubscribe();
    this.#queue = [];
  }

  protected async loop(): Promise<void> {
    while (!this.stopped) {
      // Drop what has been delivered already (from disk, or from an earlier event).
      while (this.#queue.length > 0 && this.#queue[0]!.first + this.#queue[0]!.entries.length <= this.#next) {
        this.#queued -= this.#queue.shift()!.entries.length;
      }
      const head = this.#queue[0];
      if (head && head.first <= this.#next) {
        this.#live = true;
        for (let i = this.#next - head.first; i < head.entries.length && !this.stopped; i++) {
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
          if (this.stopped) return;
          await this.#send(this.#next, bytes);
          this.#next++;
        }
        continue;
      }
      // Caught up. Nothing is awaited between the checks above and `sleep`, so a commit
      // cannot slip in unseen.
      this.#live = true;
      await this.sleep();
    }
  }
}

/**
 * A live-only stream (no replay): each value a source publishes is sent, in order. A client
 * that lets more than `maxBuffered` values pile up is cut off, as an EventStream following
 * live is.
 */
export class LiveStream<T> extends BoundedStream {
  readonly #send: (value: T) => Promise<void>;
  readonly #maxBuffered: number;
  #queue: T[] = [];
  /** Values published and not yet written: the queue and the batch being sent. */
  #waiting = 0;
  readonly #unsubscribe: () => void;

  /** `subscribe` hands the source a function to publish with and returns how to let go of it. */
  constructor(subscribe: (publish: (value: T) => void) => () => void, send: (value: T) => Promise<void>, maxBuffered: number) {
    super();
    this.#send = send;
    this.#maxBuffered = maxBuffered;
    this.#unsubscribe = subscribe((value) => this.#publish(value));
  }

  #publish(value: T): void {
    if (this.stopped) return;
    this.#queue.push(value);
    if (++this.#waiting > this.#maxBuffered) {
      this.stop('overflow');
      return;
    }
    this.wake();
  }

  protected onStop(): void {
    this.#unsubscribe();
    this.#queue = [];
  }

  protected async loop(): Promise<void> {
    while (!this.stopped) {
      if (this.#queue.length === 0) {
        await this.sleep();
        continue;
      }
      const batch = this.#queue;
      this.#queue = [];
      for (const value of batch) {
        if (this.stopped) return;
        await this.#send(value);
        this.#waiting--;
      }
    }
  }
}

/**
 * Answers an SSE request (a route with `sse: { kind: 'manual' }`) with `stream`, until the
 * client goes or the stream ends. `open` holds the route's streams while they run, for it to
 * stop them when the app closes.
 */
export function serveStream(reply: FastifyReply, stream: BoundedStream, open: Set<BoundedStream>, onOverflow: () => void): void {
  const sse = reply.sse;
  open.add(stream);
  sse.keepAlive();
  sse.onClose(() => stream.stop());
  // Headers now (Node holds them until the first write), so a client following a quiet
  // source sees the stream open at once.
  sse.sendHeaders();
  reply.raw.flushHeaders();
  void stream.run().then((end) => {
    open.delete(stream);
    if (end === 'overflow') {
      onOverflow();
      // Its socket is not draining: end it now rather than queue more behind it. The client
      // sees the connection drop and reconnects.
      reply.raw.destroy();
    } else {
      sse.close();
    }
  });
}
