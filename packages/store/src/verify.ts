import {
  bkey,
  bytesEqual,
  conservationProblem,
  decodeEntry,
  MemoryLedgerState,
  openTreeHead,
  preverifyEntries,
  replayEntries,
  wholeCommands,
  type Account,
} from '@mutual/ledger';
import { Frontier, leafHash, nodeHash, perfectTreeHash } from '@mutual/merkle';
import { decodeU64, keys } from './keys.ts';
import { KEYSPACES, LOWEST_STORED_LEVEL, META } from './keyspaces.ts';
import { records } from './records.ts';
import type { LedgerStore } from './store.ts';

export interface VerifyReport {
  readonly ok: boolean;
  /** entries replayed */
  readonly entries: number;
  /** signed heads checked */
  readonly heads: number;
  /** what is wrong, each naming the record; empty when ok */
  readonly problems: string[];
}

const MAX_PROBLEMS = 100;
const REPLAY_CHUNK = 4096;

/**
 * Replays the whole log and checks it against everything stored: every entry re-derived by
 * the ledger rules with every signature verified, every Merkle node, every signed head, and
 * every materialized record (accounts, retries, daily hours, statements, totals).
 */
export async function verifyStore(
  store: LedgerStore,
  opts: { onProgress?: (done: number, total: number) => void } = {},
): Promise<VerifyReport> {
  try {
    return await verifyAll(store, opts);
  } catch (err) {
    // LevelDB reports damaged blocks as read errors: that too is a verdict, not a crash.
    return { ok: false, entries: 0, heads: 0, problems: [`reading the database failed: ${(err as Error).message}`] };
  }
}

async function verifyAll(store: LedgerStore, opts: { onProgress?: (done: number, total: number) => void }): Promise<VerifyReport> {
  const db = store.db;
  const { verify, verifyBatch } = store.options;
  const bankKey = store.bank.key;
  const problems: string[] = [];
  const problem = (p: string) => {
    if (problems.length < MAX_PROBLEMS) problems.push(p);
  };
  const size = store.size;

  // Signed heads, by size.
  const heads = new Map<number, Uint8Array>();
  for await (const [k, v] of db.iterator(keys.range(KEYSPACES.heads))) heads.set(Number(decodeU64(k.subarray(1))), v);
  let headsChecked = 0;

  // 1. Entries, in order: leaves, roots at every head, and replay.
  const leaves = Buffer.alloc(size * 32);
  const frontier = new Frontier();
  const state = new MemoryLedgerState();
  let expected = 0;
  let chunk: Uint8Array[] = [];
  let replayStopped = false;
  /** Replays the chunk; unless `last`, a command the chunk ends inside of waits for the next. */
  const flush = async (last = false) => {
    if (replayStopped || chunk.length === 0) return;
    const n = last ? chunk.length : wholeCommands(chunk);
    const whole = n === chunk.length ? chunk : chunk.slice(0, n);
    const pre = verifyBatch ? await preverifyEntries(state, whole, verifyBatch) : undefined;
    const p = replayEntries(state, whole, verify, pre);
    if (p) {
      problem(`entry ${p.index}: ${p.problem}`);
      replayStopped = true;
    }
    chunk = chunk.slice(n);
  };
  for await (const [k, v] of db.iterator(keys.range(KEYSPACES.entries))) {
    const index = Number(decodeU64(k.subarray(1)));
    if (index !== expected) {
      problem(index > expected ? `entries ${expected} to ${index - 1} are missing` : `entry key ${index} out of order`);
      break;
    }
    if (index >= size) {
      problem(`entry ${index} lies past the end of the log (${size})`);
      break;
    }
    const leaf = leafHash(v);
    leaves.set(leaf, index * 32);
    frontier.append(leaf);
    const h = heads.get(frontier.size);
    if (h) {
      headsChecked++;
      const head = openTreeHead(h, verify, bankKey);
      if (!head) problem(`the signed head of size ${frontier.size} does not verify`);
      else if (!bytesEqual(head.root, frontier.root())) problem(`the signed head of size ${frontier.size} does not match the entries`);
      else {
        const d = decodeEntry(v);
        if (typeof d !== 'string' && d.timeMs !== head.timeMs) problem(`the signed head of size ${frontier.size} is not dated with its last entry`);
      }
    }
    chunk.push(v);
    if (chunk.length >= REPLAY_CHUNK) {
      await flush();
      opts.onProgress?.(index + 1, size);
    }
    expected++;
  }
  await flush(true);
  opts.onProgress?.(expected, size);
  if (expected < size) problem(`the log should hold ${size} entries; ${expected} were found`);
  for (const s of heads.keys()) if (s > size || s === 0) problem(`a signed head of size ${s} lies outside the log`);
  const latest = await db.get(keys.meta(META.head));
  if (!latest || !heads.has(size) || !bytesEqual(latest, heads.get(size)!)) problem('the latest head is not the head recorded for the log size');

  // 2. Merkle nodes: the lowest stored level from the leaves, each level above from the one below.
  const block = 2 ** LOWEST_STORED_LEVEL;
  let level = LOWEST_STORED_LEVEL;
  let below: Buffer = Buffer.alloc(0);
  let current: Buffer = Buffer.alloc(Math.floor(size / block) * 32);
  for (let i = 0; i * 32 < current.length; i++) {
    const part = Array.from({ length: block }, (_, j) => leaves.subarray((i * block + j) * 32, (i * block + j + 1) * 32));
    current.set(perfectTreeHash(part), i * 32);
  }
  let count = 0;
  const closeLevel = () => {
    const want = Math.floor(size / 2 ** level);
    if (count !== want) problem(`Merkle level ${level} holds ${count} nodes; a log of ${size} needs ${want}`);
  };
  for await (const [k, v] of db.iterator(keys.range(KEYSPACES.nodes))) {
    const l = k[1]!;
    const index = Number(decodeU64(k.subarray(2)));
    if (l < LOWEST_STORED_LEVEL) {
      problem(`Merkle node (level ${l}, index ${index}) is stored; the levels below ${LOWEST_STORED_LEVEL} are derived from the entries`);
      continue;
    }
    while (l > level) {
      closeLevel();
      below = current;
      level++;
      current = Buffer.alloc(Math.floor(size / 2 ** level) * 32);
      count = 0;
    }
    let want: Uint8Array | undefined;
    if (level === LOWEST_STORED_LEVEL) want = (index + 1) * 32 <= current.length ? current.subarray(index * 32, index * 32 + 32) : undefined;
    else if ((2 * index + 2) * 32 <= below.length) {
      want = nodeHash(below.subarray(2 * index * 32, 2 * index * 32 + 32), below.subarray((2 * index + 1) * 32, (2 * index + 2) * 32));
      current.set(want, index * 32);
    }
    if (!want || !bytesEqual(want, v)) problem(`Merkle node (level ${level}, index ${index}) does not match the entries`);
    count++;
  }
  closeLevel();
  for (let l = level + 1; 2 ** l <= size; l++) problem(`Merkle level ${l} holds 0 nodes; a log of ${size} needs ${Math.floor(size / 2 ** l)}`);

  // 3. Materialized state against the replay.
  if (!replayStopped) await compareState(store, state, problem);
  const c = conservationProblem(state);
  if (c) problem(`conservation: ${c}`);

  return { ok: problems.length === 0, entries: expected, heads: headsChecked, problems };
}

async function compareState(store: LedgerStore, state: MemoryLedgerState, problem: (p: string) => void): Promise<void> {
  const db = store.db;
  const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

  let n = 0;
  for await (const [k, v] of db.iterator(keys.range(KEYSPACES.accounts))) {
    n++;
    const id = k.subarray(1);
    const stored = records.account.decode(id, v);
    const replayed = state.getAccount(id);
    if (!stored) problem(`account ${hex(id)}: record unreadable`);
    else if (!replayed) problem(`account ${hex(id)}: not opened in the log`);
    else if (!sameAccount(stored, replayed)) problem(`account ${hex(id)}: balance, sequence or details differ from the log`);
  }
  if (n !== state.accounts.size) problem(`${n} account records; the log opens ${state.accounts.size}`);

  n = 0;
  for await (const [k, v] of db.iterator(keys.range(KEYSPACES.applied))) {
    n++;
    const account = k.subarray(1, 21);
    const seq = decodeU64(k.subarray(21));
    const stored = records.applied.decode(v);
    const replayed = state.getApplied(account, seq);
    // A format 2 record also holds the body's hash; the replayed state holds it for every record.
    const hashDiffers = stored?.bodyHash !== undefined && (!replayed?.bodyHash || !bytesEqual(stored.bodyHash, replayed.bodyHash));
    if (!stored || !replayed || stored.entryIndex !== replayed.entryIndex || hashDiffers) {
      problem(`applied record of account ${hex(account)} sequence ${seq} differs from the log`);
    }
  }
  if (n !== state.applied.size) problem(`${n} applied-instruction records; the log has ${state.applied.size}`);

  n = 0;
  for await (const [k, v] of db.iterator(keys.range(KEYSPACES.laborDays))) {
    n++;
    const worker = k.subarray(1, 21);
    const day = new DataView(k.buffer, k.byteOffset + 21, 4).getUint32(0);
    if (v.length !== 8 || decodeU64(v) !== state.getLaborDay(worker, day)) problem(`labor hours of ${hex(worker)} on day ${day} differ from the log`);
  }
  if (n !== state.laborDays.size) problem(`${n} labor-day records; the log has ${state.laborDays.size}`);

  n = 0;
  const seen = new Map<string, number>();
  for await (const k of db.keys(keys.range(KEYSPACES.history))) {
    n++;
    const account = k.subarray(1, 21);
    const index = Number(decodeU64(k.subarray(21)));
    const list = state.history.get(bkey(account));
    const at = seen.get(bkey(account)) ?? 0;
    if (!list || list[at] !== index) problem(`statement of account ${hex(account)} lists entry ${index}, which the log does not`);
    seen.set(bkey(account), at + 1);
  }
  let historyTotal = 0;
  for (const l of state.history.values()) historyTotal += l.length;
  if (n !== historyTotal) problem(`${n} statement records; the log has ${historyTotal}`);

  n = 0;
  for await (const [k, v] of db.iterator(keys.range(KEYSPACES.outgoing))) {
    n++;
    const index = Number(decodeU64(k.subarray(1)));
    const stored = records.outgoing.decode(index, v);
    const replayed = state.getOutgoing(index);
    if (
      !stored ||
      !replayed ||
      stored.amount !== replayed.amount ||
      stored.refundIndex !== replayed.refundIndex ||
      !bytesEqual(stored.payer, replayed.payer) ||
      !bytesEqual(stored.bank, replayed.bank) ||
      !bytesEqual(stored.payee, replayed.payee)
    ) {
      problem(`outgoing transfer record of entry ${index} differs from the log`);
    }
  }
  if (n !== state.outgoing.size) problem(`${n} outgoing transfer records; the log has ${state.outgoing.size}`);

  n = 0;
  for await (const [k, v] of db.iterator(keys.range(KEYSPACES.inbound))) {
    n++;
    const bank = k.subarray(1, 33);
    const index = Number(decodeU64(k.subarray(33)));
    if (v.length !== 8 || Number(decodeU64(v)) !== state.getInbound(bank, index)) problem(`the answer to entry ${index} of bank ${hex(bank)} differs from the log`);
  }
  if (n !== state.inbound.size) problem(`${n} interbank answer records; the log has ${state.inbound.size}`);

  n = 0;
  for await (const [k, v] of db.iterator(keys.range(KEYSPACES.positions))) {
    n++;
    const bank = k.subarray(1);
    const stored = records.position.decode(v);
    const replayed = state.getPosition(bank);
    if (!stored || stored.sent !== replayed.sent || stored.refunded !== replayed.refunded || stored.received !== replayed.received) {
      problem(`the interbank position with bank ${hex(bank)} differs from the log`);
    }
  }
  if (n !== state.positions.size) problem(`${n} interbank position records; the log has ${state.positions.size}`);

  const [totalsB, ratesB, bankB, agreementB] = await db.getMany([
    keys.meta(META.totals),
    keys.meta(META.rates),
    keys.meta(META.bank),
    keys.meta(META.agreement),
  ]);
  // The record of the agreement in force is the AgreementAdopted of the last adoption, byte for byte.
  const wanted = state.agreementRecord;
  if (wanted ? !agreementB || !bytesEqual(agreementB, wanted) : agreementB !== undefined) problem('the record of the agreement in force differs from the log');
  const totals = totalsB && records.totals.decode(totalsB);
  const t = state.totals;
  if (
    !totals ||
    totals.issued !== t.issued ||
    totals.retired !== t.retired ||
    totals.accounts !== t.accounts ||
    totals.sent !== t.sent ||
    totals.refunded !== t.refunded ||
    totals.received !== t.received
  ) {
    problem('the totals record differs from the log');
  }
  const rates = ratesB && records.rates.decode(ratesB);
  if (!rates || JSON.stringify([...rates]) !== JSON.stringify([...state.rates])) problem('the rate schedule record differs from the log');
  const bank = bankB && records.bank.decode(bankB);
  if (!bank || !state.bank || !bytesEqual(bank.key, state.bank.key) || bank.name !== state.bank.name || bank.bioregion !== state.bank.bioregion) {
    problem('the bank identity record differs from the genesis entry');
  }
}

function sameAccount(a: Account, b: Account): boolean {
  return (
    a.balance === b.balance &&
    a.sequence === b.sequence &&
    a.kind === b.kind &&
    a.label === b.label &&
    a.openedIndex === b.openedIndex &&
    bytesEqual(a.holderKey, b.holderKey)
  );
}
