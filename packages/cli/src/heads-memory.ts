import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatBankId, fromBase64, toBase64 } from '@mutual/codec';
import { openTreeHead, type SignedHead } from '@mutual/ledger';
import { verify } from '@mutual/verifier';
import { Failure } from './failure.ts';
import { EXIT } from './exit-codes.ts';
import type { Io } from './io.ts';
import { mutualHome } from './paths.ts';

/**
 * The last head of each bank this user verified, kept in `<MUTUAL_HOME>/heads/<bankId>.json`
 * as the signed bytes themselves: every later head must extend it, so that a bank cannot show
 * this user one history today and another tomorrow without it being caught. A pair of heads
 * that do not agree is written next to it as `<bankId>.fork.json`: portable evidence.
 * Banks are named by their keys: an ID has more than one text form (upper or lower case), and
 * each bank must have exactly one file.
 */
export class HeadsMemory {
  readonly dir: string;

  constructor(io: Io) {
    this.dir = join(mutualHome(io), 'heads');
  }

  #path(bankKey: Uint8Array, suffix = '.json'): string {
    // The canonical bech32m text of the key: safe as a file name.
    return join(this.dir, `${formatBankId(bankKey)}${suffix}`);
  }

  /** The remembered head of a bank, re-verified; undefined when none. */
  load(bankKey: Uint8Array): SignedHead | undefined {
    let text: string;
    try {
      text = readFileSync(this.#path(bankKey), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    let head: SignedHead | undefined;
    try {
      const doc = JSON.parse(text) as { signed?: unknown };
      head = typeof doc.signed === 'string' ? openTreeHead(fromBase64(doc.signed), verify, bankKey) : undefined;
    } catch {
      head = undefined;
    }
    if (!head) throw new Failure('KEY_FILE_INVALID', `the remembered head ${this.#path(bankKey)} is damaged; remove it to start over`, EXIT.error);
    return head;
  }

  /** Remembers `head` as the latest verified head of its bank. */
  save(bankKey: Uint8Array, head: SignedHead, nowMs: number): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const doc = { bank: formatBankId(bankKey), size: head.size, root: Buffer.from(head.root).toString('hex'), signed: toBase64(head.bytes), verifiedAtMs: nowMs };
    const path = this.#path(bankKey);
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(doc, null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, path);
  }

  /** Writes two conflicting signed heads of a bank as evidence; returns the file. */
  saveFork(bankKey: Uint8Array, a: SignedHead, b: SignedHead, why: string): string {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const path = this.#path(bankKey, '.fork.json');
    const doc = { bank: formatBankId(bankKey), why, heads: [a, b].map((h) => ({ size: h.size, root: Buffer.from(h.root).toString('hex'), signed: toBase64(h.bytes) })) };
    writeFileSync(path, `${JSON.stringify(doc, null, 2)}\n`, { mode: 0o600 });
    return path;
  }
}
