import { availableParallelism } from 'node:os';
import { measureVerifyRate } from '@mutual/verifier';
import { Level } from 'level';
import type { BenchContext } from './context.ts';
import { summarize, type Summary } from './stats.ts';

/** Raw Ed25519 verifications per second with the node's verifier on every core. */
export async function verifyCeiling(ctx: BenchContext): Promise<Summary> {
  const threads = availableParallelism();
  const durationMs = ctx.quick ? 300 : 2000;
  await measureVerifyRate({ threads, durationMs: 200 }); // warm-up
  const rates: number[] = [];
  for (let i = 0; i < ctx.runs; i++) rates.push((await measureVerifyRate({ threads, durationMs })).perSecond);
  return summarize(rates);
}

/**
 * Raw LevelDB throughput with `sync: true`: records per second written in batches of
 * `batchSize` records of `valueBytes`, one synced batch after another.
 */
export async function diskCeiling(ctx: BenchContext, batchSize = 4096, valueBytes = 200): Promise<Summary> {
  const dir = ctx.tempDir('disk');
  const db = new Level<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' });
  await db.open();
  const batches = ctx.quick ? 5 : 40;
  const value = new Uint8Array(valueBytes).fill(7);
  let key = 0;
  const once = async () => {
    const started = performance.now();
    for (let b = 0; b < batches; b++) {
      const ops = [];
      for (let i = 0; i < batchSize; i++) {
        const k = new Uint8Array(9);
        new DataView(k.buffer).setBigUint64(1, BigInt(key++));
        ops.push({ type: 'put' as const, key: k, value });
      }
      await db.batch(ops, { sync: true });
    }
    return (batches * batchSize) / ((performance.now() - started) / 1000);
  };
  await once();
  const rates: number[] = [];
  for (let i = 0; i < ctx.runs; i++) rates.push(await once());
  await db.close();
  return summarize(rates);
}
