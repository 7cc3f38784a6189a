import { writeFileSync } from 'node:fs';
import { newKey, serializeKey } from '@mutual/client';
import { formatPublicKey } from '@mutual/codec';
import type { Command } from 'commander';
import { Context } from '../context.ts';
import { Failure, usageError } from '../failure.ts';
import { EXIT } from '../exit-codes.ts';
import type { Io } from '../io.ts';
import { fromCwd } from '../paths.ts';

const NOTE =
  'The account ID of this key depends on the bank: once a bank opens an account for it, ' +
  'see it with `mutual balance --key FILE`. Keep the key file secret; it is the only way to sign for the account.';

export function keygen(program: Command, io: Io): void {
  program
    .command('keygen')
    .description('create a holder key pair and write it to a key file (mode 0600)')
    .option('--out <file>', 'the key file to write (never overwritten); without it, the key file goes to stdout')
    .action((o: { out?: string }, cmd: Command) => {
      const ctx = Context.of(io, cmd);
      const key = newKey();
      const text = serializeKey(key.seed);
      const publicKey = formatPublicKey(key.publicKey);
      if (o.out === undefined) {
        // The key file itself is the output, ready for `> file`.
        io.stdout(text);
        ctx.out.note(`public key: ${publicKey}\n${NOTE}`);
        return;
      }
      const path = fromCwd(io, o.out);
      try {
        // 'wx': refuse to overwrite, atomically; 0600: the seed is the holder's alone.
        writeFileSync(path, text, { mode: 0o600, flag: 'wx' });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EEXIST') throw usageError(`${o.out} already exists; a key file is never overwritten`);
        throw new Failure('KEY_FILE_INVALID', `cannot write ${o.out}: ${code ?? (err as Error).message}`, EXIT.error);
      }
      ctx.out.result({ publicKey, file: path }, () => `wrote ${o.out}\npublic key: ${publicKey}\n${NOTE}`);
    });
}
