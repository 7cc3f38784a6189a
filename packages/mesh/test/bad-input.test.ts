import { TopicValidatorResult } from '@libp2p/gossipsub';
import { signTreeHead } from '@mutual/ledger';
import { pb, toU64 } from '@mutual/protocol';
import { verify } from '@mutual/verifier';
import { multiaddr } from '@multiformats/multiaddr';
import { afterEach, describe, expect, it } from 'vitest';
import { newHolder, signBytes } from '../../ledger/test/fixture.ts';
import { catchUp } from '../src/catch-up.ts';
import { PROTOCOLS, topics } from '../src/index.ts';
import { helloPeer, rawPeer, stopRawPeers } from './raw-peer.ts';
import { replicated, startBank, stopAll, waitFor, type TestBank } from './fixture.ts';

afterEach(async () => {
  await stopRawPeers();
  await stopAll();
});

async function snapshot(bank: TestBank): Promise<string> {
  return JSON.stringify((await bank.mesh.banks()).map((b) => [Buffer.from(b.bank).toString('hex'), b.replicated, b.head?.size]));
}

const unsigned = (data: Uint8Array) => ({ type: 'unsigned' as const, topic: 't', data });

describe('bad input from peers', () => {
  it('the heads validator rejects garbage, truncated, oversized and badly signed heads, ignores unknown banks', async () => {
    const a = await startBank();
    const b = await startBank({ bootstrap: a.mesh.addresses() });
    await a.commit(1);
    await waitFor('b replicates a', () => replicated(b, a));
    const before = await snapshot(b);
    const good = a.store.head.bytes;
    const badSig = Uint8Array.from(good);
    badSig[badSig.length - 1]! ^= 1;
    const oversized = new Uint8Array(4097);
    oversized.set(good);
    for (const data of [new Uint8Array([0xff, 0x01, 0x02]), good.subarray(0, good.length - 3), oversized, badSig, new Uint8Array(0)]) {
      expect(b.mesh.validateHead(unsigned(data))).toBe(TopicValidatorResult.Reject);
    }
    const stranger = newHolder();
    const strangerHead = signTreeHead(stranger.publicKey, 5, new Uint8Array(32), 1n, (m) => signBytes(m, stranger.seed));
    expect(b.mesh.validateHead(unsigned(strangerHead.bytes))).toBe(TopicValidatorResult.Ignore);
    expect(b.mesh.validateHead(unsigned(good))).toBe(TopicValidatorResult.Accept);
    expect(await snapshot(b)).toBe(before);
  }, 30_000);

  it('a raw gossipsub peer publishing garbage loses its score and changes nothing', async () => {
    const a = await startBank();
    const raw = await rawPeer();
    const topic = topics('Cascadia').heads;
    raw.services.pubsub.subscribe(topic);
    await raw.dial(multiaddr(a.mesh.addresses()[0]!));
    await waitFor('a subscribed, as the raw peer sees it', () => raw.services.pubsub.getSubscribers(topic).length > 0);
    const before = await snapshot(a);
    await raw.services.pubsub.publish(topic, new Uint8Array([1, 2, 3, 4]));
    await raw.services.pubsub.publish(topic, new Uint8Array(5000).fill(7));
    await waitFor('the raw peer loses standing', () => a.mesh.score(raw.peerId.toString()) < 0);
    expect(await snapshot(a)).toBe(before);
  }, 30_000);

  it('a raw peer publishing garbage and forged agreements loses its score; nothing reaches the federation', async () => {
    const seen: Uint8Array[] = [];
    const a = await startBank({ onAgreement: (signed) => seen.push(signed) });
    const raw = await rawPeer();
    const topic = topics('Cascadia').agreements;
    raw.services.pubsub.subscribe(topic);
    await raw.dial(multiaddr(a.mesh.addresses()[0]!));
    await waitFor('a subscribed, as the raw peer sees it', () => raw.services.pubsub.getSubscribers(topic).length > 0);
    const before = await snapshot(a);
    const forged = pb.SignedAgreement.encode({
      agreement: pb.Agreement.encode({ bioregion: 'Cascadia', members: [{ bank: a.store.bank.key, name: 'a' }, { bank: new Uint8Array(32).fill(1), name: 'b' }], clearingLimit: toU64(1n) }).finish(),
      signatures: [{ bank: a.store.bank.key, signature: new Uint8Array(64).fill(9) }],
    }).finish();
    for (const data of [new Uint8Array([1, 2, 3]), new Uint8Array(5000).fill(7), forged, forged.subarray(0, forged.length - 5)]) {
      await raw.services.pubsub.publish(topic, data);
    }
    await waitFor('the raw peer loses standing', () => a.mesh.score(raw.peerId.toString()) < 0);
    expect(seen).toEqual([]);
    expect(await snapshot(a)).toBe(before);
  }, 30_000);

  it('garbage, oversized and truncated sync requests are dropped; the node keeps serving', async () => {
    const a = await startBank();
    await a.commit(2);
    // A peer with a verified hello: the node reads no sync request before one.
    const raw = await helloPeer();
    const conn = await raw.connect(a.mesh.addresses()[0]!);
    await waitFor('the hello of the raw peer', () => a.mesh.peers().some((p) => p.peerId === raw.node.peerId.toString() && p.bank !== undefined));
    // After MAX_STRIKES the node hangs up on the raw peer: later sends may fail to open.
    const send = async (bytes: Uint8Array) => {
      const s = await conn.newStream(PROTOCOLS.sync).catch(() => undefined);
      if (!s) return [];
      s.send(bytes);
      await s.close().catch(() => {});
      const chunks: number[] = [];
      try {
        for await (const c of s) chunks.push(...(c instanceof Uint8Array ? c : c.subarray()));
      } catch {
        // Reset by the node: what a bad request gets.
      }
      return chunks;
    };
    const before = await snapshot(a);
    await send(new Uint8Array([0x05, 1, 2, 3, 4, 5])); // framed garbage
    await send(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f])); // announces 4 GiB
    await send(new Uint8Array([0x10, 1, 2])); // truncated
    const badRange = pb.SyncRequest.encode({ getEntries: { bank: a.store.bank.key, from: toU64(0n), count: 5000, treeSize: toU64(3n) } }).finish();
    await send(Uint8Array.from([badRange.length, ...badRange]));
    await waitFor('strikes counted', () => a.mesh.strikes(raw.node.peerId.toString()) >= 3);
    await waitFor('the node hangs up on the raw peer', () => a.mesh.peers().every((p) => p.peerId !== raw.node.peerId.toString()));
    expect(await snapshot(a)).toBe(before);

    // A well-formed request from a bank in good standing is still answered.
    const b = await startBank({ bootstrap: a.mesh.addresses() });
    await waitFor('b replicates a', () => replicated(b, a));
  }, 30_000);

  it('a chunk whose consistency proof fails is refused, the peer struck, nothing stored', async () => {
    const a = await startBank();
    await a.commit(5);
    const b = await startBank();
    const head = a.store.head;
    await b.replicas.recordHead(head);
    const entries = await a.store.getEntries(0, 3);
    const proof = (await a.store.consistencyProof(3, head.size)).map(() => new Uint8Array(32).fill(9));
    const struck: string[] = [];
    const peer = { id: { toString: () => 'liar' } as never };
    await catchUp(head.bank, [peer], b.replicas, {
      verify,
      signal: new AbortController().signal,
      strike: (_p, why) => struck.push(why),
      request: async (_p, req) => {
        const r = pb.SyncRequest.decode(req);
        if (r.getHead) return pb.SyncResponse.decode(pb.SyncResponse.encode({ head: head.bytes }).finish());
        return pb.SyncResponse.decode(pb.SyncResponse.encode({ entries: { entries: entries.slice(0, r.getEntries!.count!), proof } }).finish());
      },
    });
    expect(struck.length).toBe(1);
    expect(b.replicas.status(head.bank)?.size).toBe(0);
  }, 30_000);
});
