import { parentPort, workerData } from 'node:worker_threads';
import { keyPairFromSeed, signDetached } from './sign.ts';
import { verify } from './verify.ts';

/** What measureVerifyRate hands each of its threads. */
export interface RateWorkerData {
  readonly durationMs: number;
  readonly messageBytes: number;
  /** Distinguishes the threads' keys so that no two threads verify identical inputs. */
  readonly thread: number;
}

/** A thread's tally: valid signatures verified and the time it took. */
export interface RateWorkerReport {
  readonly verified: number;
  readonly elapsedMs: number;
}

if (parentPort === null) throw new Error('rate-worker.ts runs only as a worker thread');
const port = parentPort;
const { durationMs, messageBytes, thread } = workerData as RateWorkerData;

// A few distinct keys and messages, signed before the clock starts, so the loop measures
// verification and nothing else.
const SAMPLES = 64;
const samples: { signature: Uint8Array; message: Uint8Array; publicKey: Uint8Array }[] = [];
for (let i = 0; i < SAMPLES; i++) {
  const seed = new Uint8Array(32);
  seed[0] = i;
  seed[1] = thread & 0xff;
  seed[2] = (thread >>> 8) & 0xff;
  const { publicKey, secretKey } = keyPairFromSeed(seed);
  const message = new Uint8Array(messageBytes);
  for (let j = 0; j < messageBytes; j++) message[j] = (i * 31 + j * 7 + thread) & 0xff;
  samples.push({ signature: signDetached(message, secretKey), message, publicKey });
}

let started = false;
port.on('message', () => {
  // Stays listening until terminated, so that finishing early cannot look like a crash.
  if (started) return;
  started = true;
  let verified = 0;
  const start = performance.now();
  let now = start;
  while (now - start < durationMs) {
    for (const s of samples) {
      // Counting only successes guards the figure against measuring a fast rejection path.
      if (!verify(s.signature, s.message, s.publicKey)) throw new Error('a pre-signed sample failed to verify');
      verified++;
    }
    now = performance.now();
  }
  const report: RateWorkerReport = { verified, elapsedMs: now - start };
  port.postMessage(report);
});
port.postMessage('ready');
