// RPC ingest: transfers per second committed through batched POST /v1/transfers from a
// separate client process, against the durable apply rate of the same run.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { formatPublicKey, parseBankId } from '@mutual/codec';
import { measureApply, population, fundingLabor, transfers, type Prepared } from './apply.ts';
import type { Benchmark, BenchContext } from './context.ts';
import { startDaemon, type Daemon } from '../../tests/support/daemon.ts';
import { fmtSummary, summarize } from './stats.ts';

const CLIENT = resolve(import.meta.dirname, 'ingest-client.ts');
const BATCH = 1000;
const IN_FLIGHT = 8;

async function call(d: Daemon, method: string, path: string, body?: unknown, admin = false): Promise<unknown> {
  const res = await fetch(`${d.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(admin ? { authorization: `Bearer ${d.token}` } : {}) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

async function setUpBank(d: Daemon, accounts: number): Promise<Prepared> {
  const status = (await call(d, 'GET', '/v1/status')) as { bank: { id: string } };
  const p = population(accounts, { publicKey: parseBankId(status.bank.id) });
  const open = (publicKey: Uint8Array, kind: string) => call(d, 'POST', '/v1/accounts', { publicKey: formatPublicKey(publicKey), kind }, true);
  await open(p.coop.publicKey, 'cooperative');
  for (let i = 0; i < p.members.length; i += 16) await Promise.all(p.members.slice(i, i + 16).map((m) => open(m.publicKey, 'member')));
  for (const chunk of fundingLabor(p)) {
    const r = (await call(d, 'POST', '/v1/labor', { instructions: chunk.map((b) => Buffer.from(b).toString('base64')) })) as { results: Array<{ code: string }> };
    if (r.results.some((x) => x.code !== 'APPLIED')) throw new Error('funding failed');
  }
  return p;
}

/** The high-water mark of a process's RSS (VmHWM, Linux), or undefined where it cannot be read. */
function peakRssOf(pid: number | undefined): number | undefined {
  try {
    const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

function runClient(url: string, file: string): Promise<number> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [CLIENT, url, file, String(BATCH), String(IN_FLIGHT)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('exit', (code) => {
      if (code !== 0) return rej(new Error(`ingest client failed: ${err}`));
      const r = JSON.parse(out) as { perSecond: number; rejected: number };
      if (r.rejected > 0) return rej(new Error(`${r.rejected} transfers were rejected`));
      res(r.perSecond);
    });
  });
}

export const ingestBenchmark: Benchmark = {
  name: 'ingest',
  description: 'RPC ingest: batched POST /v1/transfers from a separate process, against durable apply',
  async run(ctx: BenchContext) {
    const { summary: apply } = await measureApply(ctx);
    const count = ctx.quick ? 5_000 : 100_000;
    const accounts = ctx.quick ? 100 : 1000;
    const rates: number[] = [];
    const peaks: number[] = [];
    for (let run = 0; run <= ctx.runs; run++) {
      const dir = ctx.tempDir('ingest');
      const d = await startDaemon(dir, ['--rate-limit', '1000000']);
      try {
        const p = await setUpBank(d, accounts);
        const file = join(dir, 'transfers.txt');
        // transfers() takes payers round-robin, so payer = i % accounts; lanes own disjoint payers.
        const lines = transfers(p, count).map((b, i) => `${(i % accounts) % IN_FLIGHT}\t${Buffer.from(b).toString('base64')}`);
        writeFileSync(file, lines.join('\n') + '\n');
        const rate = await runClient(d.url, file);
        const peak = peakRssOf(d.child.pid);
        if (run > 0) {
          rates.push(rate);
          if (peak !== undefined) peaks.push(peak / 2 ** 20);
        }
        const mb = peak === undefined ? '' : `, node's peak RSS ${(peak / 2 ** 20).toFixed(0)} MB`;
        ctx.log(`${run === 0 ? 'warm-up' : `run ${run}`}: ${Math.round(rate)} transfers/s${mb}`);
      } finally {
        await d.stop();
      }
    }
    const ingest = summarize(rates);
    const ratio = ingest.median / apply.median;
    return {
      name: 'ingest',
      rows: [
        { metric: `RPC ingest (${count} transfers, batches of ${BATCH}, ${IN_FLIGHT} in flight)`, value: fmtSummary(ingest, '/s') },
        { metric: 'durable apply, same run', value: fmtSummary(apply, '/s') },
        { metric: 'ingest / durable apply', value: ratio.toFixed(2), target: '>= 0.60', met: ratio >= 0.6 },
        ...(peaks.length === rates.length
          ? [{ metric: "the node's peak RSS over its life (start, accounts, funding, ingest)", value: fmtSummary(summarize(peaks), ' MB') }]
          : []),
      ],
    };
  },
};
