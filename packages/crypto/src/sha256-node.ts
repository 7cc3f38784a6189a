import { createHash } from 'node:crypto';

/** SHA-256 of the concatenation of `parts` (Node.js: native OpenSSL). */
export function sha256(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  const d = h.digest();
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}
