import { leafHash, withDerivedLevels, type NodeReader } from '@mutual/merkle';
import type { Level } from 'level';
import { corrupt } from './errors.ts';
import { LOWEST_STORED_LEVEL } from './keyspaces.ts';

type Db = Level<Uint8Array, Uint8Array>;

/**
 * Reads of a few keys are done synchronously (`getSync`); larger ones with one asynchronous
 * `getMany`. An asynchronous read goes through the libuv thread pool and back: measured at
 * about 35 µs of CPU per read on a two-core virtual machine, against about 3 µs for a
 * synchronous read of a record in LevelDB's memtable or block cache. The reads of the hot
 * paths (an outgoing transfer and its settlement, an answer already given, a head, a Merkle
 * node of a recent entry) are such records. A large read (the accounts of a whole commit)
 * stays asynchronous: its keys may be on disk, and the main thread should not wait for them.
 */
export const SYNC_READ_MAX_KEYS = 8;

/** The value of `key`, read synchronously; undefined when there is none. */
export function readNow(db: Db, key: Uint8Array): Uint8Array | undefined {
  return db.getSync(key);
}

/** The values of `keys` in order: synchronously for at most SYNC_READ_MAX_KEYS keys, else one getMany. */
export async function readMany(db: Db, keys: readonly Uint8Array[]): Promise<Array<Uint8Array | undefined>> {
  if (keys.length <= SYNC_READ_MAX_KEYS) return keys.map((k) => db.getSync(k));
  return db.getMany(keys as Uint8Array[]);
}

/**
 * The node reader of one log (the bank's own or a replica): stored nodes of levels >=
 * LOWEST_STORED_LEVEL read with `node`, the lower ones derived from the entries read with
 * `entry`. A missing node or entry is DB_CORRUPT, named with `of` (" of a replica", or "").
 */
export function logNodeReader(read: {
  node(level: number, index: number): Uint8Array | undefined;
  entry(index: number): Uint8Array | undefined;
  of: string;
}): NodeReader {
  return withDerivedLevels(
    (level, index) => {
      const v = read.node(level, index);
      if (!v || v.length !== 32) throw corrupt(`Merkle node (level ${level}, index ${index})${read.of} is missing`);
      return v;
    },
    (start, end) => {
      const out: Uint8Array[] = [];
      for (let i = start; i < end; i++) {
        const e = read.entry(i);
        if (!e) throw corrupt(`entry ${i}${read.of} is missing`);
        out.push(leafHash(e));
      }
      return out;
    },
    LOWEST_STORED_LEVEL,
  );
}
