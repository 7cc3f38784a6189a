// The benchmark suite, run by main.ts (`npm run bench`): all benchmarks, or those named
// (`npm run bench -- NAME...`); `--quick` runs each at a small size (CI checks that they
// still work).
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { applyBenchmark } from './apply.ts';
import { ingestBenchmark } from './ingest.ts';
import { syncBenchmark } from './sync.ts';
import { scaleBenchmark } from './scale.ts';
import { auditBenchmark } from './audit.ts';
import { gossipBenchmark } from './gossip.ts';
import { interbankBenchmark } from './interbank.ts';
import { transportBenchmark } from './transport.ts';
import { makeContext, type Benchmark, type BenchResult } from './context.ts';

const ALL: Benchmark[] = [applyBenchmark, ingestBenchmark, syncBenchmark, scaleBenchmark, auditBenchmark, gossipBenchmark, transportBenchmark, interbankBenchmark];

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const names = args.filter((a) => !a.startsWith('--'));
const unknown = names.filter((n) => !ALL.some((b) => b.name === n));
if (unknown.length > 0) {
  console.error(`unknown benchmark: ${unknown.join(', ')}; available: ${ALL.map((b) => b.name).join(', ')}`);
  process.exit(2);
}
const selected = names.length ? ALL.filter((b) => names.includes(b.name)) : ALL;

const ctx = makeContext(quick);
// Stopped by a signal, the suite ends at once; main.ts, which started it, then removes the
// temporary data once nothing is left writing to it.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => process.exit(signal === 'SIGINT' ? 130 : 143));
}
const results: BenchResult[] = [];
try {
  for (const b of selected) {
    process.stderr.write(`${b.name}: ${b.description}${quick ? ' (quick)' : ''}\n`);
    results.push(await b.run(ctx));
  }
} finally {
  ctx.cleanup();
}

const machine = `${cpus().length} x ${cpus()[0]?.model.trim() ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node.js ${process.version}`;
const lines = [`Machine: ${machine}`, `Date: ${new Date().toISOString().slice(0, 10)}`, `Mode: ${quick ? 'quick' : 'full'}`, ''];
lines.push('| benchmark | metric | value | target | met |', '|---|---|---|---|---|');
for (const r of results) {
  for (const row of r.rows) lines.push(`| ${r.name} | ${row.metric} | ${row.value} | ${row.target ?? ''} | ${row.met === undefined ? '' : row.met ? 'yes' : 'no'} |`);
}
const report = lines.join('\n');
console.log(report);
mkdirSync('bench/results', { recursive: true });
writeFileSync(`bench/results/${quick ? 'quick' : 'full'}.md`, report + '\n');
