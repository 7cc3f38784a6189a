import type { MutualClient, Reconciliation } from '@mutual/client';
import type { Command } from 'commander';
import { Context } from '../context.ts';
import { EXIT } from '../exit-codes.ts';
import { Failure, verificationFailed } from '../failure.ts';
import type { Io } from '../io.ts';
import { table } from '../output.ts';
import { integer } from './queries.ts';

/** Names of the banks for people: the genesis name, with the ID's start when two share it. */
function labels(r: Reconciliation): Map<string, string> {
  const count = new Map<string, number>();
  for (const b of r.banks) if (b.name !== null) count.set(b.name, (count.get(b.name) ?? 0) + 1);
  const out = new Map<string, string>();
  for (const b of r.banks) {
    const short = `${b.bank.slice(0, 14)}…`;
    out.set(b.bank, b.name === null ? short : count.get(b.name)! > 1 ? `${b.name} (${short})` : b.name);
  }
  return out;
}

/** The reconciliation as text: pairs, banks, federation, then what is in flight or wrong. */
export function reconciliationText(r: Reconciliation): string {
  const name = labels(r);
  const label = (id: string) => name.get(id) ?? `${id.slice(0, 14)}…`;
  const lines: string[] = [];
  lines.push(`reconciliation of ${r.banks.length} bank${r.banks.length === 1 ? '' : 's'}, as ${label(r.self)} holds their logs: ${r.ok ? 'OK' : 'NOT OK'}`);
  if (r.pairs.length > 0) {
    lines.push(
      table(
        ['pair', 'state', 'net of first', 'net of second', 'in flight', 'problems'],
        r.pairs.map((p) => [`${label(p.banks[0])} – ${label(p.banks[1])}`, p.state, p.net[0], p.net[1], p.inFlightCount, p.problemCount]),
      ),
    );
  }
  lines.push(
    table(
      ['bank', 'entries', 'net', 'balances', 'issued', 'retired', 'conservation'],
      r.banks.map((b) => {
        const c = b.conservation;
        return [label(b.bank), b.replicated, b.net, c?.balances ?? '-', c?.issued ?? '-', c?.retired ?? '-', c === null ? 'no log held' : c.ok ? 'holds' : 'FAILS'];
      }),
    ),
  );
  const f = r.federation;
  lines.push(`federation: net positions sum to ${f.positionsSum}, in flight ${f.inFlight} (${f.inFlightCount} item${f.inFlightCount === 1 ? '' : 's'}): ${f.ok ? 'balanced' : 'NOT BALANCED'}`);
  const ref = (e: { bank: string; index: number }) => `${label(e.bank)}#${e.index}`;
  for (const p of r.pairs) {
    for (const i of p.inFlight) lines.push(`in flight: ${label(p.banks[0])} – ${label(p.banks[1])}: ${i.kind} ${ref(i.entry)} (${i.amount})`);
    if (p.inFlightCount > p.inFlight.length) lines.push(`in flight: ${label(p.banks[0])} – ${label(p.banks[1])}: ${p.inFlightCount - p.inFlight.length} more`);
    for (const x of p.problems) lines.push(`problem: ${label(p.banks[0])} – ${label(p.banks[1])}: ${x.kind}: ${x.message} [${x.entries.map(ref).join(', ')}]`);
    if (p.problemCount > p.problems.length) lines.push(`problem: ${label(p.banks[0])} – ${label(p.banks[1])}: ${p.problemCount - p.problems.length} more`);
  }
  for (const b of r.banks) {
    if (b.conservation && !b.conservation.ok) lines.push(`problem: ${label(b.bank)}: ${b.conservation.problem ?? 'conservation fails'}`);
    for (const x of b.problems) lines.push(`problem: ${label(b.bank)}: ${x}`);
  }
  for (const x of f.problems) lines.push(`problem: federation: ${x}`);
  return lines.join('\n');
}

/** Whether anything is wrong beyond transfers in flight. */
export function hasMismatch(r: Reconciliation): boolean {
  return (
    r.pairs.some((p) => p.state === 'mismatched') ||
    r.banks.some((b) => b.problems.length > 0 || (b.conservation !== null && !b.conservation.ok)) ||
    (!r.federation.ok && r.pairs.every((p) => p.state !== 'in-flight'))
  );
}

/** The failure for a reconciliation that does not hold: a mismatch (exit 4), else transfers in flight (exit 1). */
export function reconciliationFailure(r: Reconciliation): Failure {
  if (hasMismatch(r)) {
    const n = r.pairs.filter((p) => p.state === 'mismatched').length;
    return verificationFailed(`the reconciliation finds mismatches (${n} pair${n === 1 ? '' : 's'} mismatched): keep the output as evidence`);
  }
  return new Failure('NOT_RECONCILED', `${r.federation.inFlightCount} interbank transfer item${r.federation.inFlightCount === 1 ? ' is' : 's are'} still in flight`, EXIT.error);
}

/** Polls the reconciliation until it holds, a mismatch shows, or `seconds` pass; returns the last one. */
export async function awaitReconciliation(client: MutualClient, seconds: number, now: () => number, intervalMs = 500): Promise<Reconciliation> {
  const end = now() + seconds * 1000;
  for (;;) {
    const r = await client.reconciliation();
    if (r.ok || hasMismatch(r) || now() >= end) return r;
    await new Promise((res) => setTimeout(res, intervalMs));
  }
}

/** `mutual reconcile`: interbank positions and transfers of every pair of banks, as the node holds their logs. */
export function reconcileCommand(program: Command, io: Io): void {
  program
    .command('reconcile')
    .description(
      "reconcile interbank transfers across the node's own log and its replicas of the other banks' logs: " +
        'every pair matched, nets opposite, conservation of every log (exit 1 while transfers are in flight, 4 on a mismatch)',
    )
    .option('--wait <seconds>', 'poll until the reconciliation holds or a mismatch shows, for at most this long')
    .action(async (o: { wait?: string }, cmd: Command) => {
      const ctx = Context.of(io, cmd);
      const client = ctx.client();
      const r = o.wait === undefined ? await client.reconciliation() : await awaitReconciliation(client, integer('--wait', o.wait, 0, 3600), io.now);
      ctx.out.result(r, () => reconciliationText(r));
      if (!r.ok) throw reconciliationFailure(r);
    });
}
