import { availableParallelism } from 'node:os';
import { fromBase64 } from '@mutual/codec';
import { VerifierPool } from '@mutual/verifier';
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { auditLog } from '../audit.ts';
import { Context } from '../context.ts';
import { verificationFailed } from '../failure.ts';
import { HeadsMemory } from '../heads-memory.ts';
import type { Io } from '../io.ts';
import { bankToVerify, namesBank, openHead, rememberHead } from '../trust.ts';
import { integer } from './queries.ts';

export function auditCommand(program: Command, io: Io): void {
  program
    .command('audit')
    .description(
      "download the bank's whole log and check it: every entry under the signed root, every signature and amount " +
        'replayed by the ledger rules, and conservation of notes',
    )
    .option('--bank <mbank>', "the bank's ID to verify against (default: as the node names it)")
    .option('--threads <n>', 'threads verifying signatures (default: up to 4)')
    .option('--no-remember', 'do not compare with or update the heads remembered in MUTUAL_HOME/heads')
    .action(async (o: { bank?: string; threads?: string; remember: boolean }, cmd: Command) => {
      const ctx = Context.of(io, cmd);
      const threads = o.threads === undefined ? Math.min(4, availableParallelism()) : integer('--threads', o.threads, 1, 256);
      const client = ctx.client();
      const bank = await bankToVerify(client, o.bank);
      const head = openHead(await client.head(), bank);
      // What the node knows of this bank from the mesh (a fork proof), and the head this user remembers.
      const row = (await client.banks().catch(() => [])).find((b) => namesBank(b.id, bank.key));
      let forkProof: Uint8Array | undefined;
      try {
        forkProof = row?.forkProof === undefined ? undefined : fromBase64(row.forkProof);
      } catch {
        forkProof = new Uint8Array(0);
      }
      const remembered = o.remember ? new HeadsMemory(io).load(bank.key) : undefined;
      const bar =
        io.stderrIsTTY && !ctx.options.json && io.stderrStream
          ? new SingleBar({ stream: io.stderrStream, format: 'audit [{bar}] {value}/{total} entries | {eta_formatted} left', hideCursor: true, clearOnComplete: true })
          : undefined;
      bar?.start(head.size, 0);
      const pool = new VerifierPool({ threads });
      let report;
      try {
        report = await auditLog({
          client,
          bankId: bank.id,
          bankKey: bank.key,
          head,
          verifyBatch: (items) => pool.verifyBatch(items),
          onProgress: (done) => bar?.update(done),
          ...(remembered ? { earlier: [remembered] } : {}),
          ...(forkProof ? { forkProof } : {}),
        });
      } finally {
        bar?.stop();
        await pool.close();
      }
      // Only a log that checked out is remembered as this bank's history.
      const prev = report.ok && o.remember ? await rememberHead(new HeadsMemory(io), client, bank, head, { nowMs: io.now(), latest: true }) : undefined;
      const full = { ...report, bankPinned: bank.pinned, previousSize: prev?.previousSize ?? null };
      if (!report.ok) {
        if (ctx.options.json) io.stdout(`${JSON.stringify(full, null, 2)}\n`);
        else io.stdout(`${report.problems.map((p) => `problem: ${p}`).join('\n')}\n`);
        throw verificationFailed(`audit of ${bank.id} FAILED at size ${head.size}: ${report.problems[0] ?? ''}`);
      }
      ctx.out.result(full, () =>
        [
          `audit of ${bank.id}: OK`,
          `  ${report.entries} entries hash to the root ${report.root} signed at size ${head.size}`,
          `  ${report.replayed} entries replayed: every signature and amount checks; notes issued ${report.totals.issued}, retired ${report.totals.retired}, ${report.totals.accounts} account${report.totals.accounts === 1 ? '' : 's'}`,
          '  conservation holds',
          ...(bank.pinned ? [] : ['  (bank ID as the node names it: pass --bank to pin it)']),
        ].join('\n'),
      );
    });
}
