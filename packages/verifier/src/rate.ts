import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { RateWorkerData, RateWorkerReport } from './rate-worker.ts';

/** Options for {@link measureVerifyRate}. */
export interface VerifyRateOptions {
  /** Threads verifying at once; defaults to `os.availableParallelism()`. */
  readonly threads?: number;
  /** How long each thread verifies; defaults to 1000 ms. */
  readonly durationMs?: number;
}

/** Result of {@link measureVerifyRate}. */
export interface VerifyRate {
  /** Valid signatures verified per second, summed over all threads. */
  readonly perSecond: number;
  /** Threads that verified. */
  readonly threads: number;
}

/** Message size of the measurement: about that of a signed ledger transfer. */
const MESSAGE_BYTES = 150;

/**
 * Measures the machine's raw verification ceiling with {@link verify}: `threads` worker threads
 * each verify pre-signed 150-byte messages in a tight loop for `durationMs`, started together,
 * with no batching or transfer in the measured time. Benchmarks compare pool and node
 * throughput against this figure.
 *
 * @returns Valid signatures verified per second, summed over the threads.
 * @throws RangeError (as a rejection) for a non-positive thread count or duration.
 */
export async function measureVerifyRate(options: VerifyRateOptions = {}): Promise<VerifyRate> {
  const threads = options.threads ?? availableParallelism();
  const durationMs = options.durationMs ?? 1000;
  if (!Number.isSafeInteger(threads) || threads < 1) throw new RangeError('threads must be a positive integer');
  if (!(durationMs > 0) || !Number.isFinite(durationMs)) throw new RangeError('durationMs must be a positive number');

  const workers: Worker[] = [];
  try {
    const reports = await new Promise<RateWorkerReport[]>((resolve, reject) => {
      const done: RateWorkerReport[] = [];
      let ready = 0;
      for (let thread = 0; thread < threads; thread++) {
        const workerData: RateWorkerData = { durationMs, messageBytes: MESSAGE_BYTES, thread };
        const worker = new Worker(new URL('./rate-worker.ts', import.meta.url), { workerData });
        workers.push(worker);
        let reported = false;
        worker.on('error', reject);
        worker.on('exit', (code) => {
          if (!reported) reject(new Error(`rate worker exited with code ${code} before reporting`));
        });
        worker.on('message', (message: 'ready' | RateWorkerReport) => {
          if (message === 'ready') {
            // Start every thread together, once all have signed their samples.
            if (++ready === threads) for (const w of workers) w.postMessage('go');
            return;
          }
          reported = true;
          done.push(message);
          if (done.length === threads) resolve(done);
        });
      }
    });
    const perSecond = reports.reduce((sum, r) => sum + (r.verified * 1000) / r.elapsedMs, 0);
    return { perSecond, threads };
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
