// A libp2p peer for bad-input tests: it speaks the mesh's protocols (gossipsub, streams) but
// none of its rules. Every one made is stopped by stopRawPeers.
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { gossipsub, StrictNoSign, type GossipSub } from '@libp2p/gossipsub';
import { identify } from '@libp2p/identify';
import type { Libp2p } from '@libp2p/interface';
import { tcp } from '@libp2p/tcp';
import { createLibp2p } from 'libp2p';

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
