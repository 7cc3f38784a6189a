import { DOMAIN, decodeStrict, pb, signedMessage, toU64, u64 } from '@mutual/protocol';
import type { VerifyFn } from './apply.ts';
import { keepNewest } from './recent.ts';

/** A tree head as signed by its bank, with the exact bytes that were signed. */
export interface SignedHead {
  readonly bank: Uint8Array;
  readonly size: number;
  readonly root: Uint8Array;
  readonly timeMs: bigint;
  /** TreeHead bytes, as signed */
  readonly head: Uint8Array;
  readonly signature: Uint8Array;
  /** SignedTreeHead bytes: what is stored and sent */
  readonly bytes: Uint8Array;
}

/** Encodes and signs a tree head. `sign` signs with the bank's key. */
export function signTreeHead(
  bank: Uint8Array,
  size: number,
  root: Uint8Array,
  timeMs: bigint,
  sign: (message: Uint8Array) => Uint8Array,
): SignedHead {
  const head = pb.TreeHead.encode({ bank, size: toU64(BigInt(size)), root, timeMs: toU64(timeMs) }).finish();
  const signature = sign(signedMessage(DOMAIN.treeHead, head));
  const bytes = pb.SignedTreeHead.encode({ head, signature }).finish();
  return { bank, size, root, timeMs, head, signature, bytes };
}

/**
 * Decodes a SignedTreeHead and checks its signature under the key it names (and, when given,
 * that it is `expectedBank`). Returns undefined when anything is wrong. Never throws.
 */
export function openTreeHead(bytes: Uint8Array, verify: VerifyFn, expectedBank?: Uint8Array): SignedHead | undefined {
  if (bytes.length > MAX_CACHED_HEAD_BYTES) return open(bytes, verify, expectedBank);
  // The same head reaches a node many times (a push, the gossip, a sync answer, the records
  // it reads back): its signature is checked once per verifier, for the exact bytes.
  let cache = VERIFIED.get(verify);
  if (!cache) VERIFIED.set(verify, (cache = new Map()));
  const key = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
  const hit = cache.get(key);
  if (hit) {
    if (expectedBank && !Buffer.from(expectedBank).equals(Buffer.from(hit.bank))) return undefined;
    return hit;
  }
  // Decoded from a copy: the cached head must not share memory its caller may reuse.
  const opened = open(Buffer.from(bytes), verify, expectedBank);
  if (!opened) return undefined;
  // When full, the oldest eighth goes at once.
  if (cache.size >= VERIFIED_HEADS) keepNewest(cache, VERIFIED_HEADS - VERIFIED_HEADS / 8);
  cache.set(key, opened);
  return opened;
}

/** Heads remembered as verified, per verifier (the oldest forgotten first). */
const VERIFIED_HEADS = 4096;
/** A SignedTreeHead is about 150 bytes; anything larger is not one to remember. */
const MAX_CACHED_HEAD_BYTES = 512;
const VERIFIED = new WeakMap<VerifyFn, Map<string, SignedHead>>();

function open(bytes: Uint8Array, verify: VerifyFn, expectedBank?: Uint8Array): SignedHead | undefined {
  const s = decodeStrict(pb.SignedTreeHead, bytes);
  if (!s?.head || s.signature?.length !== 64) return undefined;
  const h = decodeStrict(pb.TreeHead, s.head);
  if (h?.bank?.length !== 32 || h.root?.length !== 32) return undefined;
  const size = u64(h.size);
  if (size > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
  if (expectedBank && !Buffer.from(expectedBank).equals(Buffer.from(h.bank))) return undefined;
  if (!verify(s.signature, signedMessage(DOMAIN.treeHead, s.head), h.bank)) return undefined;
  const opened: SignedHead = { bank: h.bank, size: Number(size), root: h.root, timeMs: u64(h.timeMs), head: s.head, signature: s.signature, bytes };
  OPENED.add(opened);
  return opened;
}

/** Heads made by openTreeHead (signature verified), as returned: frozen by their readonly type. */
const OPENED = new WeakSet<SignedHead>();

/**
 * Whether `head` is an object returned by {@link openTreeHead}, i.e. its signature has been
 * verified already (with the verifier given there): a holder of such a head need not verify it
 * again. A head built any other way answers false.
 */
export function wasOpened(head: SignedHead): boolean {
  return OPENED.has(head);
}
