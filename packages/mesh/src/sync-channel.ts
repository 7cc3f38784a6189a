import type { Stream } from '@libp2p/interface';
import { FrameError, readFrames, writeFrame } from './frames.ts';

/** Why a request on a channel got no answer: none in time, the stream ended, or the peer sent something unreadable. */
export type ChannelFailure = 'timeout' | 'closed' | 'invalid';

interface Pending {
  readonly resolve: (answer: Uint8Array | ChannelFailure) => void;
}

/** One stream of a channel and the requests waiting for an answer on it, oldest first. */
interface Open {
  readonly stream: Stream;
  readonly pending: Pending[];
  ended: boolean;
  idle: NodeJS.Timeout | undefined;
  /** Set while answers are owed: when it fires, none has come for `timeoutMs`. */
  stall: NodeJS.Timeout | undefined;
}

/**
 * How long a stall found late waits once more: a timer that fires this much after its time
 * means this process was not running (a blocked event loop, a paused machine), and the
 * stream's answers may be waiting to be read.
 */
const LATE_TIMER_GRACE_MS = 1000;

export interface SyncChannelOptions {
  /** The largest answer read, in bytes (MAX_SYNC_MESSAGE_BYTES). */
  readonly maxBytes: number;
  /** Milliseconds a request may wait for its answer (SYNC_TIMEOUT_MS). */
  readonly timeoutMs: number;
  /** Milliseconds a stream with no request waiting stays open. */
  readonly idleMs: number;
  /** Aborting it ends the channel for good. */
  readonly signal: AbortSignal;
  /**
   * Called once for each stream on which no answer came for `timeoutMs` while answers were
   * owed (however many requests were waiting on it): the peer took a request and left it
   * unanswered. Time a request waits behind answers that keep coming does not count.
   */
  readonly onTimeout?: () => void;
}

/**
 * One sync stream to a peer that carries many requests, one after another: each request is a
 * length-prefixed message, and the peer answers them in the order sent, one message each
 * (protocol/proto/mutual/v1/mesh.proto, `SyncRequest`). A stream costs a protocol negotiation and bookkeeping on both
 * sides, and a replica that follows its bank sends a request or two a second: the stream is
 * kept open while it is used, and a request may be sent before the answer to the one before
 * has come (a catch-up asks one chunk ahead). A stream on which answers are owed and none has
 * come for `timeoutMs` (since the last answer, or since the request sent when none was owed)
 * ends, and every request waiting on it gets `timeout`; the next request opens a new stream.
 * A stream with nothing waiting for `idleMs` is closed.
 */
export class SyncChannel {
  readonly #openStream: (signal: AbortSignal) => Promise<Stream>;
  readonly #o: SyncChannelOptions;
  #opening: Promise<Open> | undefined;
  #current: Open | undefined;

  /** @param open - opens a new stream of the sync protocol to the peer */
  constructor(open: (signal: AbortSignal) => Promise<Stream>, options: SyncChannelOptions) {
    this.#openStream = open;
    this.#o = options;
  }

  /** Sends `request` and resolves with the answer, or with why there is none. Never throws. */
  async request(request: Uint8Array): Promise<Uint8Array | ChannelFailure> {
    if (this.#o.signal.aborted) return 'closed';
    let open: Open;
    try {
      open = await this.#get();
    } catch {
      return 'closed';
    }
    if (open.ended) return 'closed';
    clearTimeout(open.idle);
    open.idle = undefined;
    const answer = new Promise<Uint8Array | ChannelFailure>((resolve) => {
      open.pending.push({ resolve });
    });
    if (open.pending.length === 1) this.#arm(open);
    try {
      await writeFrame(open.stream, request, this.#signal);
    } catch {
      this.#end(open, 'closed');
    }
    return answer;
  }

  /** Ends the open stream, if any; requests waiting on it get `closed`. */
  close(): void {
    if (this.#current) this.#end(this.#current, 'closed');
  }

  /** Aborts after `timeoutMs`, or when the channel ends; a function of its own, for writeFrame to call only if it must wait. */
  readonly #signal = (): AbortSignal => AbortSignal.any([AbortSignal.timeout(this.#o.timeoutMs), this.#o.signal]);

  #get(): Promise<Open> {
    if (this.#opening) return this.#opening;
    const opening = this.#openStream(this.#signal()).then((stream) => {
      const open: Open = { stream, pending: [], ended: false, idle: undefined, stall: undefined };
      if (this.#opening === opening) this.#current = open;
      void this.#read(open);
      return open;
    });
    this.#opening = opening;
    opening.catch(() => {
      if (this.#opening === opening) this.#opening = undefined;
    });
    return opening;
  }

  /** Hands each answer to the oldest waiting request, until the stream ends. */
  async #read(open: Open): Promise<void> {
    try {
      for await (const answer of readFrames(open.stream, this.#o.maxBytes)) {
        const p = open.pending.shift();
        if (!p) throw new FrameError('an answer to no request');
        p.resolve(answer);
        clearTimeout(open.stall);
        open.stall = undefined;
        if (open.pending.length > 0 && !open.ended) this.#arm(open);
        if (open.pending.length === 0 && !open.ended) {
          open.idle = setTimeout(() => this.#end(open, 'closed'), this.#o.idleMs);
          open.idle.unref();
        }
      }
      this.#end(open, 'closed');
    } catch (err) {
      this.#end(open, err instanceof FrameError ? 'invalid' : 'closed');
    }
  }

  /** Starts waiting `timeoutMs` for the next answer owed on `open`. */
  #arm(open: Open): void {
    clearTimeout(open.stall);
    const due = performance.now() + this.#o.timeoutMs;
    open.stall = setTimeout(() => {
      // Late by more than the grace: this process was not running, not the peer silent.
      if (performance.now() - due > LATE_TIMER_GRACE_MS) {
        open.stall = setTimeout(() => this.#end(open, 'timeout'), LATE_TIMER_GRACE_MS);
        return;
      }
      this.#end(open, 'timeout');
    }, this.#o.timeoutMs);
  }

  #end(open: Open, why: ChannelFailure): void {
    if (open.ended) return;
    open.ended = true;
    clearTimeout(open.idle);
    clearTimeout(open.stall);
    if (this.#current === open) {
      this.#current = undefined;
      this.#opening = undefined;
    }
    for (const p of open.pending.splice(0)) p.resolve(why);
    if (why === 'closed' && open.stream.status === 'open') void open.stream.close().catch(() => open.stream.abort(new Error('sync channel closed')));
    else if (open.stream.status === 'open') open.stream.abort(new Error(`sync channel: ${why}`));
    if (why === 'timeout') this.#o.onTimeout?.();
  }
}
