/**
 * Prints the verification rates of this machine: `node packages/verifier/test/rate.ts`.
 * Single thread (verify in a loop), the pool with 2 threads (batches of 10,000), and the
 * ceiling measureVerifyRate reports for 2 threads. Messages are 150 bytes throughout.
 */
import { availableParallelism, cpus } from 'node:os';
import { VerifierPool, keyPairFromSeed, measureVerifyRate, signDetached, verify } from '../src/index.ts';

const DURATION_MS = Number(process.env.RATE_DURATION_MS ?? 3000);
const BATCH = 10_000;

const keys = Array.from({ length: 64 }, (_, i) => keyPairFromSeed(new Uint8Array(32).fill(i + 1)));
const items = Array.from({ length: BATCH }, (_, i) => {
  const key = keys[i % keys.length]!;
  const message = new Uint8Array(150).map((_, j) => (i * 31 + j) & 0xff);
  return { signature: signDetached(message, key.secretKey), message, publicKey: key.publicKey };
});

function singleThread(): number {
  let n = 0;
  const start = performance.now();
  let now = start;
  while (now - start < DURATION_MS) {
    for (let i = 0; i < 256; i++) {
      const item = items[n % BATCH]!;
      if (!verify(item.signature, item.message, item.publicKey)) throw new Error('sample failed to verify');
      n++;
    }
    now = performance.now();
  }
  return (n * 1000) / (now - start);
}

async function pooled(threads: number): Promise<number> {
  const pool = new VerifierPool({ threads });
  try {
    await pool.verifyBatch(items); // start-up and warm-up, not measured
    let n = 0;
    const start = performance.now();
    let now = start;
    while (now - start < DURATION_MS) {
      const results = await pool.verifyBatch(items);
      if (results.some((x) => x !== 1)) throw new Error('sample failed to verify');
      n += items.length;
      now = performance.now();
    }
    return (n * 1000) / (now - start);
  } finally {
    await pool.close();
  }
}

const fmt = (x: number) => Math.round(x).toLocaleString('en-US').padStart(8);
console.log(`cpu: ${cpus()[0]?.model ?? 'unknown'}, availableParallelism ${availableParallelism()}, ${DURATION_MS} ms per figure`);
console.log(`single thread (verify loop):          ${fmt(singleThread())} verifies/s`);
console.log(`VerifierPool, 2 threads, batch ${BATCH}:  ${fmt(await pooled(2))} verifies/s`);
const ceiling = await measureVerifyRate({ threads: 2, durationMs: DURATION_MS });
console.log(`measureVerifyRate, ${ceiling.threads} threads (ceiling):  ${fmt(ceiling.perSecond)} verifies/s`);
