import type { Level } from 'level';
import { corrupt } from './errors.ts';
import { keys } from './keys.ts';
import { KEYSPACES, LOWEST_STORED_LEVEL, META } from './keyspaces.ts';
import { records } from './records.ts';

type Db = Level<Uint8Array, Uint8Array>;

/**
 * Deletions per batch while migrating. Each batch is synced: the format record, written last,
 * must never reach the disk before a deletion it stands for.
 */
const MIGRATE_BATCH = 10_000;

function formatValue(version: number): Uint8Array {
  const f = new Uint8Array(4);
  new DataView(f.buffer).setUint32(0, version);
  return f;
}

/** Deletes every key `doomed` yields, in synced batches of MIGRATE_BATCH. */
async function deleteAll(db: Db, doomed: AsyncIterable<Uint8Array>): Promise<void> {
  let batch = db.batch();
  for await (const k of doomed) {
    batch.del(k);
    if (batch.length >= MIGRATE_BATCH) {
      await batch.write({ sync: true });
      batch = db.batch();
    }
  }
  if (batch.length > 0) await batch.write({ sync: true });
  else await batch.close();
}

/**
 * Format 1 to 2: deletes the Merkle nodes of levels below LOWEST_STORED_LEVEL, of the bank's
 * own log (`nodes/<level>…`) and of every replica (`replica-nodes/<bank 32><level>…`); they
 * are derived from the entries from now on. Nothing else changes. The format record is
 * written last: a migration cut short by a crash runs again on the next open, and deletes
 * what is left.
 */
async function from1(db: Db): Promise<void> {
  const spaces: Array<{ space: number; levelAt: number }> = [
    { space: KEYSPACES.nodes, levelAt: 1 },
    { space: KEYSPACES.replicaNodes, levelAt: 33 },
  ];
  for (const { space, levelAt } of spaces) {
    await deleteAll(
      db,
      (async function* () {
        for await (const k of db.keys(keys.range(space))) if (k.length > levelAt && k[levelAt]! < LOWEST_STORED_LEVEL) yield k;
      })(),
    );
  }
  await db.put(keys.meta(META.format), formatValue(2), { sync: true });
}

/**
 * Format 2 to 3: deletes the history record of every entry that applied an account's own
 * instruction; the account's applied record lists that entry in its statement from now on.
 * Applied records keep the body's hash that format 2 wrote (read as before); new ones are
 * written without. The format record is written last, as in {@link from1}.
 */
async function from2(db: Db): Promise<void> {
  await deleteAll(
    db,
    (async function* () {
      for await (const [k, v] of db.iterator(keys.range(KEYSPACES.applied))) {
        const r = k.length === 29 ? records.applied.decode(v) : undefined;
        if (!r) throw corrupt('an applied-instruction record is unreadable');
        yield keys.history(k.subarray(1, 21), r.entryIndex);
      }
    })(),
  );
  await db.put(keys.meta(META.format), formatValue(3), { sync: true });
}

/**
 * Brings a database of an older format to the next one, step by step. Returns the format it
 * is in after (FORMAT_VERSION, or `version` itself when no step leads from it).
 */
export async function migrate(db: Db, version: number): Promise<number> {
  let v = version;
  if (v === 1) {
    await from1(db);
    v = 2;
  }
  if (v === 2) {
    await from2(db);
    v = 3;
  }
  return v;
}
