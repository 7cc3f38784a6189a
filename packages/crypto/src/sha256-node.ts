import sodium from 'sodium-native';

// libsodium's one-shot SHA-256, writing into memory this module owns. The ledger hashes small
// inputs (an instruction body, an entry, two child hashes) several times per transfer, and
// what a call costs is mostly around the digest: `node:crypto`'s `hash` creates a new Buffer
// per call and costs about three times as much CPU here.
//
// Inputs are copied into one reused off-heap buffer rather than handed over as they are:
// `crypto_hash_sha256` is synchronous, so nothing else can use the buffer between the copy and
// the digest; several parts need no concatenation; and an input small enough to live on the
// V8 heap (64 bytes or less) would otherwise have to be moved off it before native code may
// read it.
let scratch = new Uint8Array(1024);

// Digests are carved out of slabs: a digest is a view of 32 bytes, and a slab is freed when no
// digest taken from it is still referenced.
const SLAB_BYTES = 8192;
let slab = new Uint8Array(SLAB_BYTES);
let slabAt = 0;

/** SHA-256 of the concatenation of `parts` (Node.js: libsodium, one-shot). */
export function sha256(...parts: Uint8Array[]): Uint8Array {
  let input: Uint8Array;
  if (parts.length === 1 && parts[0]!.length > scratch.length) {
    input = parts[0]!;
  } else {
    let total = 0;
    for (const p of parts) total += p.length;
    if (total > scratch.length) scratch = new Uint8Array(Math.max(total, 2 * scratch.length));
    let at = 0;
    for (const p of parts) {
      scratch.set(p, at);
      at += p.length;
    }
    input = scratch.subarray(0, total);
  }
  if (slabAt === SLAB_BYTES) {
    slab = new Uint8Array(SLAB_BYTES);
    slabAt = 0;
  }
  const out = slab.subarray(slabAt, slabAt + 32);
  slabAt += 32;
  sodium.crypto_hash_sha256(out, input);
  return out;
}
