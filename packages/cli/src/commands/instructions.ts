import { isApplied, sameBank, Wallet, type Applied } from '@mutual/client';
import { formatAmount, formatDay, parseAccountId, parseAmount, parseBankId, parseDay, parseHours, dayOfTimeMs } from '@mutual/codec';
import type { Command } from 'commander';
import { Context } from '../context.ts';
import { EXIT } from '../exit-codes.ts';
import { Failure, parsingArg } from '../failure.ts';
import { describeState, waitForInterbank, waitSeconds } from './interbank.ts';
import type { Io } from '../io.ts';
import { readKeyFile } from '../key-file.ts';
import { printResult } from './submit.ts';

function wallet(ctx: Context, keyFile: string): Wallet {
  return new Wallet({ client: ctx.client(), key: readKeyFile(ctx.io, keyFile), now: ctx.io.now });
}

/** `labor record`, `transfer` and `retire`: instructions signed here with the holder's key. */
export function instructions(program: Command, io: Io): void {
  const labor = program.command('labor').description('labor attested by a cooperative');
  labor
    .command('record')
    .description('attest, as a cooperative, the hours a member worked; the bank issues notes = hours x rate')
    .requiredOption('--key <file>', "the cooperative's key file")
    .requiredOption('--worker <account>', "the member's account, macct1…")
    .requiredOption('--hours <hours>', 'hours worked, e.g. 7.5 (at most 24)')
    .requiredOption('--category <name>', "a category of the bank's rate schedule, e.g. standard")
    .option('--day <YYYY-MM-DD>', 'the day of the work (default: today, UTC)')
    .option('--memo <text>', 'a note kept in the ledger')
    .action(async (o: { key: string; worker: string; hours: string; category: string; day?: string; memo?: string }, cmd: Command) => {
      const ctx = Context.of(io, cmd);
      parsingArg('--worker', () => parseAccountId(o.worker));
      const milliHours = parsingArg('--hours', () => parseHours(o.hours));
      const day = o.day === undefined ? dayOfTimeMs(io.now()) : parsingArg('--day', () => parseDay(o.day!));
      const w = wallet(ctx, o.key);
      const r = await w.recordLabor({ worker: o.worker, hours: milliHours, category: o.category, day, ...(o.memo !== undefined ? { memo: o.memo } : {}) });
      printResult(ctx, r, (a) => `recorded ${o.hours} hours of ${o.category} work by ${o.worker} on ${formatDay(day)}: ${a.amount} notes issued (log entry ${a.entryIndex})`);
    });

  program
    .command('transfer')
    .description('pay notes from the account of a key file to another account')
    .argument('<amount>', 'notes, e.g. 7.5 (at most 3 decimal places)')
    .requiredOption('--key <file>', "the payer's key file")
    .requiredOption('--to <account>', "the payee's account, macct1…")
    .option('--to-bank <bank>', "the payee's bank, mbank1…, when it is another bank")
    .option('--memo <text>', 'a note kept in the ledger')
    .option('--wait <seconds>', "to another bank: wait until the payee's bank credits it (or it is refunded), at most this long")
    .action(async (amount: string, o: { key: string; to: string; toBank?: string; memo?: string; wait?: string }, cmd: Command) => {
      const ctx = Context.of(io, cmd);
      const milli = parsingArg('amount', () => parseAmount(amount));
      parsingArg('--to', () => parseAccountId(o.to));
      if (o.toBank !== undefined) parsingArg('--to-bank', () => parseBankId(o.toBank!));
      const seconds = o.wait === undefined ? undefined : waitSeconds(o.wait);
      const w = wallet(ctx, o.key);
      const r = await w.transfer({
        to: o.to,
        amount: milli,
        ...(o.toBank !== undefined ? { toBank: o.toBank } : {}),
        ...(o.memo !== undefined ? { memo: o.memo } : {}),
      });
      // The wallet read the node's bank to sign the transfer; it is not asked again.
      const interbank = o.toBank !== undefined && isApplied(r) && !sameBank(await w.bank(), o.toBank);
      if (!interbank || seconds === undefined) {
        printResult(ctx, r, (a) =>
          interbank
            ? `sent ${formatAmount(milli)} notes to ${o.to} at ${o.toBank}: pending until that bank credits it (log entry ${a.entryIndex}; \`mutual interbank show ${a.entryIndex}\`)`
            : `transferred ${formatAmount(milli)} notes to ${o.to} (log entry ${a.entryIndex})`,
        );
        return;
      }
      const t = await waitForInterbank(ctx.client(), (r as Applied).entryIndex, seconds);
      ctx.out.result({ ...r, interbank: t }, () => `sent ${formatAmount(milli)} notes to ${o.to} at ${o.toBank} (log entry ${t.index})\n${describeState(t)}`);
      if (t.state === 'pending') throw new Failure('STILL_PENDING', `still pending after ${seconds} s`, EXIT.error);
      if (t.state === 'refunded') throw new Failure('INTERBANK_REFUNDED', "the payee's bank rejected the transfer; the payer was refunded", EXIT.rejected);
    });

  program
    .command('retire')
    .description('take notes out of circulation (redeemed against goods or services)')
    .argument('<amount>', 'notes, e.g. 2.5')
    .requiredOption('--key <file>', "the holder's key file")
    .option('--memo <text>', 'a note kept in the ledger')
    .action(async (amount: string, o: { key: string; memo?: string }, cmd: Command) => {
      const ctx = Context.of(io, cmd);
      const milli = parsingArg('amount', () => parseAmount(amount));
      const r = await wallet(ctx, o.key).retire({ amount: milli, ...(o.memo !== undefined ? { memo: o.memo } : {}) });
      printResult(ctx, r, (a) => `retired ${formatAmount(milli)} notes (log entry ${a.entryIndex})`);
    });
}
