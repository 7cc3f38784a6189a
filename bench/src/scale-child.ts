// One measurement of the scale benchmark, in its own process so that its RSS is the node's
// alone: opens a ledger (timed), notes the RSS, then applies COUNT more transfers of the cached
// log's pattern and prints JSON. Usage: node scale-child.ts LEDGER_DIR COUNT
import { availableParallelism } from 'node:os';
import { VerifierPool } from '@mutual/verifier';
import { drive } from './apply.ts';
import { logPopulation, openLogStore, setupEntries, transfersAt } from './log-cache.ts';

const [dir, countArg] = process.argv.slice(2);
if (!dir || !countArg) throw new Error('usage: scale-child.ts LEDGER_DIR COUNT');
const count = Number(countArg);
const p = logPopulation();
const pool = new VerifierPool({ threads: availableParallelism() });
try {
  const started = performance.now();
  const store = await openLogStore(dir, p, pool);
  const openMs = performance.now() - started;
  const size = store.size;
  const rssAfterOpen = process.memoryUsage().rss;
  try {
    const signed = transfersAt(p, size - setupEntries(p), count);
    const rate = await drive(store, signed);
    const peakRss = process.resourceUsage().maxRSS * 1024;
    console.log(JSON.stringify({ size, openMs, rssAfterOpen, peakRss, rate }));
  } finally {
    await store.close();
  }
} finally {
  await pool.close();
}
