import type { BankView, Peer } from '@mutual/client';
import type { Command } from 'commander';
import { Context } from '../context.ts';
import type { Io } from '../io.ts';
import { table } from '../output.ts';

/** A peer's bank, or why it has none yet: its hello has not verified. */
const peerBank = (p: Peer) => p.bank ?? '(hello pending)';

/** The rows of `mutual banks`: head size '-' when no head is known yet; FORKED when the node holds a fork proof. */
export function bankRows(banks: readonly BankView[]): Array<Array<string | number>> {
  return banks.map((b) => [b.id, b.name, b.bioregion, b.self ? 'yes' : '', b.head ? b.head.size : '-', b.replicating ? b.replicated : '-', b.replicating ? b.behind : '-', b.forked ? 'FORKED' : '']);
}

/** What `mutual banks` says under its table of each forked bank. */
export function forkLines(banks: readonly BankView[]): string[] {
  return banks
    .filter((b) => b.forked)
    .map((b) => `FORKED: ${b.id}${b.name ? ` (${b.name})` : ''} signed two inconsistent tree heads; the node holds the proof (--json: forkProof) and refuses its new interbank transfers`);
}

/** `mutual peers` and `mutual banks`: the node's mesh as it sees it. */
export function meshCommands(program: Command, io: Io): void {
  program
    .command('peers')
    .description("the node's mesh connections: peer, bank, name, bioregion, addresses, latency")
    .action(async (_o: unknown, cmd: Command) => {
      const ctx = Context.of(io, cmd);
      const peers = await ctx.client().peers();
      ctx.out.result({ peers }, () =>
        peers.length === 0
          ? 'no peers'
          : table(
              ['peer', 'bank', 'name', 'bioregion', 'addresses', 'latency (ms)'],
              peers.map((p) => [p.peerId, peerBank(p), p.name ?? '', p.bioregion ?? '', p.addresses.join('\n'), p.latencyMs ?? '']),
            ),
      );
    });

  program
    .command('banks')
    .description('this bank and every bank the node knows, with how much of each log it holds and whether it is proven forked')
    .action(async (_o: unknown, cmd: Command) => {
      const ctx = Context.of(io, cmd);
      const banks = await ctx.client().banks();
      ctx.out.result({ banks }, () =>
        [table(['bank', 'name', 'bioregion', 'self', 'head size', 'replicated', 'behind', 'forked'], bankRows(banks)), ...forkLines(banks)].join('\n'),
      );
    });
}
