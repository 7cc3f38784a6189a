import { formatBankId } from '@mutual/codec';
import { LIMITS } from '@mutual/interface';
import type { Result } from '@mutual/ledger';
import type { Mesh } from '@mutual/mesh';
import { PROTOCOL_VERSION } from '@mutual/protocol';
import type { LedgerStore } from '@mutual/store';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The node's Prometheus metrics, in a registry of their own (one per app, so tests do not share). */
export interface NodeMetrics {
  readonly registry: Registry;
  /** Counts the results of signed instructions, by code. */
  countResults(results: readonly Result[]): void;
  /** Stops following the store. */
  close(): void;
}

/**
 * What the metrics read of the mesh. A node always has a mesh; an app built without one (RPC
 * tests) leaves out the metrics it would feed rather than show zeros that mean nothing.
 */
export type MeshCounts = Partial<Pick<Mesh, 'pushCounts' | 'peerCounts' | 'bankCounts' | 'replication'>>;

let processRegistry: Registry | undefined;

/**
 * prom-client's default metrics (CPU, memory, heap, event-loop lag, GC, handles), unprefixed as
 * dashboards expect them. One set per process, shared by every app's registry: they describe
 * the process, and each set starts a GC observer and an event-loop monitor that are never
 * stopped, so a set per app would pile up in a process that builds many (the tests).
 */
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/**
 * Metrics fed by the store's commit events (commits and their duration), by the results the
 * RPC returns (a batch whose instructions were all refused appends nothing, so no commit event
 * reports it), and by values read at scrape time from memory: the store's, the mesh's and the
 * process's. Nothing read at scrape time touches the database, and labels are bounded (result
 * codes, push outcomes, the banks this node replicates).
 */
export function createMetrics(deps: { store: LedgerStore; mesh?: MeshCounts | undefined; version: string }): NodeMetrics {
  const { store, mesh } = deps;
  const own = new Registry();
  const registers = [own];
  const commits = new Counter({ name: 'mutual_commits_total', help: 'Durable group commits that appended entries.', registers });
  const instructions = new Counter({
    name: 'mutual_instructions_total',
    help: 'Signed instructions submitted over the RPC, by result code.',
    labelNames: ['code'],
    registers,
  });
  const duration = new Histogram({
    name: 'mutual_commit_duration_seconds',
    help: 'Time from applying a group commit to the end of its synced write.',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers,
  });
  new Gauge({
    name: 'mutual_log_size',
    help: 'Entries in the bank log (durable).',
    registers,
    collect() {
      this.set(store.size);
    },
  });
  new Gauge({
    name: 'mutual_build_info',
    help: 'Always 1: the version of the node and of the protocol it speaks, as labels.',
    labelNames: ['version', 'protocol'],
    registers,
  }).set({ version: deps.version, protocol: String(PROTOCOL_VERSION) }, 1);
  new Gauge({
    name: 'mutual_queued_instructions',
    help: 'Commands accepted and waiting to be committed (instructions, account openings, interbank answers); past mutual_queued_instructions_limit new ones are refused with OVERLOADED.',
    registers,
    collect() {
      this.set(store.queued);
    },
  });
  new Gauge({
    name: 'mutual_queued_instructions_limit',
    help: 'LIMITS.MAX_QUEUED_INSTRUCTIONS: the most commands that may wait to be committed.',
    registers,
  }).set(LIMITS.MAX_QUEUED_INSTRUCTIONS);
  new Gauge({
    name: 'mutual_agreement_in_force',
    help: '1 when this bank has adopted a federation agreement (interbank transfers need one), else 0.',
    registers,
    collect() {
      this.set(store.agreementInForce ? 1 : 0);
    },
  });
  if (mesh) meshMetrics(mesh, registers);

  const unsubscribe = store.subscribe((event) => {
    commits.inc();
    duration.observe(event.durationMs / 1000);
  });
  return {
    registry: Registry.merge([own, processMetrics()]),
    countResults(results) {
      const byCode = new Map<string, number>();
      for (const r of results) byCode.set(r.code, (byCode.get(r.code) ?? 0) + 1);
      for (const [code, n] of byCode) instructions.inc({ code }, n);
    },
    close: () => {
      unsubscribe();
    },
  };
}

function meshMetrics(mesh: MeshCounts, registers: Registry[]): void {
  const pushCounts = mesh.pushCounts?.bind(mesh);
  if (pushCounts) {
    new Counter({
      name: 'mutual_pushes_total',
      help: 'Pushes of interbank entries since the node started, by outcome: sent, unsent (left to replication), received (verified), refused.',
      labelNames: ['outcome'],
      registers,
      collect() {
        // The mesh keeps the totals: the counter is set to them (they only grow).
        this.reset();
        for (const [outcome, n] of Object.entries(pushCounts())) this.inc({ outcome }, n);
      },
    });
  }
  const peerCounts = mesh.peerCounts?.bind(mesh);
  if (peerCounts) {
    new Gauge({
      name: 'mutual_peers_connected',
      help: 'Peers connected to this node.',
      registers,
      collect() {
        this.set(peerCounts().connected);
      },
    });
    new Gauge({
      name: 'mutual_peers_verified',
      help: 'Connected peers whose hello verified: banks of this bioregion this node exchanges with.',
      registers,
      collect() {
        this.set(peerCounts().verified);
      },
    });
  }
  const bankCounts = mesh.bankCounts?.bind(mesh);
  if (bankCounts) {
    new Gauge({
      name: 'mutual_banks_known',
      help: 'Banks this node knows besides this one (the other rows of GET /v1/banks).',
      registers,
      collect() {
        this.set(bankCounts().known);
      },
    });
    new Gauge({
      name: 'mutual_banks_forked',
      help: 'Banks this node holds a verified fork proof against (their replicas are frozen).',
      registers,
      collect() {
        this.set(bankCounts().forked);
      },
    });
  }
  const replication = mesh.replication?.bind(mesh);
  if (replication) {
    // One series per bank this node replicates (its counterparties): a bank no longer
    // replicated drops out at the next scrape.
    const perBank = (name: string, help: string, value: (r: ReturnType<Mesh['replication']>[number]) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['bank'],
        registers,
        collect() {
          this.reset();
          for (const r of replication()) this.set({ bank: formatBankId(r.bank) }, value(r));
        },
      });
    perBank('mutual_replica_size', 'Entries of a replicated bank\'s log verified and held here, by bank ID.', (r) => r.replicated);
    perBank('mutual_replica_head_size', 'Size of the newest signed head of a replicated bank known here, by bank ID; minus mutual_replica_size, how far the replica lags.', (r) => r.head);
    perBank('mutual_replica_forked', '1 when this node holds a fork proof against a replicated bank, by bank ID, else 0.', (r) => (r.forked ? 1 : 0));
  }
}
