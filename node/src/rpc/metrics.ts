import type { Result } from '@mutual/ledger';
import type { Mesh } from '@mutual/mesh';
import type { LedgerStore } from '@mutual/store';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The node's Prometheus metrics, in a registry of their own (one per app, so tests do not share). */
export interface NodeMetrics {
  readonly registry: Registry;
  /** Counts the results of signed instructions, by code. */
  countResults(results: readonly Result[]): void;
  /** Stops following the store. */
  close(): void;
}

/**
 * Metrics fed by the store's commit events (commits and their duration), by the log size read
 * at scrape time, and by the results the RPC returns: a batch whose instructions were all
 * refused appends nothing, so no commit event reports it.
 */
export function createMetrics(store: LedgerStore, mesh?: Partial<Pick<Mesh, 'pushCounts'>>): NodeMetrics {
  const registry = new Registry();
  const commits = new Counter({ name: 'mutual_commits_total', help: 'Durable group commits that appended entries.', registers: [registry] });
  const instructions = new Counter({
    name: 'mutual_instructions_total',
    help: 'Signed instructions submitted over the RPC, by result code.',
    labelNames: ['code'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'mutual_commit_duration_seconds',
    help: 'Time from applying a group commit to the end of its synced write.',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  new Gauge({
    name: 'mutual_log_size',
    help: 'Entries in the bank log (durable).',
    registers: [registry],
    collect() {
      this.set(store.size);
    },
  });
  const counts = mesh?.pushCounts?.bind(mesh);
  if (counts) {
    new Gauge({
      name: 'mutual_pushes',
      help: 'Pushes of interbank entries since the node started, by outcome: sent, unsent (left to replication), received (verified), refused.',
      labelNames: ['outcome'],
      registers: [registry],
      collect() {
        for (const [outcome, n] of Object.entries(counts())) this.set({ outcome }, n);
      },
    });
  }
  const unsubscribe = store.subscribe((event) => {
    commits.inc();
    duration.observe(event.durationMs / 1000);
  });
  return {
    registry,
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
