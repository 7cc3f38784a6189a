import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys';
import { gossipsub, StrictNoSign, type GossipSub, type Message } from '@libp2p/gossipsub';
import { identify } from '@libp2p/identify';
import type { ConnectionGater, Libp2p, PeerId } from '@libp2p/interface';
import { ping } from '@libp2p/ping';
import { tcp } from '@libp2p/tcp';
import { LIMITS } from '@mutual/interface';
import { sha256 } from '@mutual/crypto';
import { createLibp2p } from 'libp2p';
import { sodiumNoiseCrypto } from './noise-crypto.ts';

export type MeshHost = Libp2p<{ pubsub: GossipSub; identify: ReturnType<ReturnType<typeof identify>>; ping: ReturnType<ReturnType<typeof ping>> }>;

/**
 * Peer scoring of the heads topic, and alike of the evidence topic. A message the validator
 * rejects (malformed, oversized, badly signed, an invalid fork proof) costs its sender 100 points per message, squared by gossipsub, so one bad
 * message takes a peer below the graylist threshold and its messages are then dropped unread.
 * Mesh delivery rates are not scored: heads are few and irregular, so silence is not a fault.
 */
function scoreParams(scored: readonly string[]) {
  return {
    topics: Object.fromEntries(scored.map((topic) => [topic, topicScore()])),
    // Banks are few and each proves its key in the hello; several on one address (a shared
    // host, or a test on 127.0.0.1) is not a sign of a Sybil attack here.
    IPColocationFactorWeight: 0,
  };
}

function topicScore() {
  return {
    topicWeight: 1,
    timeInMeshWeight: 0.01,
    timeInMeshQuantum: 1000,
    timeInMeshCap: 100,
    firstMessageDeliveriesWeight: 1,
    firstMessageDeliveriesDecay: 0.5,
    firstMessageDeliveriesCap: 10,
    meshMessageDeliveriesWeight: 0,
    meshMessageDeliveriesDecay: 0.5,
    meshMessageDeliveriesCap: 1,
    meshMessageDeliveriesThreshold: 1,
    meshMessageDeliveriesWindow: 10,
    meshMessageDeliveriesActivation: 1000,
    meshFailurePenaltyWeight: 0,
    meshFailurePenaltyDecay: 0.5,
    invalidMessageDeliveriesWeight: -100,
    invalidMessageDeliveriesDecay: 0.9,
  };
}

export const SCORE_THRESHOLDS = { gossipThreshold: -10, publishThreshold: -50, graylistThreshold: -80, acceptPXThreshold: 10, opportunisticGraftThreshold: 5 };

export interface HostOptions {
  /** The bank's 32-byte Ed25519 seed: the peer's key is the bank key. */
  readonly seed: Uint8Array;
  readonly listen: readonly string[];
  readonly headsTopic: string;
  /** Scored like the heads topic: a rejected fork proof costs its sender as much as a rejected head. */
  readonly evidenceTopic?: string;
  /** Scored like the heads topic: so does a rejected agreement (malformed, oversized, a forged signature). */
  readonly agreementsTopic?: string;
  readonly gater: ConnectionGater;
}

/** The libp2p host of a bank: TCP, noise, yamux, identify, ping and gossipsub. */
export async function createHost(opts: HostOptions): Promise<MeshHost> {
  const privateKey = await generateKeyPairFromSeed('Ed25519', opts.seed);
  return createLibp2p({
    privateKey,
    addresses: { listen: [...opts.listen] },
    transports: [tcp()],
    connectionEncrypters: [noise({ crypto: sodiumNoiseCrypto })],
    streamMuxers: [yamux()],
    connectionGater: opts.gater,
    connectionManager: { maxConnections: LIMITS.MAX_PEERS },
    connectionMonitor: { pingInterval: LIMITS.PEER_PING_INTERVAL_MS },
    services: {
      identify: identify(),
      // One ping stream of the connection monitor and one of the check of a peer connected
      // twice (packages/mesh/src/duplicates.ts) may be open at once.
      ping: ping({ maxOutboundStreams: 2, maxInboundStreams: 4 }),
      pubsub: gossipsub({
        // Heads are self-authenticating (signed by their bank): no gossip signature, and the
        // message ID is the hash of the bytes, so the same head from two relays is one message.
        globalSignaturePolicy: StrictNoSign,
        msgIdFn: (msg: Message) => sha256(msg.data),
        allowPublishToZeroTopicPeers: true,
        // A bioregion's banks are few and mostly all connected to each other: the publisher
        // floods a head to every peer (floodPublish), so one hop reaches them all, and each relay
        // would send it again to its whole mesh. A mesh of 4 (at least 3, at most 6) keeps two
        // disjoint paths to every bank when connections are sparse, at under half the duplicate
        // sends of the default 6 (4 to 12).
        D: 4,
        Dlo: 3,
        Dhi: 6,
        Dout: 1,
        Dscore: 2,
        Dlazy: 4,
        ignoreDuplicatePublishError: true,
        emitSelf: false,
        scoreParams: scoreParams([opts.headsTopic, opts.evidenceTopic, opts.agreementsTopic].filter((t) => t !== undefined)),
        scoreThresholds: SCORE_THRESHOLDS,
      }),
    },
  }) as Promise<MeshHost>;
}

export type { PeerId };
