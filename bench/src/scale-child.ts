// One measurement of the scale benchmark, in its own process so that its RSS is the node's
// alone: opens a ledger (timed), notes the RSS, then applies COUNT more transfers of the cached
// log's pattern and prints JSON. Usage: node scale-child.ts LEDGER_DIR COUNT
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { VerifierPool } from '@mutual/verifier';
import { drive } from './apply.ts';
import { logPopulation, openLogStore, setupEntries, transfersAt } from './log-cache.ts';

const [dir, countArg] = process.argv.slice(2);
if (!dir || !countArg) throw new Error('usage: scale-child.ts LEDGER_DIR COUNT');
const count = Number(countArg);

/**
 * The peak RSS of this process. Linux keeps `getrusage`'s maxRSS across `execve`, so a child
 * started by a large benchmark process would report at least its parent's size; the high-water
 * mark of `/proc/self/status` (VmHWM) belongs to this process's own address space.
 */
function peakRssBytes(): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // not Linux: fall back to getrusage
  }
  return process.resourceUsage().maxRSS * 1024;
}
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
    const peakRss = peakRssBytes();
    console.log(JSON.stringify({ size, openMs, rssAfterOpen, peakRss, rate }));
  } finally {
    await store.close();
  }
} finally {
  await pool.close();
}
