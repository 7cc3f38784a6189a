import { hash } from 'node:crypto';

/** SHA-256 of the concatenation of `parts` (Node.js: native OpenSSL, one-shot). */
export function sha256(...parts: Uint8Array[]): Uint8Array {
  const input = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  const d = hash('sha256', input, 'buffer');
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}
