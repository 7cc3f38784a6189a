import { toU64 } from '@mutual/protocol';

/**
 * A uint64 protobuf field value: a plain number when the value is a safe integer, else a
 * Long from `toU64`. protobufjs writes both as the same varint, so the bytes are unchanged;
 * the number skips the BigInt arithmetic and the Long object that `toU64` allocates, which
 * adds up over several fields of every entry and record. Throws RangeError outside [0, 2^64).
 */
export function u64Field(v: bigint | number): number | ReturnType<typeof toU64> {
  if (typeof v === 'number') {
    if (Number.isSafeInteger(v) && v >= 0) return v;
    return toU64(BigInt(v));
  }
  if (v >= 0n && v <= MAX_SAFE) return Number(v);
  return toU64(v);
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
