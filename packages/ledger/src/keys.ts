// Buffer's own latin1 decoder accepts any Uint8Array as `this`: calling it directly skips
// wrapping every id in a Buffer first, which was most of the cost of a key.
const latin1Slice = (Buffer.prototype as unknown as { latin1Slice(this: Uint8Array, start: number, end: number): string }).latin1Slice;

/** Map keys for byte strings: latin1 keeps one char per byte and is cheap to build. */
export function bkey(bytes: Uint8Array): string {
  return latin1Slice.call(bytes, 0, bytes.byteLength);
}

export function appliedKey(account: Uint8Array, sequence: bigint): string {
  return `${bkey(account)}:${sequence}`;
}

export function laborDayKey(worker: Uint8Array, day: number): string {
  return `${bkey(worker)}:${day}`;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
