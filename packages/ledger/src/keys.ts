/** Map keys for byte strings: latin1 keeps one char per byte and is cheap to build. */
export function bkey(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
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
