/**
 * @mutual/protocol: the wire and on-disk formats of Mutual.
 *
 * The message classes are generated from `protocol/proto` (see `src/gen`). This module adds
 * the domain-separation prefixes of signed objects and the conversions between protobuf
 * 64-bit integers and `bigint`.
 */
import Long from 'long';
import protobuf from 'protobufjs/minimal.js';
import { mutual } from './gen/mutual.js';

/** Messages of `mutual.v1` (wire format). */
export const pb = mutual.v1;
/** Messages of `mutual.v1.storage` (LevelDB values). */
export const pbStorage = mutual.v1.storage;
export type { mutual };

/** Protocol version written in every Genesis entry. */
export const PROTOCOL_VERSION = 1;

const enc = new TextEncoder();

/**
 * Domain-separation prefixes. Each kind of signed or hashed object has its own, so that a
 * signature made for one kind can never be taken for another (protocol/README.md, "Signatures").
 */
export const DOMAIN = {
  instruction: enc.encode('mutual/v1/instruction\n'),
  treeHead: enc.encode('mutual/v1/tree-head\n'),
  accountId: enc.encode('mutual/v1/account-id\n'),
  agreement: enc.encode('mutual/v1/agreement\n'),
} as const;

/** Account kinds, as numbered in `mutual.v1.AccountKind`. */
export const AccountKind = {
  member: 1,
  cooperative: 2,
  mutualAidFund: 3,
} as const;
export type AccountKindName = keyof typeof AccountKind;
export type AccountKindNumber = (typeof AccountKind)[AccountKindName];

export function accountKindName(n: number): AccountKindName | undefined {
  for (const [name, v] of Object.entries(AccountKind)) if (v === n) return name as AccountKindName;
  return undefined;
}

const U64_MAX = (1n << 64n) - 1n;

/** A protobuf uint64 as decoded (Long, or number when small) to bigint. */
export function u64(v: number | Long | null | undefined): bigint {
  if (v === null || v === undefined) return 0n;
  if (typeof v === 'number') return BigInt(v);
  return (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0);
}

/** A bigint in [0, 2^64) as a protobuf uint64 value. Throws RangeError outside. */
export function toU64(v: bigint): Long {
  if (v < 0n || v > U64_MAX) throw new RangeError(`uint64 out of range: ${v}`);
  return new Long(Number(v & 0xffffffffn) | 0, Number(v >> 32n) | 0, true);
}

/** `prefix || bytes`, the exact message an Ed25519 signature covers. */
export function signedMessage(prefix: Uint8Array, bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(prefix.length + bytes.length);
  out.set(prefix, 0);
  out.set(bytes, prefix.length);
  return out;
}

/** Whether a decoded message, or a message nested in it, carried fields this version does not know. */
export function hasUnknownFields(m: object): boolean {
  const u = (m as { $unknowns?: unknown[] }).$unknowns;
  if (Array.isArray(u) && u.length > 0) return true;
  for (const v of Object.values(m)) {
    if (v === null || typeof v !== 'object' || v instanceof Uint8Array || v instanceof Long) continue;
    if (Array.isArray(v)) {
      for (const item of v) if (item !== null && typeof item === 'object' && !(item instanceof Uint8Array) && hasUnknownFields(item)) return true;
    } else if (hasUnknownFields(v)) return true;
  }
  return false;
}

/**
 * Whether `bytes` are a message holding exactly one field, length-delimited, and nothing else:
 * the shape of a message whose oneof of messages is set (to a kind the reader may or may not
 * know). Never throws.
 */
export function isSingleMessageField(bytes: Uint8Array): boolean {
  try {
    const r = protobuf.Reader.create(bytes);
    const tag = r.uint32();
    if ((tag & 7) !== 2 || tag >>> 3 === 0) return false;
    const length = r.uint32();
    return r.pos + length === bytes.length;
  } catch {
    return false;
  }
}

interface Decodable<T> {
  decode(reader: protobuf.Reader | Uint8Array, length?: number): T;
}

const NodeBuffer = protobuf.util.Buffer as typeof Buffer | null;

/**
 * Readers that note whether the decoder skipped a field: the generated decoders call
 * `skipType` for exactly the fields they do not know (an unknown number, or a known number
 * with the wrong wire type), at any depth, and for nothing else. Cheaper than walking the
 * decoded message for `$unknowns` (hasUnknownFields), and unknown fields are not copied.
 */
class StrictReader extends protobuf.Reader {
  skipped = false;
  override skipType(wireType: number, depth?: number, fieldNumber?: number): protobuf.Reader {
    this.skipped = true;
    return super.skipType(wireType, depth, fieldNumber);
  }
}
class StrictBufferReader extends protobuf.BufferReader {
  skipped = false;
  override skipType(wireType: number, depth?: number, fieldNumber?: number): protobuf.Reader {
    this.skipped = true;
    return super.skipType(wireType, depth, fieldNumber);
  }
}

/**
 * Decodes `bytes` as one message of `type` under the strict rules of protocol/README.md
 * ("Decoding"): the bytes must parse completely and carry no field this version does not know
 * (a field with a known number but the wrong wire type counts as unknown).
 * Returns undefined when they do not; never throws.
 */
export function decodeStrict<T extends object>(type: Decodable<T>, bytes: Uint8Array): T | undefined {
  try {
    // Node's Buffers get protobufjs's Buffer reader (strings by Buffer methods), as Reader.create
    // gives them; there is no Buffer in a browser.
    const reader = NodeBuffer?.isBuffer(bytes) ? new StrictBufferReader(bytes as Buffer) : new StrictReader(bytes);
    reader.discardUnknown = true;
    const msg = type.decode(reader);
    if (reader.pos !== bytes.length || reader.skipped) return undefined;
    return msg;
  } catch {
    return undefined;
  }
}
