import type { InterbankState, InterbankTransfer, MutualClient } from '@mutual/client';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { Context } from '../context.ts';
import { EXIT } from '../exit-codes.ts';
import { Failure, usageError } from '../failure.ts';
import type { Io } from '../io.ts';
import { table } from '../output.ts';
import { integer } from './queries.ts';

const STATES: readonly InterbankState[] = ['pending', 'settled', 'refunded'];

/** What one state means to the payer. */
export function describeState(t: InterbankTransfer): string {
  switch (t.state) {
    case 'pending':
      return "pending: debited here, not yet answered by the payee's bank";
    case 'settled':
      return `settled: credited by the payee's bank (its log entry ${t.credit?.index ?? '?'})`;
    case 'refunded':
      return `refunded: the payee's bank rejected it; the payer got ${t.amount} notes back (log entry ${t.refundIndex ?? '?'})`;
  }
}

/**
 * Polls an interbank transfer until it is no longer pending, for at most `seconds`. Returns its
 * last known state (still pending when the time ran out).
 */
export async function waitForInterbank(client: MutualClient, index: number, seconds: number): Promise<InterbankTransfer> {
  const deadline = Date.now() + seconds * 1000;
  let t = await client.interbank(index);
  for (let delay = 50; t.state === 'pending' && Date.now() < deadline; delay = Math.min(delay * 2, 1000)) {
    await sleep(Math.min(delay, Math.max(0, deadline - Date.now())));
    t = await client.interbank(index);
  }
  return t;
}

/** The seconds of a `--wait` option: more than 0, at most an hour; a usage error otherwise. */
export function waitSeconds(text: string): number {
  const n = /^\d{1,4}(\.\d{1,3})?$/.test(text) ? Number(text) : NaN;
  if (!(n > 0 && n <= 3600)) throw usageError(`--wait must be a number of seconds above 0 and at most 3600, not "${text.slice(0, 40)}"`, 'VALIDATION_FAILED');
  return n;
}

/** `mutual interbank list|show|wait`: interbank transfers the bank sent and where each stands. */
export function interbankCommands(program: Command, io: Io): void {
  const ib = program.command('interbank').description("interbank transfers this bank sent: pending, settled (credited by the payee's bank) or refunded");
  ib.command('list')
    .description('interbank transfers this bank sent, newest first')
    .option('--state <state>', `only those ${STATES.join(', ')}`)
    .option('--limit <n>', 'at most this many (1 to 1000)', '100')
    .action(async (o: { state?: string; limit: string }, cmd: Command) => {
      const ctx = Context.of(io, cmd);
      const state = o.state === undefined ? undefined : oneOf(o.state);
      const limit = integer('--limit', o.limit, 1, 1000);
      const transfers = await ctx.client().interbankTransfers({ limit, ...(state ? { state } : {}) });
      ctx.out.result({ transfers }, () =>
        transfers.length === 0
          ? 'no interbank transfers'
          : table(
              ['entry', 'state', 'amount', 'payer', 'payee bank', 'payee'],
              transfers.map((t) => [t.index, t.state, t.amount, t.payer, t.payeeBank, t.payee]),
            ),
      );
    });

  ib.command('show')
    .description('one interbank transfer, by the log index of its outgoing entry')
    .argument('<entry>', 'the index of the outgoing entry (printed by `mutual transfer`)')
    .option('--wait <seconds>', 'wait until it is settled or refunded, at most this long')
    .action(async (entry: string, o: { wait?: string }, cmd: Command) => {
      const ctx = Context.of(io, cmd);
      const index = integer('entry', entry, 0, Number.MAX_SAFE_INTEGER);
      const seconds = o.wait === undefined ? undefined : waitSeconds(o.wait);
      const t = seconds === undefined ? await ctx.client().interbank(index) : await waitForInterbank(ctx.client(), index, seconds);
      ctx.out.result(t, () => `entry ${t.index}: ${t.amount} notes to ${t.payee} at ${t.payeeBank}\n${describeState(t)}`);
      if (seconds !== undefined && t.state === 'pending') {
        throw new Failure('STILL_PENDING', `still pending after ${seconds} s`, EXIT.error);
      }
    });
}

function oneOf(s: string): InterbankState {
  if (!(STATES as readonly string[]).includes(s)) throw usageError(`--state must be one of ${STATES.join(', ')}, not "${s.slice(0, 40)}"`, 'VALIDATION_FAILED');
  return s as InterbankState;
}
