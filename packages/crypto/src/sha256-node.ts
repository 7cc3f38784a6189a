import { hash } from 'node:crypto';

// Several parts are copied into one reused buffer rather than concatenated into a fresh one:
// `hash` is synchronous, so nothing else can use the buffer between the copy and the digest,
// and Merkle hashing (two or three parts per call) then allocates only its result.
let scratch = Buffer.allocUnsafeSlow(1024);

/** SHA-256 of the concatenation of `parts` (Node.js: native OpenSSL, one-shot). */
export function sha256(...parts: Uint8Array[]): Uint8Array {
  let input: Uint8Array;
  if (parts.length === 1) {
    input = parts[0]!;
  } else {
    let total = 0;
    for (const p of parts) total += p.length;
    if (total > scratch.length) scratch = Buffer.allocUnsafeSlow(Math.max(total, 2 * scratch.length));
    let at = 0;
    for (const p of parts) {
      scratch.set(p, at);
      at += p.length;
    }
    input = scratch.subarray(0, total);
  }
  const d = hash('sha256', input, 'buffer');
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}
