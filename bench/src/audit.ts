// `mutual audit` of a long log: the CLI's auditLog (packages/cli/src/audit.ts) with the
// verifier pool the command makes, reading a real node's /v1/entries through the client
// library; entries per second, every holder signature checked, against the verify ceiling.
import { availableParallelism } from 'node:os';
import { auditLog } from '@mutual/cli';
import { MutualClient } from '@mutual/client';
import { formatBankId } from '@mutual/codec';
import { openTreeHead } from '@mutual/ledger';
import { VerifierPool, verify } from '@mutual/verifier';
import { startDaemon } from '../../tests/support/daemon.ts';
import { verifyCeiling } from './ceilings.ts';
import type { Benchmark, BenchContext } from './context.ts';
import { cachedLog, copyLog, logPopulation } from './log-cache.ts';
import { fmtSummary, summarize } from './stats.ts';

export function auditSize(quick: boolean): number {
  return quick ? 20_000 : 1_000_000;
}

export const auditBenchmark: Benchmark = {
  name: 'audit',
  description: 'mutual audit of a long log from a real node: every entry hashed, replayed, every signature checked',
  async run(ctx: BenchContext) {
    const size = auditSize(ctx.quick);
    const cached = await cachedLog(ctx, size);
    const ceiling = await verifyCeiling(ctx);
    ctx.log(`verify ceiling: ${fmtSummary(ceiling, '/s')}`);
    const p = logPopulation();
    const bankId = formatBankId(p.bank.publicKey);
    // The command's default: up to 4 verifier threads.
    const threads = Math.min(4, availableParallelism());
    const daemon = await startDaemon(copyLog(ctx, cached, 'audit'), ['--rate-limit', '1000000']);
    const rates: number[] = [];
    try {
      const client = new MutualClient({ url: daemon.url });
      const head = openTreeHead(Buffer.from((await client.head()).signed, 'base64'), verify, p.bank.publicKey);
      if (!head || head.size !== size) throw new Error(`the node's head is not a verified head of ${size} entries`);
      for (let run = 0; run <= ctx.runs; run++) {
        const pool = new VerifierPool({ threads });
        try {
          const started = performance.now();
          const report = await auditLog({ client, bankId, bankKey: p.bank.publicKey, head, verifyBatch: (items) => pool.verifyBatch(items) });
          const rate = size / ((performance.now() - started) / 1000);
          if (!report.ok || report.replayed !== size) throw new Error(`the audit failed: ${report.problems.join('; ')}`);
          if (run > 0) rates.push(rate);
          ctx.log(`${run === 0 ? 'warm-up' : `run ${run}`}: ${Math.round(rate)} entries/s`);
        } finally {
          await pool.close();
        }
      }
    } finally {
      await daemon.stop();
    }
    const audit = summarize(rates);
    const ratio = audit.median / ceiling.median;
    return {
      name: 'audit',
      rows: [
        { metric: `verify ceiling (${availableParallelism()} threads)`, value: fmtSummary(ceiling, '/s') },
        { metric: `mutual audit (${size} entries from a node, ${threads} verifier threads)`, value: fmtSummary(audit, ' entries/s') },
        { metric: 'audit / verify ceiling', value: ratio.toFixed(2), target: '>= 0.80', met: ratio >= 0.8 },
      ],
    };
  },
};
