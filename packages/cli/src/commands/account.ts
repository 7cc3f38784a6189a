import { ACCOUNT_KINDS, accountIdOf, type AccountKindText } from '@mutual/client';
import { formatPublicKey, parsePublicKey } from '@mutual/codec';
import { Option, type Command } from 'commander';
import { Context } from '../context.ts';
import { parsingArg, usageError } from '../failure.ts';
import type { Io } from '../io.ts';
import { readKeyFile } from '../key-file.ts';

export function account(program: Command, io: Io): void {
  const group = program.command('account').description('accounts at the bank');
  group
    .command('open')
    .description("open an account for a holder's public key (admin: needs the node's admin token)")
    .option('--key <file>', "the holder's key file (only its public key is sent)")
    .option('--public-key <mpub>', "the holder's public key, mpub1…")
    .addOption(new Option('--kind <kind>', 'the kind of account').choices(ACCOUNT_KINDS).makeOptionMandatory())
    .option('--label <text>', 'a name for people, e.g. the holder or cooperative name')
    .option('--data <dir>', "the node's data directory, to find its admin.token (env MUTUAL_DATA)")
    .action(async (o: { key?: string; publicKey?: string; kind: AccountKindText; label?: string; data?: string }, cmd: Command) => {
      const ctx = Context.of(io, cmd);
      if ((o.key === undefined) === (o.publicKey === undefined)) throw usageError('give the holder as either --key FILE or --public-key MPUB');
      const publicKey =
        o.key !== undefined ? formatPublicKey(readKeyFile(io, o.key).publicKey) : formatPublicKey(parsingArg('--public-key', () => parsePublicKey(o.publicKey!)));
      const opened = await ctx.adminClient(o.data).openAccount({ publicKey, kind: o.kind, ...(o.label !== undefined ? { label: o.label } : {}) });
      ctx.out.result(opened, () => `opened ${opened.kind} account ${opened.account} (log entry ${opened.entryIndex})`);
    });
  group
    .command('id')
    .description("print the account ID of a key file at this node's bank (no account needs to exist)")
    .requiredOption('--key <file>', "the holder's key file")
    .action(async (o: { key: string }, cmd: Command) => {
      const ctx = Context.of(io, cmd);
      const holder = readKeyFile(io, o.key);
      const account = accountIdOf((await ctx.client().status()).bank.id, holder);
      ctx.out.result({ account }, () => account);
    });
}
