import { fromBase64, toHex } from '@mutual/codec';
import { decodeEntry, type SignedHead } from '@mutual/ledger';
import { leafHash, verifyInclusion } from '@mutual/merkle';
import type { Command } from 'commander';
import { Context } from '../context.ts';
import { usageError, verificationFailed } from '../failure.ts';
import { HeadsMemory } from '../heads-memory.ts';
import type { Io } from '../io.ts';
import { bankToVerify, checkConsistent, openHead, rememberHead, type Bank, type Remembered } from '../trust.ts';
import { integer } from './queries.ts';

interface VerifyOptions {
  entry?: string;
  from?: string;
  to?: string;
  bank?: string;
  remember: boolean;
}

const headView = (h: SignedHead) => ({ size: h.size, root: toHex(h.root), timeMs: Number(h.timeMs) });

export function verifyCommand(program: Command, io: Io): void {
  program
    .command('verify')
    .description(
      "check what the node says without trusting it: signed heads under the bank's key, an entry's inclusion proof, " +
        'consistency between heads, and that every head extends the last one verified on this machine',
    )
    .option('--entry <index>', 'check that this log entry is in the signed log (inclusion proof)')
    .option('--from <size>', 'check that the signed head of this size is extended by a later one (consistency proof)')
    .option('--to <size>', 'with --from: the later head (default: the latest)')
    .option('--bank <mbank>', "the bank's ID to verify against (default: as the node names it, trusted on first use)")
    .option('--no-remember', 'do not compare with or update the heads remembered in MUTUAL_HOME/heads')
    .action(async (o: VerifyOptions, cmd: Command) => {
      const ctx = Context.of(io, cmd);
      if (o.entry !== undefined && o.from !== undefined) throw usageError('give --entry or --from, not both');
      if (o.to !== undefined && o.from === undefined) throw usageError('--to goes with --from');
      // Every argument is checked before the node is asked anything.
      const index = o.entry === undefined ? undefined : integer('--entry', o.entry, 0, Number.MAX_SAFE_INTEGER);
      const from = o.from === undefined ? undefined : integer('--from', o.from, 1, Number.MAX_SAFE_INTEGER);
      const to = o.to === undefined ? undefined : integer('--to', o.to, 1, Number.MAX_SAFE_INTEGER);
      if (from !== undefined && to !== undefined && to < from) throw usageError('--to must not be smaller than --from');
      const client = ctx.client();
      const bank = await bankToVerify(client, o.bank);
      const memory = new HeadsMemory(io);
      const remember = async (head: SignedHead, latest: boolean): Promise<Remembered | undefined> =>
        o.remember ? rememberHead(memory, client, bank, head, { nowMs: io.now(), latest }) : undefined;

      if (index !== undefined) {
        const r = await client.entry(index);
        const head = openHead(r.head, bank);
        const bytes = decodeBase64(r.entry.bytes, `entry ${index}`);
        const decoded = decodeEntry(bytes);
        if (typeof decoded === 'string' || decoded.index !== index) throw verificationFailed(`the bytes sent as entry ${index} are not entry ${index}`);
        if (r.proof.treeSize !== head.size) throw verificationFailed(`the inclusion proof is for size ${r.proof.treeSize}, the head for ${head.size}`);
        const path = r.proof.path.map((p) => decodeBase64(p, 'a proof hash'));
        const leaf = leafHash(bytes);
        if (!verifyInclusion(leaf, index, head.size, path, head.root)) {
          throw verificationFailed(`entry ${index} is not in the log the bank signed at size ${head.size}: the inclusion proof fails`);
        }
        const prev = await remember(head, true);
        const report = { ok: true, bank: bank.id, bankPinned: bank.pinned, entry: index, leafHash: toHex(leaf), head: headView(head), previousSize: prev?.previousSize ?? null };
        ctx.out.result(report, () => `ok: entry ${index} (${r.entry.kind}) is in the log of ${bank.id} signed at size ${head.size}${trailer(bank, prev)}`);
        return;
      }

      if (from !== undefined) {
        const older = openHead(await client.headAt(from), bank, `the head of size ${from}`);
        if (older.size !== from) throw verificationFailed(`asked for the head of size ${from}, the node sent one of size ${older.size}`);
        const newer = openHead(to === undefined ? await client.head() : await client.headAt(to), bank, 'the later head');
        if (to !== undefined && newer.size !== to) throw verificationFailed(`asked for the head of size ${to}, the node sent one of size ${newer.size}`);
        if (newer.size < older.size) throw verificationFailed(`the latest head (size ${newer.size}) is older than the head of size ${from}`);
        await checkConsistent(client, older, newer);
        const prev = await remember(newer, to === undefined);
        const report = { ok: true, bank: bank.id, bankPinned: bank.pinned, from: headView(older), to: headView(newer), previousSize: prev?.previousSize ?? null };
        ctx.out.result(report, () => `ok: the log of ${bank.id} at size ${newer.size} extends its log at size ${older.size}${trailer(bank, prev)}`);
        return;
      }

      const head = openHead(await client.head(), bank);
      const prev = await remember(head, true);
      const report = { ok: true, bank: bank.id, bankPinned: bank.pinned, head: headView(head), previousSize: prev?.previousSize ?? null };
      ctx.out.result(report, () => `ok: the latest head of ${bank.id} (size ${head.size}) is signed by the bank${trailer(bank, prev)}`);
    });
}

function decodeBase64(text: string, what: string): Uint8Array {
  try {
    return fromBase64(text);
  } catch {
    throw verificationFailed(`${what} is not base64`);
  }
}

function trailer(bank: Bank, prev: Remembered | undefined): string {
  const parts: string[] = [];
  if (prev) {
    parts.push(prev.previousSize === undefined ? 'first head of this bank remembered here' : `consistent with the head of size ${prev.previousSize} verified before`);
  }
  if (!bank.pinned) parts.push('bank ID as the node names it: pass --bank to pin it');
  return parts.length > 0 ? `\n(${parts.join('; ')})` : '';
}
