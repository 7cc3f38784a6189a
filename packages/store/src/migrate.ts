import type { Level } from 'level';
import { keys } from './keys.ts';
import { KEYSPACES, LOWEST_STORED_LEVEL, META } from './keyspaces.ts';

type Db = Level<Uint8Array, Uint8Array>;

/** Deletions per batch while migrating. */
const MIGRATE_BATCH = 10_000;

function formatValue(version: number): Uint8Array {
  const f = new Uint8Array(4);
  new DataView(f.buffer).setUint32(0, version);
  return f;
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
    let batch = db.batch();
    for await (const k of db.keys(keys.range(space))) {
      if (k.length > levelAt && k[levelAt]! < LOWEST_STORED_LEVEL) batch.del(k);
      if (batch.length >= MIGRATE_BATCH) {
        await batch.write();
        batch = db.batch();
      }
    }
    if (batch.length > 0) await batch.write();
    else await batch.close();
  }
  await db.put(keys.meta(META.format), formatValue(2), { sync: true });
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
  return v;
}
