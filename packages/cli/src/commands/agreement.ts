import type { AgreementView } from '@mutual/client';
import { fromHex, parseAmount, parseBankId, toHex } from '@mutual/codec';
import { rateScheduleProblem } from '@mutual/ledger';
import type { Command } from 'commander';
import { Context } from '../context.ts';
import { parsingArg, usageError } from '../failure.ts';
import type { Io } from '../io.ts';
import { table } from '../output.ts';

const collect = (v: string, prev: string[] = []) => [...prev, v];

/** An agreement ID (hex, either case) in the lower-case form the node's routes take. */
function agreementId(what: string, text: string): string {
  return toHex(parsingArg(what, () => fromHex(text, 32)));
}

/** The rows of `mutual agreement list`: one per agreement. */
export function agreementRows(list: readonly AgreementView[]): Array<Array<string | number>> {
  return list.map((a) => [
    a.id.slice(0, 16),
    a.members.map((m) => `${m.name || m.bank}${m.signed ? '' : ' (unsigned)'}`).join('\n'),
    a.rates.map((r) => `${r.category}=${r.rate}`).join('\n'),
    a.clearingLimit,
    a.inForce ? 'in force' : a.adopted ? 'adopted' : a.complete ? 'complete' : 'signing',
  ]);
}

/** A one-line summary of an agreement after propose or sign. */
function summary(verb: string, a: AgreementView): string {
  const signed = a.members.filter((m) => m.signed).length;
  const state = a.inForce ? 'adopted, in force' : a.complete ? 'complete' : `${signed} of ${a.members.length} members signed`;
  return `${verb} agreement ${a.id} (${state})`;
}

/** `mutual agreement propose|sign|list`: federation agreements of the bank's bioregion. */
export function agreementCommands(program: Command, io: Io): void {
  const group = program.command('agreement').description('federation agreements between the banks of the bioregion');
  group
    .command('propose')
    .description('propose an agreement, signed by this bank, to the member banks (admin)')
    .requiredOption('--member <mbank>', 'a member bank, mbank1… (repeat; this bank is always a member)', collect)
    .requiredOption('--clearing-limit <notes>', 'the bound of each pair of members\' net position, in notes')
    .option('--rate <category=rate>', 'a category of the rate schedule, e.g. standard=1 (repeat; default: this bank\'s schedule)', collect)
    .option('--amends <id>', 'the ID of the agreement this one amends')
    .option('--data <dir>', "the node's data directory, to find its admin.token (env MUTUAL_DATA)")
    .action(async (o: { member: string[]; clearingLimit: string; rate?: string[]; amends?: string; data?: string }, cmd: Command) => {
      const ctx = Context.of(io, cmd);
      // Every argument is checked here as the node would check it, so that a bad one is a usage error (exit 2).
      for (const m of o.member) parsingArg('--member', () => parseBankId(m));
      parsingArg('--clearing-limit', () => parseAmount(o.clearingLimit, { allowZero: true }));
      const rates = o.rate?.map((r) => {
        const [category, rate, extra] = r.split('=');
        if (!category || !rate || extra !== undefined) throw usageError(`--rate takes category=rate, e.g. standard=1, not "${r}"`);
        return { category, rate, milli: Number(parsingArg(`--rate ${category}`, () => parseAmount(rate))) };
      });
      const problem = rates && rateScheduleProblem(rates.map((r) => [r.category, r.milli] as const));
      if (problem) throw usageError(`--rate: ${problem}`, 'AGREEMENT_INVALID');
      const amends = o.amends === undefined ? undefined : agreementId('--amends', o.amends);
      const { agreement } = await ctx.adminClient(o.data).proposeAgreement({
        members: o.member,
        clearingLimit: o.clearingLimit,
        ...(rates ? { rates: rates.map(({ category, rate }) => ({ category, rate })) } : {}),
        ...(amends ? { amends } : {}),
      });
      ctx.out.result(agreement, () => summary('proposed', agreement));
    });
  group
    .command('sign')
    .description('sign an agreement as this bank (admin); it is adopted as soon as every member signed')
    .argument('<id>', 'the agreement ID (hex), as `mutual agreement list --json` shows it')
    .option('--data <dir>', "the node's data directory, to find its admin.token (env MUTUAL_DATA)")
    .action(async (id: string, o: { data?: string }, cmd: Command) => {
      const ctx = Context.of(io, cmd);
      const hex = agreementId('agreement ID', id);
      const { agreement } = await ctx.adminClient(o.data).signAgreement(hex);
      ctx.out.result(agreement, () => summary('signed', agreement));
    });
  group
    .command('list')
    .description('the agreements the node has seen: members (and who has not signed), rates, clearing limit, state')
    .action(async (_o: unknown, cmd: Command) => {
      const ctx = Context.of(io, cmd);
      const agreements = await ctx.client().agreements();
      ctx.out.result({ agreements }, () =>
        agreements.length === 0 ? 'no agreements' : table(['id', 'members', 'rates', 'clearing limit', 'state'], agreementRows(agreements)),
      );
    });
}
