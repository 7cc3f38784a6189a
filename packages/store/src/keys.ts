import { KEYSPACES } from './keyspaces.ts';

const TWO_32 = 2 ** 32;

/** Writes a safe integer (or bigint) as 8 big-endian bytes, without allocating. */
function u64be(out: Uint8Array, offset: number, v: number | bigint): void {
  let hi: number;
  let lo: number;
  if (typeof v === 'number') {
    hi = Math.floor(v / TWO_32);
    lo = v >>> 0;
  } else {
    hi = Number((v >> 32n) & 0xffffffffn);
    lo = Number(v & 0xffffffffn);
  }
  out[offset] = hi >>> 24;
  out[offset + 1] = (hi >>> 16) & 0xff;
  out[offset + 2] = (hi >>> 8) & 0xff;
  out[offset + 3] = hi & 0xff;
  out[offset + 4] = lo >>> 24;
  out[offset + 5] = (lo >>> 16) & 0xff;
  out[offset + 6] = (lo >>> 8) & 0xff;
  out[offset + 7] = lo & 0xff;
}

export function encodeU64(v: number | bigint): Uint8Array {
  const b = offHeap(8);
  u64be(b, 0, v);
  return b;
}

export function decodeU64(b: Uint8Array): bigint {
  if (b.length !== 8) throw new RangeError('a u64 value is 8 bytes');
  return new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0);
}

const enc = new TextEncoder();

/**
 * `n` uninitialised bytes off the V8 heap; every byte is written by the caller. Keys and small
 * values go to the database through N-API, which must externalise a small on-heap
 * `Uint8Array` (an allocation and a copy, then garbage-collector pressure) before it can
 * read it; a pooled `Buffer` is already external, which roughly halves the main thread's
 * cost per put.
 */
export function offHeap(n: number): Uint8Array {
  return Buffer.allocUnsafe(n);
}

export const keys = {
  meta(name: string): Uint8Array {
    const n = enc.encode(name);
    const k = offHeap(1 + n.length);
    k[0] = KEYSPACES.meta;
    k.set(n, 1);
    return k;
  },
  entry(index: number): Uint8Array {
    const k = offHeap(9);
    k[0] = KEYSPACES.entries;
    u64be(k, 1, index);
    return k;
  },
  node(level: number, index: number): Uint8Array {
    const k = offHeap(10);
    k[0] = KEYSPACES.nodes;
    k[1] = level;
    u64be(k, 2, index);
    return k;
  },
  head(size: number): Uint8Array {
    const k = offHeap(9);
    k[0] = KEYSPACES.heads;
    u64be(k, 1, size);
    return k;
  },
  account(id: Uint8Array): Uint8Array {
    const k = offHeap(21);
    k[0] = KEYSPACES.accounts;
    k.set(id, 1);
    return k;
  },
  applied(account: Uint8Array, sequence: bigint): Uint8Array {
    const k = offHeap(29);
    k[0] = KEYSPACES.applied;
    k.set(account, 1);
    u64be(k, 21, sequence);
    return k;
  },
  laborDay(worker: Uint8Array, day: number): Uint8Array {
    const k = offHeap(25);
    k[0] = KEYSPACES.laborDays;
    k.set(worker, 1);
    new DataView(k.buffer, k.byteOffset, k.byteLength).setUint32(21, day);
    return k;
  },
  history(account: Uint8Array, index: number): Uint8Array {
    const k = offHeap(29);
    k[0] = KEYSPACES.history;
    k.set(account, 1);
    u64be(k, 21, index);
    return k;
  },
  outgoing(index: number): Uint8Array {
    const k = offHeap(9);
    k[0] = KEYSPACES.outgoing;
    u64be(k, 1, index);
    return k;
  },
  inbound(bank: Uint8Array, index: number): Uint8Array {
    const k = offHeap(41);
    k[0] = KEYSPACES.inbound;
    k.set(bank, 1);
    u64be(k, 33, index);
    return k;
  },
  position(bank: Uint8Array): Uint8Array {
    const k = offHeap(33);
    k[0] = KEYSPACES.positions;
    k.set(bank, 1);
    return k;
  },
  clearing(bank: Uint8Array): Uint8Array {
    const k = offHeap(33);
    k[0] = KEYSPACES.clearing;
    k.set(bank, 1);
    return k;
  },
  /** agreements/<agreement id 32>: a signed agreement of the pool */
  agreement(id: Uint8Array): Uint8Array {
    const k = offHeap(33);
    k[0] = KEYSPACES.agreements;
    k.set(id, 1);
    return k;
  },
  settled(index: number): Uint8Array {
    const k = offHeap(9);
    k[0] = KEYSPACES.settled;
    u64be(k, 1, index);
    return k;
  },
  /** [gte, lt) bounds of every key of one keyspace */
  range(space: number): { gte: Uint8Array; lt: Uint8Array } {
    return { gte: new Uint8Array([space]), lt: new Uint8Array([space + 1]) };
  },
};
