// Libp2p peers for bad-input tests: they speak the mesh's protocols (gossipsub, streams) but
// none of its rules, or (helloPeer) say a valid hello and then serve sync as a test says.
// Every one made is stopped by stopRawPeers.
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { gossipsub, StrictNoSign, type GossipSub } from '@libp2p/gossipsub';
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys';
import { identify } from '@libp2p/identify';
import type { Connection, Libp2p, Stream } from '@libp2p/interface';
import { tcp } from '@libp2p/tcp';
import { multiaddr } from '@multiformats/multiaddr';
import { LIMITS } from '@mutual/interface';
import { signTreeHead, type SignedHead } from '@mutual/ledger';
import { pb, type mutual } from '@mutual/protocol';
import { createLibp2p } from 'libp2p';
import { newHolder, signBytes } from '../../ledger/test/fixture.ts';
import { readFrame, readFrames, writeFrame } from '../src/frames.ts';
import { encodeHello } from '../src/hello.ts';
import { PROTOCOLS } from '../src/topics.ts';

const raws: Libp2p[] = [];

export async function rawPeer(): Promise<Libp2p<{ pubsub: GossipSub }>> {
  const node = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify(), pubsub: gossipsub({ globalSignaturePolicy: StrictNoSign, allowPublishToZeroTopicPeers: true }) },
  });
  raws.push(node);
  return node;
}

export async function stopRawPeers(): Promise<void> {
  await Promise.allSettled(raws.splice(0).map((r) => r.stop()));
}

/**
 * A peer that holds a bank key of its own and says a valid hello, but serves sync requests as
 * `answer` says: undefined leaves a request unanswered (a peer that takes requests and stays
 * silent). Every sync request it gets is kept, decoded, in `requests`.
 */
export interface HelloPeer {
  readonly node: Libp2p;
  /** Its bank key (its peer key). */
  readonly key: Uint8Array;
  readonly seed: Uint8Array;
  readonly requests: mutual.v1.SyncRequest[];
  /**
   * Dials `addr`. libp2p takes at most five connections a second from one host (its
   * `inboundConnectionThreshold`), and tests make more from 127.0.0.1: a refused dial is tried
   * again, up to 20 times, 250 ms apart.
   */
  dial(addr: string): Promise<Connection>;
  /** Dials `addr` and says hello on the connection (the reply is read); returns the connection. */
  connect(addr: string): Promise<Connection>;
  /** Says `hello` (default: its own, valid) on a new hello stream of `conn`; the reply, or undefined when there was none. */
  hello(conn: Connection, hello?: Uint8Array): Promise<Uint8Array | undefined>;
  /** Sends one sync request on a new stream of `conn`; the answer, or undefined when none came within `ms`. */
  request(conn: Connection, request: Uint8Array, ms: number): Promise<Uint8Array | undefined>;
  /** A head of its bank of `size` entries, over any root. */
  head(size: number, root?: Uint8Array): SignedHead;
}

export async function helloPeer(o: { bioregion?: string; answer?: (request: mutual.v1.SyncRequest) => Uint8Array | undefined } = {}): Promise<HelloPeer> {
  const holder = newHolder();
  const node = await createLibp2p({
    privateKey: await generateKeyPairFromSeed('Ed25519', holder.seed),
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
  });
  raws.push(node);
  const requests: mutual.v1.SyncRequest[] = [];
  await node.handle(PROTOCOLS.sync, async (stream: Stream) => {
    try {
      for await (const bytes of readFrames(stream, LIMITS.MAX_SYNC_MESSAGE_BYTES)) {
        const request = pb.SyncRequest.decode(bytes);
        requests.push(request);
        const answer = o.answer?.(request);
        if (answer) await writeFrame(stream, answer, AbortSignal.timeout(5000));
      }
    } catch {
      // The node hung up: nothing more to answer.
    }
  });
  const head = (size: number, root = new Uint8Array(32).fill(size % 256)) => signTreeHead(holder.publicKey, size, root, 1n, (m) => signBytes(m, holder.seed));
  const own = encodeHello({ bank: holder.publicKey, name: `Peer ${raws.length}`, bioregion: o.bioregion ?? 'Cascadia', head: head(1) });
  const peer: HelloPeer = {
    node,
    key: holder.publicKey,
    seed: holder.seed,
    requests,
    async dial(addr) {
      for (let i = 0; ; i++) {
        try {
          return await node.dial(multiaddr(addr));
        } catch (err) {
          if (i >= 20) throw err;
          await new Promise((r) => setTimeout(r, 250));
        }
      }
    },
    async connect(addr) {
      const conn = await peer.dial(addr);
      await peer.hello(conn);
      return conn;
    },
    async hello(conn, hello = own) {
      const stream = await conn.newStream(PROTOCOLS.hello);
      try {
        await writeFrame(stream, hello, AbortSignal.timeout(5000));
        await stream.close();
        return await readFrame(stream, LIMITS.MAX_SYNC_MESSAGE_BYTES, AbortSignal.timeout(5000));
      } catch {
        return undefined;
      }
    },
    async request(conn, request, ms) {
      try {
        const stream = await conn.newStream(PROTOCOLS.sync);
        await writeFrame(stream, request, AbortSignal.timeout(ms));
        await stream.close();
        return await readFrame(stream, LIMITS.MAX_SYNC_MESSAGE_BYTES, AbortSignal.timeout(ms));
      } catch {
        return undefined;
      }
    },
    head,
  };
  return peer;
}
