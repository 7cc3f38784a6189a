import { signTreeHead } from '@mutual/ledger';
import { pb, toU64 } from '@mutual/protocol';
import { verify } from '@mutual/verifier';
import { multiaddr } from '@multiformats/multiaddr';
import { afterEach, describe, expect, it } from 'vitest';
import { newHolder, signBytes } from '../../ledger/test/fixture.ts';
import { checkPush, encodePush, PROTOCOLS, type CheckedPush, type IndexedEntry } from '../src/index.ts';
import { rawPeer, stopRawPeers } from './raw-peer.ts';
import { startBank, stopAll, waitFor, type TestBank } from './fixture.ts';

afterEach(async () => {
  await stopRawPeers();
  await stopAll();
});

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** A push of `indexes` of `bank`'s log, proven against its latest head. */
async function pushOf(bank: TestBank, indexes: number[]): Promise<{ bytes: Uint8Array; entries: IndexedEntry[] }> {
  const head = bank.store.head;
  const entries = await Promise.all(indexes.map(async (index) => ({ index, bytes: (await bank.store.getEntry(index))! })));
  const proofs = await Promise.all(indexes.map((i) => bank.store.inclusionProof(i, head.size)));
  return { bytes: encodePush(head, entries, proofs), entries };
}

/** A Push message with the given parts, as a sender may write it. */
function rawPush(head: Uint8Array, entries: Array<{ index: number; entry: Uint8Array; proof: Uint8Array[] }>): Uint8Array {
  return pb.Push.encode({ head, entries: entries.map((e) => ({ index: toU64(BigInt(e.index)), entry: e.entry, proof: e.proof })) }).finish();
}

describe('pushes', () => {
  it('checkPush accepts entries proven in the sender\'s signed head and refuses everything else', async () => {
    const a = await startBank();
    const b = await startBank();
    await a.commit(6);
    const key = a.store.bank.key;
    const { bytes, entries } = await pushOf(a, [2, 4, 5]);
    const ok = checkPush(bytes, key, verify);
    expect(typeof ok).toBe('object');
    const checked = ok as CheckedPush;
    expect(checked.head.size).toBe(a.store.size);
    expect(checked.entries.map((e) => [e.index, hex(e.bytes)])).toEqual(entries.map((e) => [e.index, hex(e.bytes)]));

    const head = a.store.head;
    const e2 = (await a.store.getEntry(2))!;
    const e3 = (await a.store.getEntry(3))!;
    const p2 = await a.store.inclusionProof(2, head.size);
    const p3 = await a.store.inclusionProof(3, head.size);
    const badSig = Uint8Array.from(head.bytes);
    badSig[badSig.length - 1]! ^= 1;
    const flipped = Uint8Array.from(e2);
    flipped[flipped.length - 1]! ^= 1;
    const stranger = newHolder();
    const strangerHead = signTreeHead(stranger.publicKey, head.size, head.root, 1n, (m) => signBytes(m, stranger.seed));
    const refused: Array<[string, Uint8Array, Uint8Array?]> = [
      ['garbage', new Uint8Array([0xff, 1, 2, 3])],
      ['empty', new Uint8Array(0)],
      ['no entries', rawPush(head.bytes, [])],
      ['too many entries', rawPush(head.bytes, Array.from({ length: 1025 }, () => ({ index: 2, entry: e2, proof: p2 })))],
      ['a head whose signature fails', rawPush(badSig, [{ index: 2, entry: e2, proof: p2 }])],
      ['a head of another bank', rawPush(strangerHead.bytes, [{ index: 2, entry: e2, proof: p2 }])],
      ['a sender that is not the head\'s bank', bytes, b.store.bank.key],
      ['an index at the head size', rawPush(head.bytes, [{ index: head.size, entry: e2, proof: p2 }])],
      ['indexes not increasing', rawPush(head.bytes, [{ index: 3, entry: e3, proof: p3 }, { index: 2, entry: e2, proof: p2 }])],
      ['a repeated index', rawPush(head.bytes, [{ index: 2, entry: e2, proof: p2 }, { index: 2, entry: e2, proof: p2 }])],
      ['an entry of another index', rawPush(head.bytes, [{ index: 3, entry: e2, proof: p3 }])],
      ['a changed entry', rawPush(head.bytes, [{ index: 2, entry: flipped, proof: p2 }])],
      ['the proof of another index', rawPush(head.bytes, [{ index: 2, entry: e2, proof: p3 }])],
      ['a proof cut short', rawPush(head.bytes, [{ index: 2, entry: e2, proof: p2.slice(0, -1) }])],
      ['a proof too long', rawPush(head.bytes, [{ index: 2, entry: e2, proof: Array.from({ length: 65 }, () => new Uint8Array(32)) }])],
      ['a truncated message', bytes.subarray(0, bytes.length - 4)],
    ];
    for (const [what, msg, sender] of refused) {
      expect(typeof checkPush(msg, sender ?? key, verify), what).toBe('string');
    }
  }, 30_000);

  it('a push reaches the bank it is sent to, which records the head; an unconnected bank is not pushed to', async () => {
    const got: CheckedPush[] = [];
    const a = await startBank();
    const b = await startBank({ bootstrap: a.mesh.addresses(), onPush: (p) => got.push(p) });
    await waitFor('the hello', () => a.mesh.peers().some((p) => p.name !== undefined) && b.mesh.peers().some((p) => p.name !== undefined));
    await a.commit(4);
    const { bytes, entries } = await pushOf(a, [1, 3]);
    expect(await a.mesh.push(b.store.bank.key, bytes)).toBe(true);
    await waitFor('the push', () => got.length === 1);
    expect(hex(got[0]!.head.bank)).toBe(hex(a.store.bank.key));
    expect(got[0]!.entries.map((e) => [e.index, hex(e.bytes)])).toEqual(entries.map((e) => [e.index, hex(e.bytes)]));
    expect(b.replicas.status(a.store.bank.key)?.head?.size).toBe(a.store.size);
    expect(a.mesh.pushCounts()).toMatchObject({ sent: 1 });
    expect(b.mesh.pushCounts()).toMatchObject({ received: 1, refused: 0 });

    const c = await startBank();
    expect(await a.mesh.push(c.store.bank.key, bytes)).toBe(false);
    expect(a.mesh.pushCounts()).toMatchObject({ sent: 1, unsent: 1 });
  }, 30_000);

  it('pushes from a bank this node does not replicate are dropped without being checked or handed on', async () => {
    const got: CheckedPush[] = [];
    const a = await startBank();
    const b = await startBank({ bootstrap: a.mesh.addresses(), onPush: (p) => got.push(p), replicates: () => false });
    await waitFor('the hello', () => a.mesh.peers().some((p) => p.name !== undefined) && b.mesh.peers().some((p) => p.name !== undefined));
    await a.commit(2);
    const { bytes } = await pushOf(a, [a.store.size - 1]);
    expect(await a.mesh.push(b.store.bank.key, bytes)).toBe(true);
    // Garbage too: not checked, so not struck.
    expect(await a.mesh.push(b.store.bank.key, new Uint8Array([1, 2, 3]))).toBe(true);
    expect(a.mesh.pushCounts()).toMatchObject({ sent: 2 });
    // Both written to b's stream: give b the time to read them (it does at once).
    await new Promise((r) => setTimeout(r, 500));
    expect(got).toEqual([]);
    expect(b.mesh.pushCounts()).toMatchObject({ received: 0, refused: 0 });
    expect(b.mesh.strikes(a.mesh.peerId)).toBe(0);
    expect(b.replicas.status(a.store.bank.key)).toBeUndefined();
  }, 30_000);

  it('a replica behind a head that only a push brought catches up without a gossiped head', async () => {
    const a = await startBank({ gossip: false });
    const b = await startBank({ bootstrap: a.mesh.addresses(), onPush: () => {} });
    await waitFor('the hello', () => a.mesh.peers().some((p) => p.name !== undefined) && b.mesh.peers().some((p) => p.name !== undefined));
    await waitFor('the replica from the hello', () => b.replicas.status(a.store.bank.key)?.size === a.store.size);
    await a.commit(5);
    const { bytes } = await pushOf(a, [a.store.size - 1]);
    expect(await a.mesh.push(b.store.bank.key, bytes)).toBe(true);
    await waitFor('the pushed head', () => b.replicas.status(a.store.bank.key)?.head?.size === a.store.size);
    // No head of A is gossiped: the push alone leads B to fetch the entries.
    await waitFor('the replica', () => b.replicas.status(a.store.bank.key)?.size === a.store.size, 10_000);
  }, 30_000);

  it('invalid pushes from a bank are struck and not handed on; pushes from a peer without a hello are dropped', async () => {
    const got: CheckedPush[] = [];
    const a = await startBank();
    const b = await startBank({ bootstrap: a.mesh.addresses(), onPush: (p) => got.push(p) });
    await waitFor('the hello', () => a.mesh.peers().some((p) => p.name !== undefined) && b.mesh.peers().some((p) => p.name !== undefined));
    await a.commit(3);
    const { bytes } = await pushOf(a, [1]);
    const forged = Uint8Array.from(bytes);
    forged[forged.length - 40]! ^= 1;
    // Validly framed but invalid: garbage, and a push whose proof or entry was changed.
    await a.mesh.push(b.store.bank.key, new Uint8Array([1, 2, 3]));
    await a.mesh.push(b.store.bank.key, forged);
    await waitFor('two strikes', () => b.mesh.strikes(a.mesh.peerId) === 2);
    expect(got).toEqual([]);
    expect(b.mesh.pushCounts()).toMatchObject({ received: 0, refused: 2 });

    // A peer that never said hello: whatever it pushes is read and dropped.
    const raw = await rawPeer();
    const s = await raw.dialProtocol(multiaddr(b.mesh.addresses()[0]!), PROTOCOLS.push);
    s.send(Uint8Array.from([bytes.length & 0x7f | 0x80, bytes.length >> 7, ...bytes]));
    await s.close().catch(() => {});
    // Oversized: announces more than MAX_SYNC_MESSAGE_BYTES.
    const s2 = await raw.dialProtocol(multiaddr(b.mesh.addresses()[0]!), PROTOCOLS.push).catch(() => undefined);
    s2?.send(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f]));
    await s2?.close().catch(() => {});
    await waitFor('the oversized push struck', () => b.mesh.strikes(raw.peerId.toString()) === 1);
    expect(got).toEqual([]);

    // The bank's valid push still goes through.
    expect(await a.mesh.push(b.store.bank.key, bytes)).toBe(true);
    await waitFor('the valid push', () => got.length === 1);
  }, 30_000);
});
