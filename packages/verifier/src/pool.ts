import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { type PackedRun, type VerifyItem, pack } from './batch-format.ts';
import { verify } from './verify.ts';
import type { ChunkRequest, ChunkResponse } from './worker.ts';

/** Largest batch `verifyBatch` accepts; bounds the memory one call can pin. */
export const MAX_BATCH_ITEMS = 65_536;
/**
 * Batches smaller than this are verified on the calling thread: below it, the round trip to a
 * worker costs more than the verifications it would move off the thread.
 */
export const INLINE_BATCH_LIMIT = 64;
// Two runs per worker keep it busy while the answer to the previous one is in transit,
// without committing work that an abort could otherwise still drop from the queue.
const MAX_IN_FLIGHT_PER_WORKER = 2;

/** Options for {@link VerifierPool}. */
export interface VerifierPoolOptions {
  /** Number of worker threads; defaults to `os.availableParallelism()`. */
  readonly threads?: number;
}

/** An Error carrying a machine-readable `code`, as Node's own errors do. */
export interface CodedError extends Error {
  readonly code: 'INTERNAL' | 'CLOSED';
}

function codedError(code: CodedError['code'], message: string, cause?: unknown): CodedError {
  const error = new Error(message, cause === undefined ? undefined : { cause }) as Error & { code: string };
  error.code = code;
  return error as CodedError;
}

interface Batch {
  readonly results: Uint8Array;
  remaining: number;
  settled: boolean;
  readonly resolve: (results: Uint8Array) => void;
  readonly reject: (reason: unknown) => void;
  readonly cleanup: () => void;
}

interface Chunk {
  readonly batch: Batch;
  readonly offset: number;
  readonly run: PackedRun;
}

interface Slot {
  worker: Worker | null;
  readonly inFlight: Map<number, Chunk>;
  /** Crashes since this slot's worker last answered; stops a worker that cannot start from respawning in a loop. */
  crashes: number;
}

let terminateWorkerHook: ((pool: VerifierPool, index: number) => Promise<void>) | undefined;

/**
 * Terminates one worker of `pool` as if it had crashed. For tests of crash recovery only;
 * not part of the package's public entry.
 */
export function terminateWorkerForTest(pool: VerifierPool, index: number): Promise<void> {
  if (terminateWorkerHook === undefined) throw new Error('VerifierPool is not initialised');
  return terminateWorkerHook(pool, index);
}

/**
 * Verifies large batches of signatures on worker threads with the same {@link verify} as the
 * calling thread. A batch is copied into one ArrayBuffer per worker at call time and transferred,
 * so later changes to the caller's arrays do not affect it; batches under
 * {@link INLINE_BATCH_LIMIT} items are verified on the calling thread. Idle workers do not keep
 * the process alive. A crashed worker fails the batches it was working on with code 'INTERNAL'
 * and is replaced.
 */
export class VerifierPool {
  /** Number of worker threads. */
  readonly threads: number;
  readonly #slots: Slot[] = [];
  readonly #queue: Chunk[] = [];
  readonly #pending = new Set<Batch>();
  #nextChunkId = 0;
  #closed = false;
  #closing: Promise<void> | undefined;

  static {
    terminateWorkerHook = async (pool, index) => {
      const worker = pool.#slots[index]?.worker;
      if (worker == null) throw new RangeError(`no running worker at index ${index}`);
      await worker.terminate();
    };
  }

  /**
   * Starts the worker threads.
   *
   * @throws RangeError when `threads` is not a positive integer.
   */
  constructor(options: VerifierPoolOptions = {}) {
    const threads = options.threads ?? availableParallelism();
    if (!Number.isSafeInteger(threads) || threads < 1) {
      throw new RangeError(`threads must be a positive integer, got ${String(threads)}`);
    }
    this.threads = threads;
    for (let i = 0; i < threads; i++) {
      const slot: Slot = { worker: null, inFlight: new Map(), crashes: 0 };
      this.#slots.push(slot);
      // Started now so that the first batch does not pay for thread start-up.
      this.#start(slot);
    }
  }

  /**
   * Verifies every item as {@link verify} would.
   *
   * @param items - At most {@link MAX_BATCH_ITEMS} items; malformed ones are invalid, not errors.
   * @param signal - Aborting rejects the batch with `signal.reason`; its unstarted work is dropped.
   * @returns 1 (valid) or 0 (invalid) per item, in the order of `items`. Rejects with a RangeError
   *   for an oversized batch, an Error with code 'INTERNAL' when a worker crashed while holding
   *   part of the batch, and an Error with code 'CLOSED' once the pool is closed.
   */
  verifyBatch(items: ReadonlyArray<VerifyItem>, signal?: AbortSignal): Promise<Uint8Array> {
    if (this.#closed) return Promise.reject(codedError('CLOSED', 'VerifierPool is closed'));
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (items.length > MAX_BATCH_ITEMS) {
      return Promise.reject(new RangeError(`a batch holds at most ${MAX_BATCH_ITEMS} items, got ${items.length}`));
    }
    if (items.length < INLINE_BATCH_LIMIT) {
      const results = new Uint8Array(items.length);
      for (let i = 0; i < items.length; i++) {
        const item = items[i];
        results[i] = item != null && verify(item.signature, item.message, item.publicKey) ? 1 : 0;
      }
      return Promise.resolve(results);
    }

    // Pack before returning: the batch is a snapshot of the caller's bytes at call time.
    const parts = Math.min(this.threads, items.length);
    const runs: { offset: number; run: PackedRun }[] = [];
    try {
      for (let p = 0; p < parts; p++) {
        const start = Math.floor((items.length * p) / parts);
        const end = Math.floor((items.length * (p + 1)) / parts);
        runs.push({ offset: start, run: pack(items, start, end) });
      }
    } catch (error) {
      return Promise.reject(error);
    }

    return new Promise<Uint8Array>((resolve, reject) => {
      const onAbort = (): void => this.#fail(batch, signal?.reason);
      const batch: Batch = {
        results: new Uint8Array(items.length),
        remaining: runs.length,
        settled: false,
        resolve,
        reject,
        cleanup: () => signal?.removeEventListener('abort', onAbort),
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#pending.add(batch);
      for (const { offset, run } of runs) this.#queue.push({ batch, offset, run });
      this.#dispatch();
    });
  }

  /**
   * Rejects pending batches with code 'CLOSED' and terminates the workers. Idempotent.
   *
   * @returns Resolves once every worker has exited.
   */
  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    this.#closed = true;
    for (const batch of [...this.#pending]) this.#fail(batch, codedError('CLOSED', 'VerifierPool was closed'));
    this.#queue.length = 0;
    const exits: Promise<unknown>[] = [];
    for (const slot of this.#slots) {
      const worker = slot.worker;
      slot.worker = null;
      slot.inFlight.clear();
      if (worker !== null) exits.push(worker.terminate());
    }
    this.#closing = Promise.all(exits).then(() => undefined);
    return this.#closing;
  }

  #start(slot: Slot): Worker {
    const worker = new Worker(new URL('./worker.ts', import.meta.url));
    slot.worker = worker;
    worker.on('message', (response: ChunkResponse) => this.#onResponse(slot, response));
    worker.on('error', (error) => this.#onCrash(slot, worker, error));
    worker.on('exit', (code) => this.#onCrash(slot, worker, new Error(`verifier worker exited with code ${code}`)));
    // An idle pool must not keep the process alive; #dispatch refs a worker while it has work.
    // This comes after the listeners: adding a 'message' listener refs the worker again.
    worker.unref();
    return worker;
  }

  #dispatch(): void {
    if (this.#closed) return;
    // Level by level, so that the chunks of one batch land on different workers before any
    // worker is handed a second one.
    for (let level = 1; level <= MAX_IN_FLIGHT_PER_WORKER; level++) {
      for (const slot of this.#slots) {
        if (slot.inFlight.size >= level) continue;
        const chunk = this.#nextLiveChunk();
        if (chunk === undefined) return;
        // A crashed worker is replaced when there is work for it, not in a loop while idle.
        const worker = slot.worker ?? this.#start(slot);
        const id = this.#nextChunkId++;
        slot.inFlight.set(id, chunk);
        worker.ref();
        const request: ChunkRequest = { id, buffer: chunk.run.buffer, count: chunk.run.count };
        worker.postMessage(request, [chunk.run.buffer]);
      }
    }
  }

  #nextLiveChunk(): Chunk | undefined {
    // Chunks of aborted or failed batches are dropped here rather than verified for nothing.
    let chunk = this.#queue.shift();
    while (chunk !== undefined && chunk.batch.settled) chunk = this.#queue.shift();
    return chunk;
  }

  #onResponse(slot: Slot, response: ChunkResponse): void {
    const chunk = slot.inFlight.get(response.id);
    if (chunk === undefined) return;
    slot.crashes = 0;
    slot.inFlight.delete(response.id);
    if (slot.inFlight.size === 0) slot.worker?.unref();
    const { batch, offset, run } = chunk;
    if (!batch.settled) {
      batch.results.set(response.results, offset);
      for (const i of run.malformed) batch.results[offset + i] = 0;
      if (--batch.remaining === 0) {
        batch.settled = true;
        batch.cleanup();
        this.#pending.delete(batch);
        batch.resolve(batch.results);
      }
    }
    this.#dispatch();
  }

  #onCrash(slot: Slot, worker: Worker, cause: unknown): void {
    // 'error' is followed by 'exit' for the same worker; only the first one counts.
    if (slot.worker !== worker) return;
    slot.worker = null;
    const lost = [...slot.inFlight.values()];
    slot.inFlight.clear();
    for (const chunk of lost) {
      this.#fail(chunk.batch, codedError('INTERNAL', 'a verifier worker stopped before answering', cause));
    }
    if (this.#closed) return;
    // Restart at once after an isolated crash; after repeated ones, only when work arrives.
    if (++slot.crashes <= 2) this.#start(slot);
    this.#dispatch();
  }

  #fail(batch: Batch, reason: unknown): void {
    if (batch.settled) return;
    batch.settled = true;
    batch.cleanup();
    this.#pending.delete(batch);
    batch.reject(reason);
  }
}
