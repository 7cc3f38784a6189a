// Scale of a long log: open time, RSS and durable apply rate of a node whose log holds millions
// of entries, against a node with an empty log (only its accounts and their funding) measured
// in the same run. Each measurement is a separate process (scale-child.ts), so that its RSS is
// the node's own.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { NODE_V8_FLAGS } from '../../node/src/heap-flags.ts';
import { VerifierPool } from '@mutual/verifier';
import { freshBank, type Prepared } from './apply.ts';
import type { Benchmark, BenchContext } from './context.ts';
import { cachedLog, copyLog, logPopulation, setupEntries, transfersAt } from './log-cache.ts';
import { fmt, fmtSummary, summarize, type Summary } from './stats.ts';

const CHILD = resolve(import.meta.dirname, 'scale-child.ts');
const MB = 2 ** 20;

interface Sample {
  readonly size: number;
  readonly openMs: number;
  readonly rssAfterOpen: number;
  readonly peakRss: number;
  /** whether peakRss is the apply's alone (Linux) or the process's since it started */
  readonly peakOfApply: boolean;
  /** the peak RSS before the apply: opening the ledger and reading the input */
  readonly peakBeforeApply: number;
  /** bytes of the signed transfers applied, which the child holds while it applies them */
  readonly inputBytes: number;
  readonly count: number;
  readonly rate: number;
}

/**
 * Writes the `count` transfers that follow a log of `size` entries to `file`, each as a 4-byte
 * little-endian length and its bytes. They are signed here rather than in the child, whose RSS
 * would otherwise carry what signing left behind: it grew by about 110 MB for 100,000
 * transfers, of which 20 MB were the transfers themselves.
 */
function writeInput(file: string, p: Prepared, size: number, count: number): void {
  const signed = transfersAt(p, size - setupEntries(p), count);
  const out = Buffer.allocUnsafe(signed.reduce((n, b) => n + 4 + b.length, 0));
  let at = 0;
  for (const b of signed) {
    at = out.writeUInt32LE(b.length, at);
    out.set(b, at);
    at += b.length;
  }
  writeFileSync(file, out);
}

function measure(ledgerDir: string, inputFile: string): Promise<Sample> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [...NODE_V8_FLAGS, CHILD, ledgerDir, inputFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('exit', (code) => (code === 0 ? res(JSON.parse(out) as Sample) : rej(new Error(`scale child failed: ${err}`))));
  });
}

async function emptyNode(ctx: BenchContext, p: Prepared): Promise<string> {
  const dir = join(ctx.tempDir('scale-empty'), 'ledger');
  const pool = new VerifierPool({ threads: availableParallelism() });
  try {
    const store = await freshBank(dir, p, pool);
    await store.close();
  } finally {
    await pool.close();
  }
  return dir;
}

export const scaleBenchmark: Benchmark = {
  name: 'scale',
  description: 'open time, RSS and apply rate of a node with a long log, against an empty node',
  async run(ctx: BenchContext) {
    const sizes = ctx.quick ? [20_000, 50_000] : [1_000_000, 5_000_000];
    const count = ctx.quick ? 2_000 : 100_000;
    const p = logPopulation();
    const nodes: Array<{ label: string; dir: string; size: number }> = [
      { label: 'empty', dir: await emptyNode(ctx, p), size: setupEntries(p) },
    ];
    for (const size of sizes) {
      const cached = await cachedLog(ctx, size);
      ctx.log(`copying the cached log of ${size} entries`);
      nodes.push({ label: String(size), dir: join(copyLog(ctx, cached, `scale-${size}`), 'ledger'), size });
    }
    const inputFile = join(ctx.tempDir('scale-input'), 'transfers.bin');
    const samples = new Map<string, Sample[]>(nodes.map((n) => [n.label, []]));
    // Each run measures every node in turn, so that the noise of a shared machine falls on all.
    for (let run = 0; run <= ctx.runs; run++) {
      for (const n of nodes) {
        writeInput(inputFile, p, n.size, count);
        const s = await measure(n.dir, inputFile);
        if (s.size !== n.size || s.count !== count) throw new Error(`scale child: log of ${s.size} entries, ${s.count} transfers`);
        n.size += count;
        if (run > 0) samples.get(n.label)!.push(s);
        ctx.log(
          `${n.label} ${run === 0 ? 'warm-up' : `run ${run}`}: log ${s.size}, open ${s.openMs.toFixed(0)} ms, ` +
            `RSS ${(s.rssAfterOpen / MB).toFixed(0)} MB after open (peak ${(s.peakBeforeApply / MB).toFixed(0)} MB), ` +
            `${(s.peakRss / MB).toFixed(0)} MB peak applying, ${Math.round(s.rate)} transfers/s`,
        );
      }
    }
    const of = (label: string, f: (s: Sample) => number): Summary => summarize(samples.get(label)!.map(f));
    const empty = of('empty', (s) => s.rate);
    // The child holds the signed transfers it applies (a few bytes over their size: one buffer).
    const input = `${(samples.get('empty')![0]!.inputBytes / MB).toFixed(1)} MB of signed transfers held`;
    const peakOf = samples.get('empty')!.every((s) => s.peakOfApply) ? 'while applying' : 'open, then';
    const rows: Array<{ metric: string; value: string; target?: string; met?: boolean }> = [
      { metric: `empty node: durable apply (${count} transfers)`, value: fmtSummary(empty, '/s') },
      { metric: 'empty node: open time', value: fmtSummary(of('empty', (s) => s.openMs), ' ms') },
      { metric: `empty node: peak RSS (${peakOf} ${count} transfers; ${input})`, value: fmtSummary(of('empty', (s) => s.peakRss / MB), ' MB') },
    ];
    for (const size of sizes) {
      const label = String(size);
      const open = of(label, (s) => s.openMs);
      const rssOpen = of(label, (s) => s.rssAfterOpen / MB);
      const peak = of(label, (s) => s.peakRss / MB);
      const rate = of(label, (s) => s.rate);
      const ratio = rate.median / empty.median;
      const entries = `${fmt(size)} entries`;
      rows.push(
        { metric: `${entries}: open time`, value: fmtSummary(open, ' ms'), target: '< 1000 ms', met: open.max < 1000 },
        { metric: `${entries}: RSS after open`, value: fmtSummary(rssOpen, ' MB'), target: '< 300 MB', met: rssOpen.max < 300 },
        { metric: `${entries}: peak RSS (${peakOf} ${count} transfers)`, value: fmtSummary(peak, ' MB'), target: '< 300 MB', met: peak.max < 300 },
        { metric: `${entries}: durable apply (${count} transfers)`, value: fmtSummary(rate, '/s') },
        { metric: `${entries}: apply / empty node's`, value: ratio.toFixed(2), target: '>= 0.80', met: ratio >= 0.8 },
      );
    }
    return { name: 'scale', rows };
  },
};
