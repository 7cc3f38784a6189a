import type { AddressInfo } from 'node:net';
import { formatBankId } from '@mutual/codec';
import { LIMITS, MutualError } from '@mutual/interface';
import { Mesh } from '@mutual/mesh';
import { AgreementPool, LedgerStore, ReplicaStore } from '@mutual/store';
import { signDetached, verify, VerifierPool } from '@mutual/verifier';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { openDataDir } from './datadir.ts';
import { Clearing } from './clearing.ts';
import { Counterparties } from './counterparties.ts';
import { HeadGossip } from './head-gossip.ts';
import { InterbankPusher } from './push.ts';
import { Reconciler } from './reconcile.ts';
import { Federation } from './federation.ts';
import { Founding } from './founding.ts';
import { localRpcUrl, removeDiscovery, writeDiscovery } from './discovery.ts';
import type { NodeOptions } from './options.ts';
import { buildApp } from './rpc/app.ts';

/** Hooks of a running node for whoever supervises it (the daemon's main). */
export interface BankNodeHooks {
  /** The store stopped after a failed write: the node cannot go on and must be restarted. */
  readonly onFatal?: (err: Error) => void;
  /** Verifier worker threads; default: one per core. */
  readonly verifierThreads?: number;
}

/**
 * One bank: its data directory, ledger store, verifier pool and RPC, built from validated
 * options in one place and stopped in the reverse order.
 */
export class BankNode {
  readonly store: LedgerStore;
  readonly app: FastifyInstance;
  /** The RPC URL a client on this machine uses (the actual port when 0 was asked for). */
  readonly url: string;
  /** Path of the discovery file written for local clients. */
  readonly discoveryFile: string;
  /** The peer mesh: gossip of heads, sync, replicas of other banks. */
  readonly mesh: Mesh;
  /** Interbank transfers: credits, refunds and settlement from other banks' logs. */
  readonly clearing: Clearing;
  readonly #pool: VerifierPool;
  readonly #logger: Logger;
  readonly #unsubscribe: () => void;
  #ready = false;
  /** Automatic founding of a federation (--found-federation), when asked for. */
  #founding: Founding | undefined;
  readonly #federation: Federation;
  #stopping: Promise<void> | undefined;

  private constructor(parts: {
    store: LedgerStore;
    mesh: Mesh;
    clearing: Clearing;
    app: FastifyInstance;
    url: string;
    discoveryFile: string;
    pool: VerifierPool;
    logger: Logger;
    federation: Federation;
  }) {
    this.store = parts.store;
    this.#federation = parts.federation;
    this.mesh = parts.mesh;
    this.clearing = parts.clearing;
    // Heads are gossiped at most one per HEAD_GOSSIP_INTERVAL_MS (the latest), at once when
    // the bank was idle; interbank entries are pushed to the bank they concern after every commit.
    const gossip = new HeadGossip((head) => void parts.mesh.publishHead(head), LIMITS.HEAD_GOSSIP_INTERVAL_MS);
    const unsubscribe = parts.store.subscribe((e) => gossip.offer(e.head));
    const pusher = new InterbankPusher({ store: parts.store, mesh: parts.mesh, logger: parts.logger.child({ module: 'push' }) });
    pusher.start();
    this.#unsubscribe = () => {
      unsubscribe();
      gossip.stop();
      pusher.stop();
    };
    this.app = parts.app;
    this.url = parts.url;
    this.discoveryFile = parts.discoveryFile;
    this.#pool = parts.pool;
    this.#logger = parts.logger;
  }

  /**
   * Opens the data directory and the ledger, starts the RPC and writes the discovery file.
   * Throws MutualError CONFIG_INVALID, KEY_FILE_INVALID, DATA_DIR_IN_USE, DB_CORRUPT or
   * DB_FORMAT_MISMATCH, having released whatever it had opened.
   */
  static async start(options: NodeOptions, logger: Logger, hooks: BankNodeHooks = {}): Promise<BankNode> {
    const log = logger.child({ module: 'node' });
    const data = openDataDir(options.data);
    if (data.created.bankKey) log.info({ file: `${data.dir}/bank.key` }, 'created a new bank key');
    if (data.created.adminToken) log.info({ file: `${data.dir}/admin.token` }, 'created the admin token');

    const pool = new VerifierPool(hooks.verifierThreads === undefined ? {} : { threads: hooks.verifierThreads });
    const { publicKey, secretKey } = data.bankKeys;
    let store: LedgerStore;
    // Opened on the store's database, after it: the rules ask it about forks through this.
    let replicas: ReplicaStore | undefined;
    try {
      store = await LedgerStore.open({
        dir: data.ledgerDir,
        bankKey: publicKey,
        sign: (message) => signDetached(message, secretKey),
        verify,
        verifyBatch: (items) => pool.verifyBatch(items),
        genesis: { name: options.name, bioregion: options.bioregion },
        isForked: (bank) => replicas?.isForked(bank) ?? false,
        onFatal: (err) => {
          log.fatal({ err }, 'the ledger stopped after a failed write');
          hooks.onFatal?.(err);
        },
      });
    } catch (err) {
      await pool.close();
      throw err;
    }

    let node: BankNode | undefined;
    let app: FastifyInstance | undefined;
    let mesh: Mesh | undefined;
    let clearing: Clearing | undefined;
    try {
      replicas = await ReplicaStore.open(store.db, verify);
      // The mesh delivers gossiped agreements to the federation, which gossips through the mesh.
      let federation: Federation | undefined;
      // The pool keeps, however full, the agreements signed by this bank or a counterparty.
      const counterparties = new Counterparties(store.bank.key);
      const agreementPool = new AgreementPool(store.db, verify, store.bank.key, { trusted: (bank) => counterparties.has(bank) });
      // Loaded before the mesh can deliver a push, and kept by the federation from then on.
      await counterparties.load(agreementPool, store.agreementInForce);
      clearing = new Clearing({ store, replicas, counterparty: (bank) => counterparties.has(bank), logger: logger.child({ module: 'clearing' }) });
      const clearingOf = clearing;
      try {
        mesh = await Mesh.start({
          onPush: (push) => void clearingOf.receive(push.head.bank, push.entries),
          // Replicas of the banks this bank federates with, not of every bank of the bioregion.
          replicates: (bank) => counterparties.has(bank),
          onAgreement: (signed) => void federation?.receive(signed).catch((err: unknown) => log.warn({ err }, 'taking in an agreement failed')),
          agreements: async () => (await agreementPool.list()).map((x) => x.signed),
          ledger: store,
          replicas,
          verify,
          seed: secretKey.subarray(0, 32),
          listen: [options.listen.text],
          bootstrap: options.bootstrap.map((b) => b.text),
          logger: logger.child({ module: 'mesh' }),
        });
      } catch (err) {
        throw listenError('--listen (MUTUAL_LISTEN)', options.listen.text, err);
      }
      // A new counterparty's log is fetched at once (a stopped mesh ignores the call).
      const meshOf = mesh;
      counterparties.onAdd((bank) => meshOf.scheduleCatchUp(bank));
      federation = new Federation({
        store,
        pool: agreementPool,
        mesh,
        sign: (message) => signDetached(message, secretKey),
        logger: logger.child({ module: 'federation' }),
        counterparties,
      });
      if (store.bank.name !== options.name || store.bank.bioregion !== options.bioregion) {
        // A bank's name and bioregion are in its first entry for good: options that differ are most likely a mistake.
        log.warn(
          { name: store.bank.name, bioregion: store.bank.bioregion, optionName: options.name, optionBioregion: options.bioregion },
          'the name and bioregion given differ from those of this bank (its genesis entry), which stay: the options only name a new bank',
        );
      }
      // Stopped by the RPC when it closes (before the pool): built on the first request, then incremental.
      const reconciler = new Reconciler({ store, replicas, verify, verifyBatch: (items) => pool.verifyBatch(items), onError: (err) => log.warn({ err }, 'reconciliation failed') });
      let ready = () => false;
      app = await buildApp({ store, logger, adminToken: data.adminToken, isReady: () => ready(), rateLimit: { max: options.rateLimit }, mesh, federation, clearing, reconciler });
      try {
        await app.listen({ host: options.rpc.host, port: options.rpc.port });
      } catch (err) {
        throw listenError('--rpc (MUTUAL_RPC)', `${options.rpc.host}:${options.rpc.port}`, err);
      }
      const port = (app.server.address() as AddressInfo).port;
      const url = localRpcUrl(options.rpc.host, port);
      const discoveryFile = writeDiscovery(options.home, port, { rpc: url, data: data.dir, pid: process.pid });
      clearing.start();
      node = new BankNode({ store, mesh, clearing, app, url, discoveryFile, pool, logger: log, federation });
      // An agreement that became complete while the node was stopped, or before a crash let it commit its adoption.
      federation.adoptPending().catch((err: unknown) => log.warn({ err }, 'adopting an agreement failed'));
      ready = () => node!.#ready;
      node.#ready = true;
      if (options.founding) {
        node.#founding = new Founding({ store, federation, mesh, ...options.founding, logger: logger.child({ module: 'founding' }) });
        node.#founding.start();
      }
      log.info(
        { bank: formatBankId(publicKey), name: store.bank.name, bioregion: store.bank.bioregion, rpc: url, listen: mesh.addresses(), data: data.dir, size: store.size },
        'bank node started',
      );
      return node;
    } catch (err) {
      await app?.close().catch(() => {});
      await clearing?.stop().catch(() => {});
      await mesh?.stop().catch(() => {});
      await store.close().catch(() => {});
      await pool.close().catch(() => {});
      throw err;
    }
  }

  /** Whether the node accepts work. */
  get ready(): boolean {
    return this.#ready;
  }

  /**
   * Stops accepting requests (ending event streams), lets the commit in progress finish and
   * closes the ledger, the verifier pool and the discovery file. Idempotent.
   */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#ready = false;
      this.#logger.info('stopping');
      await this.#founding?.stop();
      this.#federation.stop();
      try {
        await this.app.close();
      } finally {
        this.#unsubscribe();
        await this.clearing.stop().catch((err: unknown) => this.#logger.warn({ err }, 'stopping the clearing failed'));
        // The mesh stops before the store closes: no sync may read or write a closed database.
        await this.mesh.stop().catch((err: unknown) => this.#logger.warn({ err }, 'stopping the mesh failed'));
        await this.store.close();
        await this.#pool.close();
        removeDiscovery(this.discoveryFile);
      }
      this.#logger.info('stopped');
    })();
    return this.#stopping;
  }
}

/** The system error code of `err` or of one of its causes (libp2p wraps the socket's error). */
function systemCode(err: unknown): string | undefined {
  for (let e = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return code;
    const inText = /\b(EADDRINUSE|EADDRNOTAVAIL|EACCES)\b/.exec(e.message)?.[1];
    if (inText) return inText;
  }
  return undefined;
}

/**
 * A failure to listen on `address`, said in the terms of the option that gave it (CONFIG_INVALID),
 * or `err` itself when it is not one of the usual causes.
 */
function listenError(option: string, address: string, err: unknown): unknown {
  const why = {
    EADDRINUSE: 'is in use: another program (another node?) listens there; choose another port, or stop that program',
    EADDRNOTAVAIL: 'is not an address of this machine',
    EACCES: 'may not be listened on by this user (ports below 1024 need privileges)',
  }[systemCode(err) ?? ''];
  return why ? new MutualError('CONFIG_INVALID', `${option} ${address} ${why}`, { cause: err }) : err;
}
