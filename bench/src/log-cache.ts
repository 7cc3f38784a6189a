// Long logs for the benchmarks that need one: a bank's data directory (bank.key, admin.token,
// ledger/) whose log holds exactly `size` real entries, built once through LedgerStore and kept
// under bench/.cache (not committed), keyed by size, database format and builder version.
import { availableParallelism } from 'node:os';
import { chmodSync, cpSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { formatBankId, toBase64 } from '@mutual/codec';
import { FORMAT_VERSION, LedgerStore } from '@mutual/store';
import { signDetached, verify, VerifierPool } from '@mutual/verifier';
import { freshBank, packed, population, seedOf, signedTransfer, type Prepared } from './apply.ts';
import type { BenchContext } from './context.ts';

export const CACHE_DIR = resolve(import.meta.dirname, '..', '.cache');
/** Bumped whenever what the builder writes changes, so that old caches are not reused. */
const BUILDER_VERSION = 1;
export const LOG_ACCOUNTS = 1000;
/** Transfers submitted at once while building (the most one group commit takes). */
const BUILD_SUBMISSION = 4096;
const BUILD_IN_FLIGHT = 4;

/** The bank of every cached log: seeded, so that its transfers can be signed again. */
export function logPopulation(): Prepared {
  return population(LOG_ACCOUNTS);
}

/** The `i`th transfer of a cached log (0-based): payers round-robin, each in sequence order. */
export function transferAt(p: Prepared, i: number): Uint8Array {
  const n = p.ids.length;
  const from = i % n;
  const to = (from + 1 + ((i * 7) % (n - 1))) % n;
  return signedTransfer(p, from, to, BigInt(Math.floor(i / n) + 1));
}

/** Transfers [first, first + count) of a cached log. */
export function transfersAt(p: Prepared, first: number, count: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let k = 0; k < count; k += 1000) {
    const chunk: Uint8Array[] = [];
    for (let j = k; j < Math.min(count, k + 1000); j++) chunk.push(transferAt(p, first + j));
    out.push(...packed(chunk)); // see packed()
  }
  return out;
}

export function openLogStore(ledgerDir: string, p: Prepared, pool?: VerifierPool): Promise<LedgerStore> {
  return LedgerStore.open({
    dir: ledgerDir,
    bankKey: p.bank.publicKey,
    sign: (m) => signDetached(m, p.bank.secretKey!),
    verify,
    ...(pool ? { verifyBatch: (items) => pool.verifyBatch(items) } : {}),
  });
}

/** Entries of a log before its first transfer: genesis, rates, account openings, funding. */
export function setupEntries(p: Prepared): number {
  return 2 + 1 + p.ids.length + p.ids.length;
}

function dirFor(size: number): string {
  return join(CACHE_DIR, `log-b${BUILDER_VERSION}-f${FORMAT_VERSION}-a${LOG_ACCOUNTS}-${size}`);
}

/** Writes the node's secret files for the bench bank, so that a daemon can open the directory. */
function writeSecrets(dir: string, p: Prepared): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const key = join(dir, 'bank.key');
  writeFileSync(key, `${JSON.stringify({ kind: 'mutual-bank-key', bank: formatBankId(p.bank.publicKey), seed: toBase64(benchBankSeed()) })}\n`, { mode: 0o600 });
  writeFileSync(join(dir, 'admin.token'), 'b'.repeat(64), { mode: 0o600 });
}

/** The seed of the bench bank's key (as `population()` derives it). */
export function benchBankSeed(): Uint8Array {
  return seedOf('bank', 0);
}

/**
 * The data directory of a log of exactly `size` entries, built if not cached (from the largest
 * smaller cached log, if any). Returns the path; its `ledger/` folder is the LevelDB database.
 * Callers that write must copy it first (`copyLog`).
 */
export async function cachedLog(ctx: BenchContext, size: number): Promise<string> {
  const p = logPopulation();
  if (size < setupEntries(p) + 1) throw new RangeError(`a cached log holds at least ${setupEntries(p) + 1} entries`);
  const dir = dirFor(size);
  if (existsSync(join(dir, 'complete'))) return dir;
  mkdirSync(CACHE_DIR, { recursive: true });
  const building = `${dir}.building`;
  rmSync(building, { recursive: true, force: true });
  const base = smallerCached(size);
  const started = performance.now();
  const pool = new VerifierPool({ threads: availableParallelism() });
  let store: LedgerStore;
  try {
    if (base) {
      ctx.log(`building a log of ${size} entries from the cached one of ${base.size}`);
      cpSync(base.dir, building, { recursive: true });
      rmSync(join(building, 'complete'));
      store = await openLogStore(join(building, 'ledger'), p, pool);
    } else {
      ctx.log(`building a log of ${size} entries (cached in ${CACHE_DIR} for later runs)`);
      writeSecrets(building, p);
      store = await freshBank(join(building, 'ledger'), p, pool);
      if (store.size !== setupEntries(p)) throw new Error(`the setup wrote ${store.size} entries, expected ${setupEntries(p)}`);
    }
    try {
      await extend(ctx, store, p, size);
    } finally {
      await store.close();
    }
  } finally {
    await pool.close();
  }
  writeFileSync(join(building, 'complete'), `${size}\n`);
  renameSync(building, dir);
  ctx.log(`built in ${Math.round((performance.now() - started) / 1000)} s`);
  return dir;
}

function smallerCached(size: number): { dir: string; size: number } | undefined {
  for (const s of [5_000_000, 1_000_000, 100_000, 20_000].filter((x) => x < size)) {
    const dir = dirFor(s);
    if (existsSync(join(dir, 'complete'))) return { dir, size: s };
  }
  return undefined;
}

/** Appends transfers until the log holds `size` entries. */
async function extend(ctx: BenchContext, store: LedgerStore, p: Prepared, size: number): Promise<void> {
  let next = store.size - setupEntries(p);
  const last = size - setupEntries(p);
  let reported = store.size;
  const lane = async () => {
    while (next < last) {
      const first = next;
      const count = Math.min(BUILD_SUBMISSION, last - first);
      next += count;
      const results = await store.submitSigned(transfersAt(p, first, count));
      const bad = results.find((r) => r.code !== 'APPLIED');
      if (bad) throw new Error(`building the log: transfer rejected: ${bad.code}`);
      if (store.size - reported >= 250_000) {
        reported = store.size;
        ctx.log(`  ${store.size} entries`);
      }
    }
  };
  await Promise.all(Array.from({ length: BUILD_IN_FLIGHT }, lane));
  if (store.size !== size) throw new Error(`built ${store.size} entries, expected ${size}`);
}

/** A private copy of a cached log, for a benchmark that writes to it. */
export function copyLog(ctx: BenchContext, cached: string, label: string): string {
  const dir = join(ctx.tempDir(label), 'data');
  cpSync(cached, dir, { recursive: true });
  rmSync(join(dir, 'complete'));
  return dir;
}
