import { bytesEqual, isName, openTreeHead, type SignedHead, type VerifyFn } from '@mutual/ledger';
import { decodeStrict, pb } from '@mutual/protocol';

/** What a peer said of itself in its hello, checked. */
export interface PeerHello {
  readonly bank: Uint8Array;
  readonly name: string;
  readonly bioregion: string;
  /** Its latest signed head, signature verified under `bank`. */
  readonly head: SignedHead;
}

export function encodeHello(hello: { bank: Uint8Array; name: string; bioregion: string; head: SignedHead }): Uint8Array {
  return pb.Hello.encode({ bank: hello.bank, name: hello.name, bioregion: hello.bioregion, head: hello.head.bytes }).finish();
}


/**
 * Checks a peer's hello: strict decoding, a bank that is the connection's remote key (so
 * the peer proved in the noise handshake that it holds the bank's key), bounded names, and a
 * head of that bank whose signature verifies. Returns the reason when it is refused.
 */
export function checkHello(bytes: Uint8Array, remoteKey: Uint8Array, verify: VerifyFn): PeerHello | string {
  const h = decodeStrict(pb.Hello, bytes);
  if (!h) return 'not a well-formed Hello';
  if (h.bank?.length !== 32 || !bytesEqual(h.bank, remoteKey)) return 'the bank is not the peer key of the connection';
  if (!isName(h.name ?? '') || !isName(h.bioregion ?? '')) return 'a name is not valid text of at most MAX_NAME_BYTES';
  const head = h.head ? openTreeHead(h.head, verify, h.bank) : undefined;
  if (!head) return 'the head does not verify under the bank key';
  return { bank: h.bank, name: h.name ?? '', bioregion: h.bioregion ?? '', head };
}
