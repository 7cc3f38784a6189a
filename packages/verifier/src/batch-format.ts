import { PUBLIC_KEY_BYTES, SIGNATURE_BYTES, isWellFormed } from './verify.ts';

/**
 * The layout a run of items travels in between threads: one ArrayBuffer, per item
 * `public key (32) || signature (64) || message length (u32, little-endian) || message`.
 * One transferable buffer instead of three small Uint8Arrays per item keeps the cost of
 * crossing a thread boundary at one memcpy rather than thousands of structured clones.
 */

/** One signature check: the bytes a verifier needs, nothing else. */
export interface VerifyItem {
  /** R || S, 64 bytes. */
  readonly signature: Uint8Array;
  /** The signed bytes, any length. */
  readonly message: Uint8Array;
  /** The encoding of A, 32 bytes. */
  readonly publicKey: Uint8Array;
}

const LENGTH_BYTES = 4;
const HEADER_BYTES = PUBLIC_KEY_BYTES + SIGNATURE_BYTES + LENGTH_BYTES;
const MAX_MESSAGE_BYTES = 0xffff_ffff;

/** A packed run of items and the positions (relative to the run) of any malformed ones. */
export interface PackedRun {
  readonly buffer: ArrayBuffer;
  readonly count: number;
  /** Items whose shape `verify` rejects; packed as zeros and forced to 0 in the result. */
  readonly malformed: readonly number[];
}

/** Packs `items[start..end)` into one fresh ArrayBuffer (a snapshot: later edits to the items do not leak in). */
export function pack(items: ReadonlyArray<VerifyItem>, start: number, end: number): PackedRun {
  const malformed: number[] = [];
  let size = 0;
  for (let i = start; i < end; i++) {
    const item = items[i];
    if (item == null || !isWellFormed(item.signature, item.message, item.publicKey)) {
      malformed.push(i - start);
      size += HEADER_BYTES;
      continue;
    }
    if (item.message.byteLength > MAX_MESSAGE_BYTES) {
      throw new RangeError(`message of item ${i} is longer than ${MAX_MESSAGE_BYTES} bytes`);
    }
    size += HEADER_BYTES + item.message.byteLength;
  }
  const buffer = new ArrayBuffer(size);
  const bytes = new Uint8Array(buffer);
  const view = new DataView(buffer);
  let at = 0;
  let m = 0;
  for (let i = start; i < end; i++) {
    if (malformed[m] === i - start) {
      m++;
      // Zero key, zero signature, empty message: the slot exists so offsets stay simple.
      at += HEADER_BYTES;
      continue;
    }
    const item = items[i] as VerifyItem;
    bytes.set(item.publicKey, at);
    bytes.set(item.signature, at + PUBLIC_KEY_BYTES);
    view.setUint32(at + PUBLIC_KEY_BYTES + SIGNATURE_BYTES, item.message.byteLength, true);
    at += HEADER_BYTES;
    bytes.set(item.message, at);
    at += item.message.byteLength;
  }
  return { buffer, count: end - start, malformed };
}

/**
 * Calls `check` on each packed item in order and returns 1/0 per item. The views handed to
 * `check` alias the buffer; they are valid only during the call.
 */
export function checkPacked(
  buffer: ArrayBuffer,
  count: number,
  check: (signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array) => boolean,
): Uint8Array {
  const results = new Uint8Array(count);
  const view = new DataView(buffer);
  let at = 0;
  for (let i = 0; i < count; i++) {
    if (at + HEADER_BYTES > buffer.byteLength) throw new RangeError('packed batch is truncated');
    const publicKey = new Uint8Array(buffer, at, PUBLIC_KEY_BYTES);
    const signature = new Uint8Array(buffer, at + PUBLIC_KEY_BYTES, SIGNATURE_BYTES);
    const length = view.getUint32(at + PUBLIC_KEY_BYTES + SIGNATURE_BYTES, true);
    at += HEADER_BYTES;
    if (at + length > buffer.byteLength) throw new RangeError('packed batch is truncated');
    const message = new Uint8Array(buffer, at, length);
    at += length;
    results[i] = check(signature, message, publicKey) ? 1 : 0;
  }
  return results;
}
