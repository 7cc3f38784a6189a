import { TopicValidatorResult, type Message } from '@libp2p/gossipsub';
import type { Connection, PeerId, Stream } from '@libp2p/interface';
import { LIMITS } from '@mutual/interface';
import { bytesEqual, openTreeHead, type SignedHead, type VerifyFn } from '@mutual/ledger';
import { decodeStrict, pb } from '@mutual/protocol';
import { checkForkProof, type ForkEvidence, type LedgerStore, type ReplicaStore } from '@mutual/store';
import { isAgreementOf, validateAgreement } from './agreements.ts';
import { BoundedMap } from './bounded-map.ts';
import { catchUp, type SyncPeer } from './catch-up.ts';
import { REDIAL_TIMING, Redialer, type HelloOutcome, type RedialTiming } from './redial.ts';
import { FrameError, readFrame, readFrames, StreamGone, writeFrame } from './frames.ts';
import { checkHello, encodeHello, type PeerHello } from './hello.ts';
import { HelloDeadlines } from './hello-deadline.ts';
import { createHost, type MeshHost } from './host.ts';
import { checkPush, type CheckedPush } from './push.ts';
import { corkWrites } from './cork.ts';
import { watchDuplicateConnections, type DuplicateConnections } from './duplicates.ts';
import { SyncChannel } from './sync-channel.ts';
import { logSource, type LogSource } from './source.ts';
import { answerSync } from './sync-server.ts';
import { PROTOCOLS, topics } from './topics.ts';

/** The subset of a pino logger the mesh writes to. */
export interface MeshLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

export interface MeshOptions {
  readonly ledger: LedgerStore;
  readonly replicas: ReplicaStore;
  /** The node's one Ed25519 verifier. */
  readonly verify: VerifyFn;
  /** The bank's 32-byte Ed25519 seed; the libp2p peer key is the bank key. */
  readonly seed: Uint8Array;
  /** Multiaddrs to listen on, e.g. /ip4/0.0.0.0/tcp/4001. */
  readonly listen: readonly string[];
  /** Multiaddrs of peers to keep a connection to (redialed with backoff). */
  readonly bootstrap: readonly string[];
  readonly logger?: MeshLogger;
  /** Milliseconds an inbound connection may stay open without a completed hello; default LIMITS.HELLO_TIMEOUT_MS. */
  readonly helloTimeoutMs?: number;
  /** Milliseconds between two follow-ups of one peer's hellos (HELLO_FOLLOW_UP_MS by default). */
  readonly helloFollowUpMs?: number;
  /** The bootstrap redialer's waits, where they differ from REDIAL_TIMING. */
  readonly redialTiming?: Partial<RedialTiming>;
  /**
   * Called with each SignedAgreement accepted from the agreements topic, or from a peer's pool
   * when it is met (already validated: of this bioregion, every signature a member's).
   */
  readonly onAgreement?: (signed: Uint8Array) => void;
  /** The agreements this node serves to peers that ask (its pool); default none. */
  readonly agreements?: () => Promise<Uint8Array[]>;
  /**
   * Called with each push that verified (entries of the sending bank's log proven included in
   * its signed head, which is recorded first); pushes are refused while this is unset.
   */
  readonly onPush?: (push: CheckedPush) => void;
  /**
   * Whether this node keeps a replica of `bank`'s log (the banks it federates with); default
   * every bank met. The heads of any bank met are still checked and relayed, but only these
   * banks' heads go to the replica store, only their entries are fetched and only fork proofs
   * against them are taken in (#matters); of another bank the mesh keeps the newest head, to
   * show it, and drops its pushes unread. When the answer for a bank turns true, call
   * `scheduleCatchUp` for it.
   */
  readonly replicates?: (bank: Uint8Array) => boolean;
  /** Banks met that the node remembers; default LIMITS.MAX_KNOWN_BANKS (see #boundMet). */
  readonly maxKnownBanks?: number;
  /** Peers the node keeps strikes, refusals and hello follow-ups of; default MAX_REMEMBERED_PEERS. */
  readonly maxRememberedPeers?: number;
}

/** A connected peer, as `GET /v1/peers` shows it. */
export interface PeerInfo {
  readonly peerId: string;
  /** From its verified hello; absent until the hello is done. */
  readonly bank?: Uint8Array;
  readonly name?: string;
  readonly bioregion?: string;
  readonly addresses: string[];
  readonly latencyMs?: number;
  /**
   * Which of this bioregion's gossip topics the peer is subscribed to, as this node's
   * gossipsub sees it: a peer not listed for a topic does not receive what this node publishes.
   */
  readonly gossip: Array<'heads' | 'agreements' | 'evidence'>;
}

/** A bank this node knows, as `GET /v1/banks` shows it. */
export interface BankInfo {
  readonly bank: Uint8Array;
  readonly name: string;
  readonly bioregion: string;
  readonly self: boolean;
  readonly head: SignedHead | undefined;
  /** Entries of its log this node holds, verified. */
  readonly replicated: number;
  /** Entries of its latest known head not yet replicated. */
  readonly behind: number;
  /** Whether this node keeps a replica of its log (see MeshOptions.replicates); true for this bank. */
  readonly replicating: boolean;
  /** The ForkProof bytes this node holds against the bank (it signed two inconsistent heads). */
  readonly forkProof?: Uint8Array;
}

/**
 * A peer that sent something invalid, or left a sync request unanswered for SYNC_TIMEOUT_MS,
 * this many times is disconnected and not used for sync.
 */
const MAX_STRIKES = 3;
/** Strikes are forgotten this long after the last one: a peer struck out may come back later. */
const STRIKE_MEMORY_MS = 10 * 60_000;
/**
 * Peers whose strikes, refusal (another bioregion) and last hello follow-up the node keeps,
 * each; past it, the peer set longest ago is forgotten (a fresh key per connection costs an
 * attacker nothing, so nothing kept per peer may grow with them).
 */
const MAX_REMEMBERED_PEERS = 1024;
/**
 * What a verified hello starts besides taking the peer's head (asking the peer for its
 * agreement pool, its fork proofs and its heads of the banks this node replicates) is done at
 * most once per peer per this many milliseconds: a peer that connects again and again does not
 * make this node fetch and verify the same again each time.
 */
const HELLO_FOLLOW_UP_MS = 60_000;
/** Requests for heads a node just met is asked at once (see #askHeads). */
const HEADS_ASKED_AT_ONCE = 8;
/** First and longest wait before a replica still behind its newest known head is tried again. */
const CATCH_UP_RETRY_MIN_MS = 250;
const CATCH_UP_RETRY_MAX_MS = 30_000;
/**
 * Wait before fetching entries of a head that only a push brought (the catch-up reached the
 * head it went for): a gossiped head of the bank may start that catch-up sooner, with more
 * entries in one round. Shorter than HEAD_GOSSIP_INTERVAL_MS: a bank that pushes to this one
 * is followed every two seconds or so, one that does not at its gossip's pace. Replication is
 * off the path of interbank transfers (pushes carry them), so under load a replica follows its
 * bank in rounds of a couple of seconds' entries instead of once per push.
 */
const CATCH_UP_PUSHED_HEAD_MS = 2000;
/**
 * A replica follows its bank's new heads with at most one catch-up per this many
 * milliseconds: at once when the last one is older, otherwise when the interval ends, to the
 * newest head known then. Replication is off the path of interbank transfers (pushes carry
 * them); under load a catch-up round costs the same whether it fetches one commit or many
 * (a request, a proof, a batch write, the clearing's pass), so fewer, larger rounds leave the
 * CPU to the transfers. A bank's new peer, or one back from downtime, is caught up at once.
 */
const REPLICA_FOLLOW_INTERVAL_MS = 2000;
/**
 * Milliseconds a sync stream this node opened stays open with no request waiting (it carries
 * the requests of every catch-up from that peer); the serving side closes one idle for three
 * times as long.
 */
const SYNC_STREAM_IDLE_MS = 10_000;
/**
 * Gossip is best effort (a head published before the peers' subscriptions were exchanged
 * reaches nobody, and a bank that then stops committing publishes no other): every
 * HEAD_REFRESH_MS the node asks each connected bank it has not had a head from in that time
 * for its latest head (`GetHead` to the bank itself), and catches up if it is ahead. An idle
 * federation costs one small request per pair of banks per interval; under load heads arrive
 * all the time and nothing is asked.
 */
export const HEAD_REFRESH_MS = 5_000;
const SILENT: MeshLogger = { info() {}, warn() {}, debug() {} };

/** A hello that verified and names another bioregion. */
class OtherBioregion extends Error {
  readonly bioregion: string;
  constructor(bioregion: string) {
    super('another bioregion');
    this.bioregion = bioregion;
  }
}
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/**
 * The bank's place in its bioregion's mesh: a libp2p host whose peer key is the bank key;
 * a hello on every connection (other bioregions are hung up on and not dialed again);
 * gossip of signed tree heads, validated before relay; a sync protocol serving this bank's
 * log and every replica it holds; and catch-up of replicas from any peer that has them.
 *
 * "Known" banks, whose gossiped heads are accepted, are those met in a verified hello or
 * already replicated; of those, the node fetches the entries of the banks it replicates
 * (MeshOptions.replicates: a bank node, the banks it federates with).
 */
export class Mesh {
  readonly #opts: MeshOptions;
  readonly #log: MeshLogger;
  readonly #host: MeshHost;
  readonly #topic: string;
  readonly #agreementsTopic: string;
  readonly #evidenceTopic: string;
  /** Fork proofs received on the evidence topic or from a peer's answer (not published again). */
  readonly #relayed = new Set<string>();
  /**
   * Verified fork proofs from peers' answers against banks whose proofs this node does not take
   * in (yet, see #matters), by bank (hex), at most MAX_PENDING_FORK_PROOFS, the oldest let go
   * first: recorded when the bank comes to matter (met, or replicated from then on), so that a
   * node that joins later still holds a forked bank forked however its hellos are ordered.
   */
  readonly #pendingForks = new BoundedMap<Uint8Array>(LIMITS.MAX_PENDING_FORK_PROOFS);
  #unsubscribeForks: (() => void) | undefined;
  readonly #source: LogSource;
  readonly #abort = new AbortController();
  /** Verified hellos, by peer ID. */
  readonly #hellos = new Map<string, PeerHello>();
  /** Name and bioregion of banks met, by bank (hex). */
  readonly #banks = new Map<string, { name: string; bioregion: string }>();
  readonly #strikes: BoundedMap<{ n: number; at: number }>;
  /**
   * The bioregion of each peer of another bioregion met, by peer ID: hung up on, never dialed
   * again (at most MAX_REMEMBERED_PEERS).
   */
  readonly #refused: BoundedMap<string>;
  /** When what a hello starts was last done for each peer (see HELLO_FOLLOW_UP_MS). */
  readonly #followedUp: BoundedMap<number>;
  /** Follow-ups of peers that said hello again within HELLO_FOLLOW_UP_MS, waiting for it to pass (#followUp). */
  readonly #followUpTimers = new Map<string, NodeJS.Timeout>();
  readonly #rememberedPeers: number;
  /** How the hello this node said on each connection it dialed ended (the bootstrap redial waits for it). */
  readonly #helloOutcomes = new WeakMap<Connection, Promise<HelloOutcome>>();
  /** Connections that carried a hello, or had one sent on them: one hello per connection. */
  readonly #helloConnections = new WeakSet<Connection>();
  /** Connections whose peer was asked for its head when its heads subscription came (see #onHeadsSubscription). */
  readonly #subscribedOn = new WeakSet<Connection>();
  /** Sync streams waiting for their peer's hello to verify, by peer ID (see #helloOf). */
  readonly #helloWaiters = new Map<string, Set<() => void>>();
  /** Banks the operator cut off (hex keys): no connection either way until unblocked. */
  readonly #blocked = new Set<string>();
  /** The peer ID of every bank met, to dial it again when it is unblocked. */
  readonly #peerIds = new Map<string, PeerId>();
  readonly #syncing = new Map<string, Promise<void>>();
  readonly #again = new Set<string>();
  /** Banks whose next catch-up asks the peers for heads (see scheduleCatchUp). */
  readonly #discover = new Set<string>();
  /** Replicas behind their newest known head: when to try again (see #retryIfBehind). */
  readonly #retries = new Map<string, { size: number; delay: number; timer: NodeJS.Timeout | undefined }>();
  /** When the last catch-up following each bank's heads (hex key) started, and the one waiting (see #follow). */
  readonly #followed = new Map<string, number>();
  readonly #followTimers = new Map<string, NodeJS.Timeout>();
  /** Banks whose last catch-up reached the head it went for (see #retryIfBehind). */
  readonly #reached = new Set<string>();
  /** Heads accepted by the validator, by message payload: the message handler need not verify them again. */
  readonly #validated = new WeakMap<Uint8Array, SignedHead>();
  /** The bank of each fork proof the evidence topic's validator accepted, by the message's bytes. */
  readonly #validatedEvidence = new WeakMap<Uint8Array, Uint8Array>();
  /** The sync channel to each peer (peer ID), opened on first use. */
  readonly #channels = new Map<string, SyncChannel>();
  /** The push stream to each bank (hex key), open or opening. */
  readonly #pushStreams = new Map<string, { conn: Connection; stream: Promise<Stream> }>();
  readonly #pushCounts = { sent: 0, unsent: 0, received: 0, refused: 0 };
  readonly #redialer: Redialer;
  readonly #helloDeadlines: HelloDeadlines;
  readonly #duplicates: DuplicateConnections;
  /**
   * The newest head of each bank met that this node does not replicate (hex key): one head
   * each, not recorded in the replica store (whose heads ahead of a replica wait for chunks
   * that will not come).
   */
  readonly #unreplicatedHeads = new Map<string, SignedHead>();
  /** When a head of each bank (hex key) was last recorded from its own peer: gossip, hello, push or refresh. */
  readonly #heardAt = new Map<string, number>();
  #refreshTimer: NodeJS.Timeout | undefined;
  #stopped = false;
  readonly #replicates: (bank: Uint8Array) => boolean;

  private constructor(opts: MeshOptions, host: MeshHost, topic: string) {
    this.#opts = opts;
    const remembered = opts.maxRememberedPeers ?? MAX_REMEMBERED_PEERS;
    this.#strikes = new BoundedMap(remembered);
    this.#refused = new BoundedMap(remembered);
    this.#followedUp = new BoundedMap(remembered);
    this.#rememberedPeers = remembered;
    this.#replicates = opts.replicates ?? (() => true);
    this.#log = opts.logger ?? SILENT;
    this.#host = host;
    this.#topic = topic;
    this.#agreementsTopic = topics(opts.ledger.bank.bioregion).agreements;
    this.#evidenceTopic = topics(opts.ledger.bank.bioregion).evidence;
    this.#source = logSource(opts.ledger, opts.replicas);
    this.#helloDeadlines = new HelloDeadlines(opts.helloTimeoutMs ?? LIMITS.HELLO_TIMEOUT_MS, (conn) => {
      this.#log.info({ peer: conn.remotePeer.toString() }, 'no hello in time: closing the connection');
      void conn.close().catch(() => {});
    });
    this.#duplicates = watchDuplicateConnections(host, LIMITS.DUPLICATE_CONNECTION_CHECK_MS, this.#log);
    this.#redialer = new Redialer(
      host,
      opts.bootstrap,
      { hello: (conn) => this.#helloOutcomes.get(conn), refused: (peer) => this.#refused.get(peer) },
      this.#abort.signal,
      this.#log,
      { ...REDIAL_TIMING, ...opts.redialTiming },
    );
  }

  /** Starts the host, listens, subscribes to the bioregion's topics and dials the bootstrap peers. */
  static async start(opts: MeshOptions): Promise<Mesh> {
    const { heads: topic, evidence } = topics(opts.ledger.bank.bioregion);
    let mesh: Mesh | undefined;
    const refused = (p: PeerId) => (mesh === undefined ? false : mesh.#refused.has(p.toString()) || mesh.#isBlocked(p));
    const blocked = (p: PeerId) => (mesh === undefined ? false : mesh.#isBlocked(p));
    const host = await createHost({
      seed: opts.seed,
      listen: opts.listen,
      headsTopic: topic,
      evidenceTopic: evidence,
      agreementsTopic: topics(opts.ledger.bank.bioregion).agreements,
      // A peer of another bioregion that dials again (it restarted, and forgot) is let in to say
      // its hello: the answer tells it this node's bioregion, so that it stops dialing and its
      // operator sees why. Hung up on at once, as the first time.
      gater: { denyDialPeer: refused, denyInboundEncryptedConnection: blocked },
    });
    mesh = new Mesh(opts, host, topic);
    try {
      await mesh.#wire();
    } catch (err) {
      await Promise.resolve(host.stop()).catch(() => {});
      throw err;
    }
    return mesh;
  }

  async #wire(): Promise<void> {
    const host = this.#host;
    const limits = { maxInboundStreams: 32, maxOutboundStreams: 32 };
    await host.handle(PROTOCOLS.hello, (stream, conn) => this.#answerHello(stream, conn), limits);
    await host.handle(PROTOCOLS.sync, (stream, conn) => this.#answerSync(stream, conn), limits);
    await host.handle(PROTOCOLS.push, (stream, conn) => this.#receivePushes(stream, conn), limits);
    host.addEventListener('connection:open', (e) => {
      corkWrites(e.detail);
      if (e.detail.direction === 'outbound') this.#helloOutcomes.set(e.detail, this.#sayHello(e.detail));
      else this.#helloDeadlines.watch(e.detail);
    });
    host.addEventListener('connection:close', (e) => {
      this.#helloDeadlines.clear(e.detail);
      this.#wakeHelloWaiters(e.detail.remotePeer.toString());
    });
    host.addEventListener('peer:disconnect', (e) => {
      const id = e.detail.toString();
      if (host.getConnections(e.detail).length === 0) {
        this.#hellos.delete(id);
        this.#channels.get(id)?.close();
        this.#channels.delete(id);
      }
      this.#redialer.disconnected(id);
    });
    const pubsub = host.services.pubsub;
    pubsub.topicValidators.set(this.#topic, (_peer, msg) => this.validateHead(msg));
    pubsub.topicValidators.set(this.#agreementsTopic, (_peer, msg) => validateAgreement(msg, this.#opts.ledger.bank.bioregion, this.#opts.verify));
    pubsub.topicValidators.set(this.#evidenceTopic, (_peer, msg) => this.validateEvidence(msg));
    this.#unsubscribeForks = this.#opts.replicas.onFork((e) => this.#onFork(e));
    pubsub.addEventListener('subscription-change', (e) => {
      if (e.detail.subscriptions.some((s) => s.subscribe && s.topic === this.#topic)) this.#onHeadsSubscription(e.detail.peerId);
    });
    pubsub.addEventListener('message', (e) => {
      if (e.detail.topic === this.#evidenceTopic) {
        const bank = this.#validatedEvidence.get(e.detail.data) ?? checkForkProof(e.detail.data, this.#opts.verify)?.bank;
        if (this.#stopped || !bank) return;
        // Relayed; kept for good only against a bank that matters, else held until it does.
        if (this.#matters(bank)) void this.#onEvidence(e.detail.data);
        else this.#pendingForks.set(hex(bank), Uint8Array.from(e.detail.data));
        return;
      }
      if (e.detail.topic === this.#agreementsTopic) {
        if (!this.#stopped) this.#opts.onAgreement?.(e.detail.data);
        return;
      }
      if (e.detail.topic !== this.#topic) return;
      const head = this.#validated.get(e.detail.data) ?? openTreeHead(e.detail.data, this.#opts.verify);
      if (head) void this.#onHead(head);
    });
    pubsub.subscribe(this.#topic);
    pubsub.subscribe(this.#agreementsTopic);
    pubsub.subscribe(this.#evidenceTopic);
    await host.start();
    this.#refreshTimer = setInterval(() => this.#refreshHeads(), HEAD_REFRESH_MS);
    this.#refreshTimer.unref();
    this.#redialer.start();
    this.#log.info({ listen: this.addresses(), peerId: host.peerId.toString() }, 'mesh started');
  }

  /** This node's listen addresses, each ending in /p2p/<peer ID>. */
  addresses(): string[] {
    return this.#host.getMultiaddrs().map((a) => a.toString());
  }

  get peerId(): string {
    return this.#host.peerId.toString();
  }

  /**
   * The gossip validator of the heads topic: Reject (the sender loses score and the message
   * is not relayed) for anything but one well-formed, correctly signed head within
   * MAX_GOSSIP_BYTES; Ignore (not relayed, no penalty: an honest relay may know banks we do
   * not yet) for a head of a bank this node does not know, of this bank, or of a bank it holds
   * forked (whose replica is frozen as it was when the fork was proven).
   */
  validateHead(msg: Message): TopicValidatorResult {
    if (msg.type !== 'unsigned' || msg.data.length > LIMITS.MAX_GOSSIP_BYTES) return TopicValidatorResult.Reject;
    const head = openTreeHead(msg.data, this.#opts.verify);
    if (!head) return TopicValidatorResult.Reject;
    if (bytesEqual(head.bank, this.#opts.ledger.bank.key)) return TopicValidatorResult.Ignore;
    if (!this.#known(head.bank) || this.#opts.replicas.isForked(head.bank)) return TopicValidatorResult.Ignore;
    this.#validated.set(msg.data, head);
    return TopicValidatorResult.Accept;
  }

  /**
   * The gossip validator of the evidence topic: Reject (the sender loses score, no relay)
   * anything but one valid ForkProof within MAX_FORK_PROOF_BYTES (`checkForkProof`); Ignore
   * (no relay, no penalty) a proof against this bank itself, a bank this node has neither met
   * nor replicated, or a bank it already holds forked (the proof has then been relayed once
   * already). A proof against a bank met is relayed even if this node does not keep it
   * (#matters): the bank's counterparties may be reached only through this node.
   */
  validateEvidence(msg: Message): TopicValidatorResult {
    if (msg.type !== 'unsigned' || msg.data.length > LIMITS.MAX_FORK_PROOF_BYTES) return TopicValidatorResult.Reject;
    const evidence = checkForkProof(msg.data, this.#opts.verify);
    if (!evidence) return TopicValidatorResult.Reject;
    if (bytesEqual(evidence.bank, this.#opts.ledger.bank.key)) return TopicValidatorResult.Ignore;
    if (!(this.#matters(evidence.bank) || this.#known(evidence.bank)) || this.#opts.replicas.isForked(evidence.bank)) return TopicValidatorResult.Ignore;
    this.#validatedEvidence.set(msg.data, evidence.bank);
    return TopicValidatorResult.Accept;
  }

  /**
   * Whether this node takes in, keeps and relays fork proofs against `bank`: a bank it
   * replicates (MeshOptions.replicates: for a bank node, a bank it signed an agreement with),
   * or, when that option is not set (every bank met is replicated), a bank it has met or
   * replicated. A proof is stored for good (synced), and any key that says hello is a bank
   * met, so a node that sets `replicates` stores no proof against a key of no concern to it.
   */
  #matters(bank: Uint8Array): boolean {
    return this.#opts.replicates ? this.#opts.replicates(bank) : this.#known(bank);
  }

  /** Records the fork proof waiting against `bank`, if there is one and the bank now matters (#matters). */
  async #takePendingFork(bank: Uint8Array): Promise<void> {
    const key = hex(bank);
    const pending = this.#pendingForks.get(key);
    if (!pending || !this.#matters(bank)) return;
    this.#pendingForks.delete(key);
    await this.#onEvidence(pending);
  }

  /** A validated fork proof from the evidence topic or a peer's answer: record it (not published again). */
  async #onEvidence(bytes: Uint8Array): Promise<void> {
    const key = hex(bytes);
    this.#relayed.add(key);
    try {
      await this.#opts.replicas.recordFork(bytes);
    } catch (err) {
      this.#log.warn({ err }, 'recording a fork proof failed');
    } finally {
      this.#relayed.delete(key);
    }
  }

  /** A new fork proof was recorded (from gossip, or detected here): warn, and gossip it if it is this node's. */
  #onFork(e: ForkEvidence): void {
    const fromGossip = this.#relayed.has(hex(e.bytes));
    this.#log.warn(
      { bank: hex(e.bank), sizes: [e.first.size, e.second.size], roots: [hex(e.first.root), hex(e.second.root)], source: fromGossip ? 'gossip' : 'detected here' },
      'a bank signed two inconsistent tree heads: it is marked forked',
    );
    if (!fromGossip) void this.publishEvidence(e.bytes);
  }

  /** Gossips a ForkProof on the evidence topic. Never throws. */
  async publishEvidence(proof: Uint8Array): Promise<void> {
    if (this.#stopped) return;
    try {
      await this.#host.services.pubsub.publish(this.#evidenceTopic, proof);
    } catch (err) {
      this.#log.debug({ err }, 'publishing a fork proof failed');
    }
  }

  #known(bank: Uint8Array): boolean {
    return this.#banks.has(hex(bank)) || this.#opts.replicas.status(bank)?.head !== undefined;
  }

  /** Gossips this bank's new head (called after every commit). Never throws. */
  async publishHead(head: SignedHead): Promise<void> {
    if (this.#stopped) return;
    try {
      await this.#host.services.pubsub.publish(this.#topic, head.bytes);
    } catch (err) {
      this.#log.debug({ err }, 'publishing a head failed');
    }
  }

  /** Gossips a SignedAgreement (a proposal, or one with new signatures). Never throws. */
  async publishAgreement(signed: Uint8Array): Promise<void> {
    if (this.#stopped) return;
    try {
      await this.#host.services.pubsub.publish(this.#agreementsTopic, signed);
    } catch (err) {
      this.#log.debug({ err }, 'publishing an agreement failed');
    }
  }

  /** Name of a bank met in a hello or replicated; undefined for a bank this node does not know. */
  async bankName(bank: Uint8Array): Promise<string | undefined> {
    if (bytesEqual(bank, this.#opts.ledger.bank.key)) return this.#opts.ledger.bank.name;
    return this.#banks.get(hex(bank))?.name ?? (await this.#genesisOf(bank))?.name;
  }

  // ---- hello -------------------------------------------------------------------------

  #myHello(): Uint8Array {
    const l = this.#opts.ledger;
    return encodeHello({ bank: l.bank.key, name: l.bank.name, bioregion: l.bank.bioregion, head: l.head });
  }

  /** Says this node's hello on a connection it dialed and checks the reply. Never throws. */
  async #sayHello(conn: Connection): Promise<HelloOutcome> {
    this.#helloConnections.add(conn);
    const signal = this.#signal();
    let stream: Stream | undefined;
    try {
      stream = await conn.newStream(PROTOCOLS.hello, { signal });
      await writeFrame(stream, this.#myHello(), signal);
      await stream.close({ signal });
      const reply = await readFrame(stream, LIMITS.MAX_SYNC_MESSAGE_BYTES, signal);
      await this.#accept(conn, reply);
      return { kind: 'joined' };
    } catch (err) {
      stream?.abort(err as Error);
      this.#log.debug({ err, peer: conn.remotePeer.toString() }, 'hello failed');
      await conn.close().catch(() => {});
      return err instanceof OtherBioregion ? { kind: 'other-bioregion', bioregion: err.bioregion } : { kind: 'failed', err };
    }
  }

  /**
   * The dialer's hello on an inbound connection. A connection carries one hello, sent by its
   * dialer: any other hello stream on it is a strike and is reset unread (each hello makes
   * this node take the peer's head, and may make it fetch the peer's pool and proofs).
   */
  async #answerHello(stream: Stream, conn: Connection): Promise<void> {
    if (this.#helloConnections.has(conn)) {
      stream.abort(new Error('one hello per connection'));
      this.#strike(conn.remotePeer.toString(), 'a second hello on one connection');
      return;
    }
    this.#helloConnections.add(conn);
    const signal = this.#signal();
    try {
      const hello = await readFrame(stream, LIMITS.MAX_SYNC_MESSAGE_BYTES, signal);
      await writeFrame(stream, this.#myHello(), signal);
      await stream.close({ signal });
      await this.#accept(conn, hello);
    } catch (err) {
      stream.abort(err as Error);
      this.#log.debug({ err, peer: conn.remotePeer.toString() }, 'hello failed');
      await conn.close().catch(() => {});
    }
  }

  /** Checks a peer's hello; hangs up on a bad one or another bioregion. */
  async #accept(conn: Connection, bytes: Uint8Array): Promise<void> {
    const peer = conn.remotePeer.toString();
    const key = conn.remotePeer.publicKey?.raw;
    const hello = key ? checkHello(bytes, key, this.#opts.verify) : 'the peer key is not an Ed25519 key';
    if (typeof hello === 'string') {
      this.#strike(peer, hello);
      throw new Error(`refused hello: ${hello}`);
    }
    if (hello.bioregion !== this.#opts.ledger.bank.bioregion) {
      // Logged once per peer: one that dials again (it restarted) is told again, quietly.
      const again = this.#refused.has(peer);
      this.#refused.set(peer, hello.bioregion);
      if (again) this.#log.debug({ peer, bioregion: hello.bioregion }, 'a peer of another bioregion again: hanging up');
      else this.#log.info({ peer, bioregion: hello.bioregion }, 'a peer of another bioregion: hanging up, not dialing it again');
      throw new OtherBioregion(hello.bioregion);
    }
    if (bytesEqual(hello.bank, this.#opts.ledger.bank.key)) throw new Error('a connection to this bank itself');
    const bank = hex(hello.bank);
    this.#hellos.set(peer, hello);
    this.#wakeHelloWaiters(peer);
    this.#peerIds.set(bank, conn.remotePeer);
    this.#helloDeadlines.clear(conn);
    this.#banks.set(bank, { name: hello.name, bioregion: hello.bioregion });
    this.#boundMet();
    this.#log.info({ peer, name: hello.name, size: hello.head.size }, 'peer joined');
    await this.#takePendingFork(hello.bank);
    await this.#onHead(hello.head);
    // Its subscription to the heads topic may have come before its hello had verified.
    if (this.#host.services.pubsub.getSubscribers(this.#topic).some((p) => p.equals(conn.remotePeer))) this.#onHeadsSubscription(conn.remotePeer);
    this.#followUp(conn.remotePeer, hello.bank);
  }

  /**
   * Asks a peer whose hello verified for what it may hold that this node missed while away:
   * agreements and fork proofs gossiped meanwhile, and newer heads of the other banks this node
   * replicates. At most once per HELLO_FOLLOW_UP_MS per peer: a peer that says hello again
   * sooner (it reconnected) is followed up once that time has passed, if still connected, so
   * what was gossiped while it was away is not missed.
   */
  #followUp(peerId: PeerId, bank: Uint8Array): void {
    const peer = peerId.toString();
    if (this.#stopped || this.#followUpTimers.has(peer)) return;
    const last = this.#followedUp.get(peer);
    const wait = last === undefined ? 0 : last + (this.#opts.helloFollowUpMs ?? HELLO_FOLLOW_UP_MS) - performance.now();
    if (wait > 0) {
      // One timer per peer connected in the last minute; past the bound of remembered peers, none.
      if (this.#followUpTimers.size >= this.#rememberedPeers) return;
      const timer = setTimeout(() => {
        this.#followUpTimers.delete(peer);
        if (this.#hellos.has(peer) && this.#host.getConnections(peerId).length > 0) this.#followUp(peerId, bank);
      }, wait);
      timer.unref();
      this.#followUpTimers.set(peer, timer);
      return;
    }
    this.#followedUp.set(peer, performance.now());
    if (this.#opts.onAgreement) void this.#fetchAgreements(peerId);
    void this.#fetchEvidence(peerId);
    void this.#askHeads(peerId, bank);
  }

  /**
   * Asks a peer just met for its heads of the banks this node replicates (other than its own),
   * HEADS_ASKED_AT_ONCE at a time, and follows each that is ahead of the replica (#onHead).
   * Only this peer is asked, outside the catch-ups of those banks: a peer that does not answer
   * holds up nothing but this, which stops at its first request left unanswered.
   */
  async #askHeads(peer: PeerId, own: Uint8Array): Promise<void> {
    const banks = this.#opts.replicas.list().map((r) => r.bank).filter((b) => !bytesEqual(b, own) && this.#replicates(b));
    let failed = false;
    const ask = async (): Promise<void> => {
      for (let bank = banks.pop(); bank !== undefined && !failed && !this.#stopped; bank = banks.pop()) {
        if (this.#opts.replicas.isForked(bank)) continue;
        const res = await this.#request(peer, pb.SyncRequest.encode({ getHead: { bank } }).finish());
        if (!res) {
          failed = true;
          return;
        }
        if (!res.head) continue;
        const head = openTreeHead(res.head, this.#opts.verify, bank);
        if (!head) {
          this.#strike(peer.toString(), 'a head that does not verify');
          failed = true;
          return;
        }
        if (head.size > (this.#opts.replicas.status(bank)?.head?.size ?? 0)) await this.#onHead(head);
      }
    };
    await Promise.all(Array.from({ length: HEADS_ASKED_AT_ONCE }, ask)).catch((err: unknown) => this.#log.debug({ err, peer: peer.toString() }, 'asking a peer for heads failed'));
  }

  /**
   * The verified hello of the peer of `conn`: at once if it has one, otherwise when it comes,
   * waiting at most the hello deadline; undefined if none came by then or the connection closed
   * (a hello that does not verify, or of another bioregion, closes it). The dialer sends its
   * first sync request as soon as its side of the hello is done, which may be before this
   * side has checked the hello it received.
   */
  async #helloOf(conn: Connection): Promise<PeerHello | undefined> {
    const peer = conn.remotePeer.toString();
    const until = performance.now() + (this.#opts.helloTimeoutMs ?? LIMITS.HELLO_TIMEOUT_MS);
    // Each round waits for an event about this peer (a hello, a connection closed) or the
    // deadline: bounded by the deadline.
    for (;;) {
      const hello = this.#hellos.get(peer);
      if (hello || conn.status !== 'open' || this.#stopped) return hello;
      const left = until - performance.now();
      if (left <= 0) return undefined;
      await new Promise<void>((resolve) => {
        const waiters = this.#helloWaiters.get(peer) ?? new Set<() => void>();
        this.#helloWaiters.set(peer, waiters);
        const wake = () => {
          clearTimeout(timer);
          waiters.delete(wake);
          if (waiters.size === 0 && this.#helloWaiters.get(peer) === waiters) this.#helloWaiters.delete(peer);
          resolve();
        };
        const timer = setTimeout(wake, left);
        timer.unref();
        waiters.add(wake);
      });
    }
  }

  #wakeHelloWaiters(peer: string): void {
    for (const wake of [...(this.#helloWaiters.get(peer) ?? [])]) wake();
  }

  /**
   * Past MAX_KNOWN_BANKS banks met, forgets the oldest met that are neither connected,
   * replicated nor blocked (down to seven eighths of the bound), with their heads held here:
   * each new key that says hello is a bank met, and keys cost nothing. A bank forgotten is met
   * again by its next hello.
   */
  #boundMet(): void {
    const bound = this.#opts.maxKnownBanks ?? LIMITS.MAX_KNOWN_BANKS;
    if (this.#banks.size <= bound) return;
    const keep = bound - Math.floor(bound / 8);
    const connected = new Set([...this.#hellos.values()].map((h) => hex(h.bank)));
    for (const key of [...this.#banks.keys()]) {
      if (this.#banks.size <= keep) break;
      if (connected.has(key) || this.#blocked.has(key) || this.#replicates(Buffer.from(key, 'hex'))) continue;
      this.#banks.delete(key);
      this.#unreplicatedHeads.delete(key);
      this.#heardAt.delete(key);
      this.#peerIds.delete(key);
    }
  }

  // ---- sync --------------------------------------------------------------------------

  /**
   * A sync stream from a peer: requests one after another, each answered in turn, until the
   * peer closes it; closed after SYNC_STREAM_IDLE_MS * 3 without a request, and after a
   * malformed request (answered with an error, and struck). Nothing on it is read before the
   * peer's hello has verified (#helloOf), so only a bank of this bioregion is served; a stream
   * whose peer has no verified hello by the hello deadline is reset unread.
   */
  async #answerSync(stream: Stream, conn: Connection): Promise<void> {
    const peer = conn.remotePeer.toString();
    if (!(await this.#helloOf(conn))) {
      stream.abort(new StreamGone('no verified hello'));
      return;
    }
    let idle: NodeJS.Timeout | undefined;
    const waitForNext = () => {
      clearTimeout(idle);
      idle = setTimeout(() => void stream.close().catch(() => stream.abort(new StreamGone('idle'))), SYNC_STREAM_IDLE_MS * 3);
      idle.unref();
    };
    const onAbort = () => stream.abort(new StreamGone('the mesh is stopping'));
    this.#abort.signal.addEventListener('abort', onAbort, { once: true });
    try {
      waitForNext();
      for await (const request of readFrames(stream, LIMITS.MAX_SYNC_MESSAGE_BYTES)) {
        clearTimeout(idle);
        const [response, wellFormed] = await answerSync(request, this.#source, this.#pools);
        await writeFrame(stream, response, this.#signal);
        if (!wellFormed) {
          this.#strike(peer, 'malformed sync request');
          break;
        }
        waitForNext();
      }
      await stream.close({ signal: this.#signal() });
    } catch (err) {
      stream.abort(err as Error);
      // Only what the peer sent counts against it; a peer that went away (a restart, a cut
      // connection, its own timeout) is not struck for it.
      if (err instanceof FrameError) this.#strike(peer, `sync stream: ${err.message}`);
      else this.#log.debug({ err, peer }, 'a sync stream ended early');
    } finally {
      clearTimeout(idle);
      this.#abort.signal.removeEventListener('abort', onAbort);
    }
  }

  // ---- push --------------------------------------------------------------------------

  /**
   * Sends `push` (a Push of this bank's entries, see encodePush) to `bank` if it is connected,
   * on the push stream this node keeps open to it (opened on first use, opened again after it
   * ends), and waits until the stream takes it (callers pace their pushes by it; nothing comes
   * back). Returns whether it was written; when it was not (not connected, or the stream
   * failed) the entries reach the bank by replication. Never throws.
   */
  async push(bank: Uint8Array, push: Uint8Array): Promise<boolean> {
    const key = hex(bank);
    const peer = this.#peerIds.get(key);
    const conn = peer && this.#duplicates.preferred(peer);
    if (this.#stopped || !conn) {
      this.#pushCounts.unsent++;
      return false;
    }
    let stream: Stream | undefined;
    try {
      stream = await this.#pushStream(key, conn);
      await writeFrame(stream, push, this.#signal);
      this.#pushCounts.sent++;
      return true;
    } catch (err) {
      stream?.abort(err as Error);
      this.#pushCounts.unsent++;
      this.#log.debug({ err, peer: conn.remotePeer.toString() }, 'a push failed: replication will deliver its entries');
      return false;
    }
  }

  /**
   * The open push stream to bank `key` over `conn`, opened if there is none. A stream held on
   * another connection (a spare, soon closed) is closed once what was written on it is sent, and
   * the pushes go on over `conn`.
   */
  #pushStream(key: string, conn: Connection): Promise<Stream> {
    const held = this.#pushStreams.get(key);
    if (held?.conn === conn) return held.stream;
    if (held) {
      this.#pushStreams.delete(key);
      void held.stream.then((s) => s.close().catch((err: Error) => s.abort(err))).catch(() => {});
    }
    const opening = conn.newStream(PROTOCOLS.push, { signal: this.#signal() }).then((stream) => {
      stream.addEventListener('close', () => {
        if (this.#pushStreams.get(key)?.stream === opening) this.#pushStreams.delete(key);
      });
      return stream;
    });
    opening.catch(() => {
      if (this.#pushStreams.get(key)?.stream === opening) this.#pushStreams.delete(key);
    });
    this.#pushStreams.set(key, { conn, stream: opening });
    return opening;
  }

  /**
   * A push stream from a peer: a sequence of pushes, each accepted only from a peer whose hello
   * verified, of a bank not held forked, when this node takes pushes; checked (checkPush), its
   * head recorded (a head that contradicts one held is proof of a fork, and the push is then
   * dropped), then handed on, in the order sent. Anything that does not verify is a strike; a
   * message over MAX_SYNC_MESSAGE_BYTES ends the stream.
   */
  async #receivePushes(stream: Stream, conn: Connection): Promise<void> {
    const peer = conn.remotePeer.toString();
    const onAbort = () => stream.abort(new StreamGone('the mesh is stopping'));
    this.#abort.signal.addEventListener('abort', onAbort, { once: true });
    try {
      for await (const bytes of readFrames(stream, LIMITS.MAX_SYNC_MESSAGE_BYTES)) {
        const hello = this.#hellos.get(peer);
        const onPush = this.#opts.onPush;
        // A bank this node does not replicate is not one whose transfers it answers (see
        // MeshOptions.replicates): what it pushes is read and dropped, unchecked.
        if (!hello || !onPush || this.#stopped || this.#opts.replicas.isForked(hello.bank) || !this.#replicates(hello.bank)) continue;
        const push = checkPush(bytes, hello.bank, this.#opts.verify);
        if (typeof push === 'string') {
          this.#pushCounts.refused++;
          this.#strike(peer, `push: ${push}`);
          continue;
        }
        await this.#opts.replicas.recordHead(push.head);
        this.#heardAt.set(hex(hello.bank), performance.now());
        if (this.#opts.replicas.isForked(hello.bank) || this.#stopped) continue;
        this.#fetchLater(hello.bank);
        this.#pushCounts.received++;
        onPush(push);
      }
      await stream.close().catch(() => {});
    } catch (err) {
      stream.abort(err as Error);
      if (err instanceof FrameError) {
        this.#pushCounts.refused++;
        this.#strike(peer, `push stream: ${err.message}`);
      } else this.#log.debug({ err, peer }, 'a push stream ended early');
    } finally {
      this.#abort.signal.removeEventListener('abort', onAbort);
    }
  }

  /**
   * Pushes since the mesh started: sent (written to the bank's stream), unsent (left to
   * replication), received (verified and handed on) and refused (did not verify).
   */
  pushCounts(): { sent: number; unsent: number; received: number; refused: number } {
    return { ...this.#pushCounts };
  }

  /** One request and its response on the sync channel to `peer`; undefined on any failure. */
  async #request(peer: PeerId, request: Uint8Array): Promise<InstanceType<typeof pb.SyncResponse> | undefined> {
    const id = peer.toString();
    let channel = this.#channels.get(id);
    if (!channel) {
      // Streams on the open connection, without going through the dialer (and its peer store work).
      const open = (signal: AbortSignal) => {
        const conn = this.#duplicates.preferred(peer);
        return conn ? conn.newStream(PROTOCOLS.sync, { signal }) : this.#host.dialProtocol(peer, PROTOCOLS.sync, { signal });
      };
      channel = new SyncChannel(open, {
        maxBytes: LIMITS.MAX_SYNC_MESSAGE_BYTES,
        timeoutMs: LIMITS.SYNC_TIMEOUT_MS,
        idleMs: SYNC_STREAM_IDLE_MS,
        signal: this.#abort.signal,
        // A peer that takes requests and leaves them unanswered would otherwise cost every
        // catch-up that asks it SYNC_TIMEOUT_MS, again and again: it is struck, once per stream.
        onTimeout: () => this.#strike(id, `a sync request unanswered for ${LIMITS.SYNC_TIMEOUT_MS} ms`),
      });
      this.#channels.set(id, channel);
    }
    const answer = await channel.request(request);
    if (typeof answer === 'string') {
      if (answer === 'invalid') this.#strike(id, 'sync stream: an answer that could not be read');
      else this.#log.debug({ peer: id, why: answer }, 'sync request failed');
      return undefined;
    }
    const response = decodeStrict(pb.SyncResponse, answer);
    if (!response) this.#strike(id, 'malformed sync response');
    return response;
  }

  /** Asks `peer` for the agreements of its pool and hands the valid ones of this bioregion on. */
  async #fetchAgreements(peer: PeerId): Promise<void> {
    const r = await this.#request(peer, pb.SyncRequest.encode({ getAgreements: {} }).finish());
    const list = r?.agreements?.agreements;
    if (!list) return;
    if (list.length > LIMITS.MAX_POOLED_AGREEMENTS) {
      this.#strike(peer.toString(), `${list.length} agreements in one answer`);
      return;
    }
    const bioregion = this.#opts.ledger.bank.bioregion;
    for (const signed of list) {
      if (!isAgreementOf(signed, bioregion, this.#opts.verify)) {
        this.#strike(peer.toString(), 'an invalid agreement in its pool');
        return;
      }
      if (!this.#stopped) this.#opts.onAgreement?.(signed);
    }
  }

  /**
   * What this node serves besides logs: its agreement pool and the fork proofs it holds, those
   * against banks that matter to it (#matters) first (an answer carries at most
   * MAX_FORK_PROOFS_PER_ANSWER, and the store keeps every proof it recorded, also against banks
   * that do not matter to this node now).
   */
  readonly #pools = {
    agreements: () => this.#opts.agreements?.() ?? Promise.resolve([]),
    evidence: () => {
      const forks = this.#opts.replicas.forks();
      const first = forks.filter((f) => this.#matters(f.bank));
      return (first.length === forks.length ? forks : [...first, ...forks.filter((f) => !this.#matters(f.bank))]).map((f) => f.proof);
    },
  };

  /**
   * Asks `peer` for the fork proofs it holds and records the valid ones: at once for a bank
   * that matters to this node (#matters), when it comes to matter for one that does not (kept
   * in memory meanwhile, up to MAX_PENDING_FORK_PROOFS, the oldest let go first). An answer
   * over MAX_FORK_PROOFS_PER_ANSWER or with a proof that does not verify is a strike; a proof
   * against this bank itself is ignored.
   */
  async #fetchEvidence(peer: PeerId): Promise<void> {
    const r = await this.#request(peer, pb.SyncRequest.encode({ getEvidence: {} }).finish());
    const proofs = r?.evidence?.proofs;
    if (!proofs) return;
    if (proofs.length > LIMITS.MAX_FORK_PROOFS_PER_ANSWER) {
      this.#strike(peer.toString(), `${proofs.length} fork proofs in one answer`);
      return;
    }
    for (const bytes of proofs) {
      const evidence = checkForkProof(bytes, this.#opts.verify);
      if (!evidence) {
        this.#strike(peer.toString(), 'a fork proof that does not verify');
        return;
      }
      if (this.#stopped) return;
      const bank = hex(evidence.bank);
      if (bytesEqual(evidence.bank, this.#opts.ledger.bank.key) || this.#opts.replicas.isForked(evidence.bank)) continue;
      if (this.#matters(evidence.bank)) await this.#onEvidence(Uint8Array.from(bytes));
      else this.#pendingForks.set(bank, Uint8Array.from(bytes));
    }
  }

  /** A head of another bank arrived (gossip or hello): keep it and catch up if behind. */
  async #onHead(head: SignedHead): Promise<void> {
    if (this.#stopped || bytesEqual(head.bank, this.#opts.ledger.bank.key) || this.#opts.replicas.isForked(head.bank)) return;
    if (!this.#replicates(head.bank)) {
      // A bank forgotten (#boundMet) since its head was validated is not held again: what the
      // mesh holds of banks it does not replicate stays within MAX_KNOWN_BANKS.
      if (!this.#known(head.bank)) return;
      const key = hex(head.bank);
      const held = this.#unreplicatedHeads.get(key);
      if (!held || head.size > held.size) this.#unreplicatedHeads.set(key, head);
      this.#heardAt.set(key, performance.now());
      return;
    }
    try {
      await this.#opts.replicas.recordHead(head);
    } catch (err) {
      this.#log.warn({ err }, 'recording a head failed');
      return;
    }
    this.#heardAt.set(hex(head.bank), performance.now());
    // The head is known: fetch up to it, without asking every peer for its heads.
    this.#follow(head.bank);
  }

  /** Asks each connected bank not heard from in HEAD_REFRESH_MS for its latest head (see HEAD_REFRESH_MS). */
  #refreshHeads(): void {
    if (this.#stopped) return;
    const wall = Date.now();
    this.#strikes.forgetStale((s) => wall - s.at > STRIKE_MEMORY_MS);
    const now = performance.now();
    this.#followedUp.forgetStale((at) => now - at >= HELLO_FOLLOW_UP_MS);
    const asked = new Set<string>();
    for (const conn of this.#host.getConnections()) {
      const id = conn.remotePeer.toString();
      const hello = this.#hellos.get(id);
      if (!hello || asked.has(id) || this.strikes(id) >= MAX_STRIKES || this.#opts.replicas.isForked(hello.bank)) continue;
      const key = hex(hello.bank);
      if (now - (this.#heardAt.get(key) ?? Number.NEGATIVE_INFINITY) < HEAD_REFRESH_MS) continue;
      asked.add(id);
      // Counted as heard now, so that a bank that does not answer is asked once per interval.
      this.#heardAt.set(key, now);
      void this.#refreshHead(conn.remotePeer, hello.bank).catch((err: unknown) => this.#log.debug({ err, peer: id }, 'asking a bank for its head failed'));
    }
  }

  async #refreshHead(peer: PeerId, bank: Uint8Array): Promise<void> {
    const res = await this.#request(peer, pb.SyncRequest.encode({ getHead: { bank } }).finish());
    if (!res?.head || this.#stopped) return;
    const head = openTreeHead(res.head, this.#opts.verify, bank);
    if (!head) {
      this.#strike(peer.toString(), 'a head of its own bank that does not verify');
      return;
    }
    const held = this.#opts.replicas.status(bank)?.head ?? this.#unreplicatedHeads.get(hex(bank));
    if (!held || head.size > held.size) await this.#onHead(head);
  }

  /**
   * A peer's subscription to the heads topic came. What its bank gossiped between its hello
   * (whose head this node took) and this moment did not reach this node, which the peer did not
   * know to be subscribed either: the bank is asked for its latest head, once per connection.
   */
  #onHeadsSubscription(peer: PeerId): void {
    const hello = this.#hellos.get(peer.toString());
    const conns = this.#host.getConnections(peer);
    if (this.#stopped || !hello || conns.length === 0 || conns.some((c) => this.#subscribedOn.has(c))) return;
    for (const c of conns) this.#subscribedOn.add(c);
    if (this.#opts.replicas.isForked(hello.bank)) return;
    void this.#refreshHead(peer, hello.bank).catch((err: unknown) => this.#log.debug({ err, peer: peer.toString() }, 'asking a bank for its head failed'));
  }

  /** Catches the replica of `bank` up to its newest known head, at most once per REPLICA_FOLLOW_INTERVAL_MS. */
  #follow(bank: Uint8Array): void {
    const key = hex(bank);
    if (this.#stopped || this.#followTimers.has(key) || !this.#replicates(bank)) return;
    const wait = (this.#followed.get(key) ?? Number.NEGATIVE_INFINITY) + REPLICA_FOLLOW_INTERVAL_MS - performance.now();
    if (wait <= 0) {
      this.#followed.set(key, performance.now());
      this.scheduleCatchUp(bank, { discover: false });
      return;
    }
    const timer = setTimeout(() => {
      this.#followTimers.delete(key);
      this.#follow(bank);
    }, wait);
    timer.unref();
    this.#followTimers.set(key, timer);
  }

  /**
   * Starts a catch-up of `bank`'s replica unless one is running (then it runs again after).
   * `discover` (the default): ask the peers how far the bank has gone (after downtime, a new
   * peer); otherwise fetch up to the newest head already held (a head just gossiped).
   */
  scheduleCatchUp(bank: Uint8Array, o: { discover: boolean } = { discover: true }): void {
    const key = hex(bank);
    if (this.#stopped || this.#opts.replicas.isForked(bank) || !this.#replicates(bank)) return;
    // A bank replicated from now on may have a fork proof waiting against it: recorded first.
    if (this.#pendingForks.has(key) && this.#matters(bank)) {
      void this.#takePendingFork(bank).finally(() => this.scheduleCatchUp(bank, o));
      return;
    }
    // Replicated from now on: its heads go to the replica store (the catch-up asks for them).
    if (this.#unreplicatedHeads.delete(key)) this.#discover.add(key);
    if (o.discover) this.#discover.add(key);
    if (this.#syncing.has(key)) {
      this.#again.add(key);
      return;
    }
    const run = (async () => {
      do {
        this.#again.delete(key);
        const target = this.#discover.delete(key) ? undefined : this.#opts.replicas.status(bank)?.head;
        this.#reached.delete(key);
        await catchUp(
          bank,
          this.#syncPeers(bank),
          this.#opts.replicas,
          {
            request: (peer, req) => this.#request(peer.id, req),
            verify: this.#opts.verify,
            strike: (peer, why) => this.#strike(peer.id.toString(), why),
            signal: this.#abort.signal,
            late: (head) => void this.#onHead(head),
          },
          target,
        ).catch((err: unknown) => this.#log.warn({ err }, 'catch-up failed'));
        if (target && (this.#opts.replicas.status(bank)?.size ?? 0) >= target.size) this.#reached.add(key);
      } while (this.#again.has(key) && !this.#stopped);
    })().finally(() => {
      this.#syncing.delete(key);
      this.#retryIfBehind(bank);
    });
    this.#syncing.set(key, run);
  }

  /**
   * A replica still behind the newest head known of its bank (the peers could not serve it
   * yet: a relay had the head before the entries, or the holders were away) is tried again,
   * with backoff, until it catches up or the mesh stops; progress resets the backoff. A replica
   * that reached the head its catch-up went for, and is behind only a head pushed since, is
   * tried again after CATCH_UP_PUSHED_HEAD_MS unless a gossiped head starts a catch-up first.
   */
  #retryIfBehind(bank: Uint8Array): void {
    const key = hex(bank);
    const status = this.#opts.replicas.status(bank);
    const behind = status?.head !== undefined && status.size < status.head.size;
    const last = this.#retries.get(key);
    if (!behind || this.#stopped || this.#opts.replicas.isForked(bank) || !this.#replicates(bank)) {
      this.#retries.delete(key);
      return;
    }
    if (last?.timer) return;
    if (this.#reached.has(key)) {
      this.#fetchLater(bank);
      return;
    }
    const delay = last && last.size === status.size ? Math.min(last.delay * 2, CATCH_UP_RETRY_MAX_MS) : CATCH_UP_RETRY_MIN_MS;
    // The newest head is known: fetch up to it (the bank first, then any peer holding it).
    // After a round without progress, ask every peer how far it can serve instead (the bank
    // away, its peers holding less than the newest head: take what they have).
    const discover = last !== undefined && last.size === status.size;
    const timer = setTimeout(() => {
      const r = this.#retries.get(key);
      if (r) r.timer = undefined;
      this.scheduleCatchUp(bank, { discover });
    }, delay);
    timer.unref();
    this.#retries.set(key, { size: status.size, delay, timer });
  }

  /**
   * Fetches up to the newest known head of `bank` in CATCH_UP_PUSHED_HEAD_MS, unless a catch-up
   * is running or a retry is set already (a gossiped head starts one sooner).
   */
  #fetchLater(bank: Uint8Array): void {
    const key = hex(bank);
    if (this.#stopped || this.#syncing.has(key) || this.#retries.get(key)?.timer || !this.#replicates(bank)) return;
    const timer = setTimeout(() => {
      const r = this.#retries.get(key);
      if (r) r.timer = undefined;
      this.#follow(bank);
    }, CATCH_UP_PUSHED_HEAD_MS);
    timer.unref();
    // Not a failure: the backoff of a round without progress starts afresh after it.
    this.#retries.set(key, { size: -1, delay: CATCH_UP_RETRY_MIN_MS, timer });
  }

  /**
   * Peers to sync `bank` from: every peer with a verified hello and fewer than MAX_STRIKES,
   * the bank itself first. The bank is marked as such (catchUp asks it alone first for the
   * entries up to a head it signed) only while it has no strike: one that left a request
   * unanswered is asked with the others, at once.
   */
  #syncPeers(bank: Uint8Array): SyncPeer[] {
    const out: SyncPeer[] = [];
    const seen = new Set<string>();
    for (const conn of this.#host.getConnections()) {
      const id = conn.remotePeer.toString();
      const hello = this.#hellos.get(id);
      const strikes = this.strikes(id);
      if (!hello || strikes >= MAX_STRIKES || seen.has(id)) continue;
      seen.add(id);
      if (!bytesEqual(hello.bank, bank)) out.push({ id: conn.remotePeer });
      else out.unshift(strikes === 0 ? { id: conn.remotePeer, isBank: true } : { id: conn.remotePeer });
    }
    return out;
  }

  #strike(peer: string, why: string): void {
    const n = this.strikes(peer) + 1;
    this.#strikes.set(peer, { n, at: Date.now() });
    this.#log.warn({ peer, why, strikes: n }, 'a peer sent something invalid');
    if (n >= MAX_STRIKES) {
      for (const c of this.#host.getConnections()) if (c.remotePeer.toString() === peer) void c.close().catch(() => {});
    }
  }

  /**
   * Invalid messages and unanswered sync requests counted against `peerId` (sync, push and
   * hello; gossip is scored by gossipsub). Strikes are forgotten STRIKE_MEMORY_MS after the
   * last one, and those of the peer struck longest ago past MAX_REMEMBERED_PEERS peers.
   */
  strikes(peerId: string): number {
    const s = this.#strikes.get(peerId);
    if (!s) return 0;
    if (Date.now() - s.at > STRIKE_MEMORY_MS) {
      this.#strikes.delete(peerId);
      return 0;
    }
    return s.n;
  }

  /** The gossipsub score of a peer. */
  score(peerId: string): number {
    return (this.#host.services.pubsub as unknown as { getScore(p: string): number }).getScore(peerId);
  }

  /**
   * A signal that aborts after SYNC_TIMEOUT_MS, or when the mesh stops. A function of its own,
   * so that writes can take it uncalled (writeFrame makes the signal only for a full stream).
   */
  readonly #signal = (): AbortSignal => AbortSignal.any([AbortSignal.timeout(LIMITS.SYNC_TIMEOUT_MS), this.#abort.signal]);

  // ---- views -------------------------------------------------------------------------

  /** Connected peers, one row per peer. */
  peers(): PeerInfo[] {
    const rows = new Map<string, { conns: Connection[] }>();
    for (const c of this.#host.getConnections()) {
      const id = c.remotePeer.toString();
      const row = rows.get(id) ?? { conns: [] };
      row.conns.push(c);
      rows.set(id, row);
    }
    const pubsub = this.#host.services.pubsub;
    const heads = new Set(pubsub.getSubscribers(this.#topic).map(String));
    const agreements = new Set(pubsub.getSubscribers(this.#agreementsTopic).map(String));
    const evidence = new Set(pubsub.getSubscribers(this.#evidenceTopic).map(String));
    return [...rows.entries()].map(([peerId, { conns }]) => {
      const hello = this.#hellos.get(peerId);
      const gossip: PeerInfo['gossip'] = [];
      if (heads.has(peerId)) gossip.push('heads');
      if (agreements.has(peerId)) gossip.push('agreements');
      if (evidence.has(peerId)) gossip.push('evidence');
      const rtt = conns.find((c) => c.rtt !== undefined)?.rtt;
      return {
        peerId,
        ...(hello ? { bank: hello.bank, name: hello.name, bioregion: hello.bioregion } : {}),
        addresses: conns.map((c) => c.remoteAddr.toString()),
        ...(rtt !== undefined ? { latencyMs: rtt } : {}),
        gossip,
      };
    });
  }

  /** This bank and every bank it knows or replicates. */
  async banks(): Promise<BankInfo[]> {
    const l = this.#opts.ledger;
    const out: BankInfo[] = [
      { bank: l.bank.key, name: l.bank.name, bioregion: l.bank.bioregion, self: true, head: l.head, replicated: l.size, behind: 0, replicating: true },
    ];
    // Replicas (and what the replica store holds of banks not replicated any more), then the
    // banks met whose heads only this mesh holds.
    const rows = new Map<string, { bank: Uint8Array; size: number; head: SignedHead | undefined }>();
    for (const r of this.#opts.replicas.list()) rows.set(hex(r.bank), { bank: r.bank, size: r.size, head: r.head });
    for (const [key, head] of this.#unreplicatedHeads) {
      const row = rows.get(key);
      if (!row) rows.set(key, { bank: head.bank, size: 0, head });
      else if (!row.head || head.size > row.head.size) row.head = head;
    }
    for (const [key, r] of rows) {
      const met = this.#banks.get(key) ?? (await this.#genesisOf(r.bank));
      const forkProof = this.#opts.replicas.forkProof(r.bank);
      out.push({
        bank: r.bank,
        name: met?.name ?? '',
        bioregion: met?.bioregion ?? '',
        self: false,
        head: r.head,
        replicated: r.size,
        behind: Math.max(0, (r.head?.size ?? 0) - r.size),
        replicating: this.#replicates(r.bank),
        ...(forkProof ? { forkProof } : {}),
      });
    }
    return out;
  }

  /**
   * Connected peers, and of those the ones whose hello verified: read from the open
   * connections, for the node's metrics (O(connections), nothing asked of the peers).
   */
  peerCounts(): { connected: number; verified: number } {
    const peers = this.#host.getPeers();
    let verified = 0;
    for (const p of peers) if (this.#hellos.has(p.toString())) verified++;
    return { connected: peers.length, verified };
  }

  /**
   * Banks this node knows besides this one (the other rows of {@link banks}), and the banks it
   * holds a fork proof against: from memory, without the names that {@link banks} may read.
   */
  bankCounts(): { known: number; forked: number } {
    const replicas = this.#opts.replicas;
    let known = replicas.list().length;
    for (const head of this.#unreplicatedHeads.values()) if (!replicas.status(head.bank)) known++;
    return { known, forked: replicas.forks().length };
  }

  /**
   * Each bank this node replicates (MeshOptions.replicates) and holds a replica of: entries
   * verified, the size of its newest head known here (the difference is how far the replica
   * lags), and whether it is held forked. One row per replicated bank, from memory.
   */
  replication(): Array<{ bank: Uint8Array; replicated: number; head: number; forked: boolean }> {
    const replicas = this.#opts.replicas;
    return replicas
      .list()
      .filter((r) => this.#replicates(r.bank))
      .map((r) => ({ bank: r.bank, replicated: r.size, head: r.head?.size ?? 0, forked: replicas.isForked(r.bank) }));
  }

  /** Name and bioregion from the genesis entry of a replica (a bank not met since restart). */
  async #genesisOf(bank: Uint8Array): Promise<{ name: string; bioregion: string } | undefined> {
    const [first] = await this.#opts.replicas.getEntries(bank, 0, 1);
    const g = first && decodeStrict(pb.Entry, first)?.genesis;
    if (!g) return undefined;
    const met = { name: g.name ?? '', bioregion: g.bioregion ?? '' };
    this.#banks.set(hex(bank), met);
    return met;
  }

  // ---- blocking -----------------------------------------------------------------------

  #isBlocked(p: PeerId): boolean {
    const key = p.publicKey?.raw;
    return key !== undefined && this.#blocked.has(hex(key));
  }

  /**
   * Cuts this node off from `bank`: its connections are closed and no new one is made either
   * way (the connection gater refuses it) until {@link unblock}. Kept in memory only.
   */
  block(bank: Uint8Array): void {
    if (bytesEqual(bank, this.#opts.ledger.bank.key)) return;
    this.#blocked.add(hex(bank));
    for (const c of this.#host.getConnections()) {
      const key = c.remotePeer.publicKey?.raw;
      if (key && bytesEqual(key, bank)) void c.close().catch(() => {});
    }
    this.#log.info({ bank: hex(bank) }, 'blocked a bank: no connection to it until it is unblocked');
  }

  /** Lifts {@link block}; dials the bank at once if this node has met it. */
  unblock(bank: Uint8Array): void {
    if (!this.#blocked.delete(hex(bank))) return;
    this.#log.info({ bank: hex(bank) }, 'unblocked a bank');
    const peer = this.#peerIds.get(hex(bank));
    if (peer && !this.#stopped) void this.#host.dial(peer, { signal: this.#signal() }).catch((err: unknown) => this.#log.debug({ err }, 'dialing an unblocked bank failed'));
  }

  /** The banks blocked now. */
  blocked(): Uint8Array[] {
    return [...this.#blocked].map((h) => Uint8Array.from(Buffer.from(h, 'hex')));
  }

  /** Stops dialing, aborts exchanges in progress, waits for catch-ups and stops the host. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#abort.abort(new Error('the mesh is stopping'));
    for (const c of this.#channels.values()) c.close();
    this.#channels.clear();
    this.#helloDeadlines.stop();
    for (const peer of [...this.#helloWaiters.keys()]) this.#wakeHelloWaiters(peer);
    this.#duplicates.stop();
    clearInterval(this.#refreshTimer);
    for (const r of this.#retries.values()) clearTimeout(r.timer);
    for (const t of this.#followTimers.values()) clearTimeout(t);
    for (const t of this.#followUpTimers.values()) clearTimeout(t);
    this.#unsubscribeForks?.();
    await Promise.allSettled([...this.#syncing.values()]);
    await this.#host.stop();
  }
}
