// One measurement of the scale benchmark, in its own process so that its RSS is the node's
// alone: opens a ledger (timed), notes the RSS, reads the signed transfers the parent wrote to
// INPUT_FILE (see writeInput), then applies them and prints JSON.
// Usage: node scale-child.ts LEDGER_DIR INPUT_FILE
import { readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { VerifierPool } from '@mutual/verifier';
import { drive } from './apply.ts';
import { logPopulation, openLogStore } from './log-cache.ts';

const [dir, inputFile] = process.argv.slice(2);
if (!dir || !inputFile) throw new Error('usage: scale-child.ts LEDGER_DIR INPUT_FILE');

/** Signed transfers, each a 4-byte little-endian length and then its bytes; views of one buffer. */
function readInput(file: string): Uint8Array[] {
  const all = readFileSync(file);
  const out: Uint8Array[] = [];
  for (let at = 0; at < all.length; ) {
    const len = all.readUInt32LE(at);
    out.push(all.subarray(at + 4, at + 4 + len));
    at += 4 + len;
  }
  return out;
}

/**
 * The peak RSS of this process since the last resetPeakRss(). Linux keeps `getrusage`'s maxRSS
 * across `execve`, so a child started by a large benchmark process would report at least its
 * parent's size; the high-water mark of `/proc/self/status` (VmHWM) is this process's own.
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

/** Sets VmHWM to the current RSS (Linux 4.0 and later); false where that is not possible. */
function resetPeakRss(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
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
    const signed = readInput(inputFile);
    const inputBytes = signed.reduce((n, b) => n + b.length, 0);
    // The peak reported is the apply's, from the RSS of the opened node holding its input;
    // the peak before it (opening, reading the input) is reported apart.
    const peakBeforeApply = peakRssBytes();
    const peakOfApply = resetPeakRss();
    const rate = await drive(store, signed);
    const peakRss = peakRssBytes();
    console.log(JSON.stringify({ size, openMs, rssAfterOpen, peakRss, peakOfApply, peakBeforeApply, inputBytes, count: signed.length, rate }));
  } finally {
    await store.close();
  }
} finally {
  await pool.close();
}
