// Banks with real LevelDB ledgers in temporary directories, each with a mesh on 127.0.0.1.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LedgerStore, ReplicaStore } from '@mutual/store';
import { verify } from '@mutual/verifier';
import { newHolder, openAccount, storeOptions, type Acct } from '../../store/test/fixture.ts';
import { Mesh, type MeshOptions } from '../src/index.ts';

export interface TestBank {
  readonly dir: string;
  readonly seed: Uint8Array;
  readonly bioregion: string;
  store: LedgerStore;
  replicas: ReplicaStore;
  mesh: Mesh;
  /** Stops the mesh and closes the store (the bank goes offline, its data stays). */
  stop(): Promise<void>;
  /** Opens the store again and starts a new mesh bootstrapping to `bootstrap`. */
  restart(bootstrap: readonly string[]): Promise<void>;
  commit(n: number): Promise<Acct[]>;
}

const banks: TestBank[] = [];
const dirs: string[] = [];

export async function startBank(
  opts: {
    bioregion?: string;
    bootstrap?: readonly string[];
    /** listen addresses (default: a free port of 127.0.0.1) */
    listen?: readonly string[];
    /** gossip every commit's head (default) */
    gossip?: boolean;
  } & Pick<
    MeshOptions,
    'helloTimeoutMs' | 'helloFollowUpMs' | 'redialTiming' | 'logger' | 'onAgreement' | 'onPush' | 'replicates' | 'maxKnownBanks' | 'maxRememberedPeers'
  > = {},
): Promise<TestBank> {
  const dir = mkdtempSync(join(tmpdir(), 'mutual-mesh-'));
  dirs.push(dir);
  const holder = newHolder();
  const bioregion = opts.bioregion ?? 'Cascadia';
  let running = false;
  let unsubscribe = () => {};
  const bank = {
    dir,
    seed: holder.seed,
    bioregion,
    async stop() {
      if (!running) return;
      running = false;
      unsubscribe();
      await bank.mesh.stop();
      await bank.store.close();
    },
    async restart(bootstrap: readonly string[]) {
      bank.store = await LedgerStore.open(storeOptions(dir, holder, { verify, genesis: { name: `Bank ${banks.indexOf(bank)}`, bioregion } }));
      bank.replicas = await ReplicaStore.open(bank.store.db, verify);
      bank.mesh = await Mesh.start({
        ledger: bank.store,
        replicas: bank.replicas,
        verify,
        seed: holder.seed,
        listen: opts.listen ?? ['/ip4/127.0.0.1/tcp/0'],
        bootstrap,
        ...(opts.helloTimeoutMs === undefined ? {} : { helloTimeoutMs: opts.helloTimeoutMs }),
        ...(opts.helloFollowUpMs === undefined ? {} : { helloFollowUpMs: opts.helloFollowUpMs }),
        ...(opts.redialTiming === undefined ? {} : { redialTiming: opts.redialTiming }),
        ...(opts.logger === undefined ? {} : { logger: opts.logger }),
        ...(opts.onAgreement === undefined ? {} : { onAgreement: opts.onAgreement }),
        ...(opts.onPush === undefined ? {} : { onPush: opts.onPush }),
        ...(opts.replicates === undefined ? {} : { replicates: opts.replicates }),
        ...(opts.maxKnownBanks === undefined ? {} : { maxKnownBanks: opts.maxKnownBanks }),
        ...(opts.maxRememberedPeers === undefined ? {} : { maxRememberedPeers: opts.maxRememberedPeers }),
      });
      unsubscribe = opts.gossip === false ? () => {} : bank.store.subscribe((e) => void bank.mesh.publishHead(e.head));
      running = true;
    },
    async commit(n: number) {
      const out: Acct[] = [];
      for (let i = 0; i < n; i++) out.push(await openAccount(bank.store));
      return out;
    },
  } as TestBank;
  banks.push(bank);
  await bank.restart(opts.bootstrap ?? []);
  return bank;
}

export async function stopAll(): Promise<void> {
  await Promise.allSettled(banks.splice(0).map((b) => b.stop()));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** Waits until `cond` holds, checking every 20 ms, failing after `deadlineMs`. */
export async function waitFor(what: string, cond: () => boolean | Promise<boolean>, deadlineMs = 15_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Whether `at` has verified all of `of`'s log. */
export async function replicated(at: TestBank, of: TestBank): Promise<boolean> {
  const row = (await at.mesh.banks()).find((b) => Buffer.from(b.bank).equals(Buffer.from(of.store.bank.key)));
  return row !== undefined && row.replicated === of.store.size && row.behind === 0;
}
