import { accountIdOf, type Entry, type MutualClient } from '@mutual/client';
import { formatAccountId, fromBase64, parseAccountId } from '@mutual/codec';
import { openTreeHead } from '@mutual/ledger';
import { verify } from '@mutual/verifier';
import type { Command } from 'commander';
import { Context } from '../context.ts';
import { parsingArg, usageError } from '../failure.ts';
import type { Io } from '../io.ts';
import { readKeyFile } from '../key-file.ts';
import { fields, table } from '../output.ts';

/** The account named by ACCOUNT or by `--key FILE` (derived at the node's bank). */
async function accountOf(io: Io, client: MutualClient, arg: string | undefined, key: string | undefined): Promise<string> {
  if ((arg === undefined) === (key === undefined)) throw usageError('name the account as ACCOUNT or with --key FILE (one of them)');
  if (arg !== undefined) {
    // The node writes IDs in lower case; entries are matched against the account as it writes it.
    return formatAccountId(parsingArg('account', () => parseAccountId(arg)));
  }
  const holder = readKeyFile(io, key!);
  return accountIdOf((await client.status()).bank.id, holder);
}

const time = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 19);

/** The amount of an entry as it changes `account`: + received or issued, - paid or retired. */
export function signedAmount(e: Entry, account: string): string {
  if (e.amount === undefined) return '';
  if (e.kind === 'transfer') return e.payee === account ? `+${e.amount}` : `-${e.amount}`;
  if (e.kind === 'retirement') return `-${e.amount}`;
  if (e.kind === 'labor') return e.worker === account ? `+${e.amount}` : `(${e.amount} attested)`;
  return e.amount;
}

function counterparty(e: Entry, account: string): string {
  if (e.kind === 'transfer') return e.payee === account ? `from ${e.account ?? ''}` : `to ${e.payee ?? ''}`;
  if (e.kind === 'labor') return e.worker === account ? `by ${e.account ?? ''}` : `for ${e.worker ?? ''}`;
  return '';
}

function detail(e: Entry): string {
  if (e.kind === 'labor') return `${e.hours ?? '?'} h ${e.category ?? ''} x ${e.rate ?? '?'} on ${e.day ?? '?'}`;
  if (e.kind === 'account-opened') return `${e.kindOfAccount ?? ''} ${e.label ?? ''}`.trim();
  return '';
}

export function queries(program: Command, io: Io): void {
  program
    .command('balance')
    .description('the balance and sequence numbers of an account')
    .argument('[account]', 'the account, macct1…')
    .option('--key <file>', 'the account of this key file instead')
    .action(async (arg: string | undefined, o: { key?: string }, cmd: Command) => {
      const ctx = Context.of(io, cmd);
      const client = ctx.client();
      const a = await client.account(await accountOf(io, client, arg, o.key));
      ctx.out.result(a, () =>
        fields([
          ['account', a.account],
          ['kind', a.kind],
          ['label', a.label],
          ['balance', a.balance],
          ['sequence', a.sequence],
          ['next sequence', a.nextSequence],
          ['opened at entry', a.openedIndex],
        ]),
      );
    });

  program
    .command('history')
    .description("an account's statement, newest first")
    .argument('[account]', 'the account, macct1…')
    .option('--key <file>', 'the account of this key file instead')
    .option('--limit <n>', 'entries per page (1 to 200)', '50')
    .option('--before <index>', 'entries before this log index (the "next" of the previous page)')
    .action(async (arg: string | undefined, o: { key?: string; limit: string; before?: string }, cmd: Command) => {
      const ctx = Context.of(io, cmd);
      const limit = integer('--limit', o.limit, 1, 200);
      const before = o.before === undefined ? undefined : integer('--before', o.before, 0, Number.MAX_SAFE_INTEGER);
      const client = ctx.client();
      const id = await accountOf(io, client, arg, o.key);
      const s = await client.statement(id, { limit, ...(before !== undefined ? { before } : {}) });
      ctx.out.result({ account: id, ...s }, () => {
        const rows = s.entries.map((e) => [e.index, time(e.timeMs), e.kind, signedAmount(e, id), counterparty(e, id), detail(e), e.memo ?? '']);
        const more = s.next === null ? '' : `\nmore: mutual history ${id} --before ${s.next}`;
        return `${table(['entry', 'time (UTC)', 'kind', 'amount', 'with', 'detail', 'memo'], rows)}${more}`;
      });
    });

  program
    .command('status')
    .description("the bank, its log and totals, and its rate schedule")
    .action(async (_o: unknown, cmd: Command) => {
      const ctx = Context.of(io, cmd);
      const s = await ctx.client().status();
      ctx.out.result(s, () =>
        [
          fields([
            ['bank', s.bank.id],
            ['name', s.bank.name],
            ['bioregion', s.bank.bioregion],
            ['version', `${s.version} (protocol ${s.protocolVersion})`],
            ['log size', s.log.size],
            ['head root', s.head.root],
            ['notes issued', s.totals.issued],
            ['notes retired', s.totals.retired],
            ['accounts', s.totals.accounts],
          ]),
          table(['category', 'rate'], s.rates.map((r) => [r.category, r.rate])),
        ].join('\n'),
      );
    });

  program
    .command('head')
    .description("the bank's latest signed tree head (see `mutual verify` to check it against earlier ones)")
    .action(async (_o: unknown, cmd: Command) => {
      const ctx = Context.of(io, cmd);
      const h = await ctx.client().head();
      // Shown, not trusted: whether the signature holds under the key the head names.
      let signature = 'does not verify';
      try {
        if (openTreeHead(fromBase64(h.signed), verify)) signature = 'verifies (under the key the head names; `mutual verify` pins the bank)';
      } catch {
        signature = 'not base64';
      }
      ctx.out.result(h, () =>
        fields([
          ['bank', h.bank],
          ['size', h.size],
          ['root', h.root],
          ['time (UTC)', time(h.timeMs)],
          ['signature', signature],
        ]),
      );
    });
}

/** An integer option in [min, max], else a usage error. */
export function integer(name: string, text: string, min: number, max: number): number {
  const n = /^\d{1,16}$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw usageError(`${name} must be an integer from ${min} to ${max}, not "${text.slice(0, 40)}"`, 'VALIDATION_FAILED');
  return n;
}
