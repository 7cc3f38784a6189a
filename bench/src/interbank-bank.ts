// Banks of the interbank benchmark, in one process (one bank each by default; several when
// the benchmark groups them, MUTUAL_BENCH_INTERBANK_PROCESSES): the node's BankNode started
// from the daemon's options (argv and environment, as `node node/src/main.ts` reads them),
// with timestamps of the stages an interbank transfer goes through at each bank, kept in
// memory and handed to the parent on request:
// - `commits`: every commit of the bank's log (first index, count, time);
// - `credits`: every interbank credit the bank committed (payer bank, its entry, time);
// - `heads`: the first time a head of another bank of a larger size than any before arrived
//   (gossip or catch-up), before it was stored;
// - `pushes`: every entry another bank pushed to this one (bank, index, time it was handed to
//   the clearing, after the mesh verified it);
// - `appends`: every chunk appended to a replica (bank, new verified size, time);
// - `served`: every sync request the bank answered from a replica (another bank's log).
// Times are `performance.timeOrigin + performance.now()`: milliseconds on the machine's clock,
// comparable between processes. Started by interbank.ts with fork(); the banks to start are
// in MUTUAL_BENCH_BANKS (JSON: the bank's number, its arguments, its log file); messages over IPC.
import { formatBankId } from '@mutual/codec';
import type { SignedHead } from '@mutual/ledger';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { decodeStrict, pb, u64 } from '@mutual/protocol';
import { ReplicaStore } from '@mutual/store';
import { BankNode, createLogger, loadOptions } from '../../node/src/index.ts';
import { Clearing } from '../../node/src/clearing.ts';

/** Messages from the parent. `trace` asks for one bank's; `stop` and the profile are the process's. */
export type ToBank = { type: 'trace'; i: number } | { type: 'stop' } | { type: 'profile-start' } | { type: 'profile-stop'; file: string };

/** One bank this process is to start: its number in the benchmark, its daemon arguments, its log file. */
export interface BankSpec {
  readonly i: number;
  readonly args: string[];
  readonly log: string;
}

export interface BankTrace {
  /** [firstIndex, count, t] */
  readonly commits: Array<[number, number, number]>;
  /** [payer bank hex, payer entry index, t] */
  readonly credits: Array<[string, number, number]>;
  /** [bank hex, size, t] */
  readonly heads: Array<[string, number, number]>;
  /** [bank hex, entry index, t] */
  readonly pushes: Array<[string, number, number]>;
  /** [bank hex, verified size, t] */
  readonly appends: Array<[string, number, number]>;
  /** t of each sync request answered from a replica */
  readonly served: number[];
  /** event-loop delay of the main thread of the bank's process since it started, ms: p50, p99, max */
  eventLoop?: [number, number, number];
}

export type FromBank =
  | { type: 'started'; i: number; bank: string; bankHex: string; rpc: string; listen: string[] }
  | { type: 'failed'; i: number; message: string }
  | { type: 'trace'; i: number; trace: BankTrace }
  | { type: 'profiled'; file: string };

const now = () => performance.timeOrigin + performance.now();
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const send = (m: FromBank) => process.send?.(m);

/** A bank's trace, and the largest head size of each other bank (hex) it has recorded. */
interface Traced {
  readonly trace: BankTrace;
  readonly newest: Map<string, number>;
}
const newTraced = (): Traced => ({ trace: { commits: [], credits: [], heads: [], pushes: [], appends: [], served: [] }, newest: new Map() });
/** Each bank's trace, found from the replica store and the clearing that belong to it. */
const tracedOf = new WeakMap<object, Traced>();
/** The bank being started: its replica store is opened during BankNode.start. */
let starting: Traced | undefined;

const openReplicas = ReplicaStore.open.bind(ReplicaStore);
ReplicaStore.open = async function (...args: Parameters<typeof ReplicaStore.open>) {
  const replicas = await openReplicas(...args);
  if (starting) tracedOf.set(replicas, starting);
  return replicas;
};
const recordHead = ReplicaStore.prototype.recordHead;
ReplicaStore.prototype.recordHead = function (this: ReplicaStore, head: SignedHead): Promise<boolean> {
  const traced = tracedOf.get(this);
  if (traced) {
    const key = hex(head.bank);
    if (head.size > (traced.newest.get(key) ?? 0)) {
      traced.newest.set(key, head.size);
      traced.trace.heads.push([key, head.size, now()]);
    }
  }
  return recordHead.call(this, head);
};
const append = ReplicaStore.prototype.append;
ReplicaStore.prototype.append = async function (this: ReplicaStore, ...args: Parameters<ReplicaStore['append']>) {
  const r = await append.apply(this, args);
  if (typeof r === 'number') tracedOf.get(this)?.trace.appends.push([hex(args[0]), r, now()]);
  return r;
};

// Every sync request for another bank's log, answered by this node, starts with this.
const servableHead = ReplicaStore.prototype.servableHead;
ReplicaStore.prototype.servableHead = function (this: ReplicaStore, bank: Uint8Array) {
  tracedOf.get(this)?.trace.served.push(now());
  return servableHead.call(this, bank);
};

const receive = Clearing.prototype.receive;
Clearing.prototype.receive = function (this: Clearing, bank: Uint8Array, entries: Parameters<Clearing['receive']>[1]) {
  const trace = tracedOf.get(this)?.trace;
  if (trace) {
    const t = now();
    const key = hex(bank);
    for (const e of entries) trace.pushes.push([key, e.index, t]);
  }
  return receive.call(this, bank, entries);
};

const specs = JSON.parse(process.env.MUTUAL_BENCH_BANKS ?? '[]') as BankSpec[];
const banks = new Map<number, { node: BankNode; trace: BankTrace }>();
// One at a time, so that a replica store opened during a start is that bank's.
for (const spec of specs) {
  const traced = newTraced();
  const { trace } = traced;
  starting = traced;
  try {
    const options = loadOptions(spec.args, process.env);
    const node = await BankNode.start(options, createLogger({ level: options.logLevel, pretty: false, destination: spec.log }));
    tracedOf.set(node.clearing, traced);
    banks.set(spec.i, { node, trace });
    node.store.subscribe((e) => {
      const t = now();
      trace.commits.push([e.firstIndex, e.entries.length, t]);
      for (const bytes of e.entries) {
        const entry = decodeStrict(pb.Entry, bytes);
        const source = entry?.kind === 'interbankCredit' ? entry.interbankCredit?.source : undefined;
        if (source?.bank) trace.credits.push([hex(source.bank), Number(u64(source.index)), t]);
      }
    });
  } catch (err) {
    send({ type: 'failed', i: spec.i, message: (err as Error).message });
    await stopAll();
    process.exit(1);
  } finally {
    starting = undefined;
  }
}
const delay = monitorEventLoopDelay({ resolution: 5 });
delay.enable();

function stopAll(): Promise<unknown> {
  return Promise.allSettled([...banks.values()].map((b) => b.node.stop()));
}

// A V8 CPU profile of the main thread over a window the parent chooses (the measured runs).
let profiler: Session | undefined;
async function profile(m: ToBank): Promise<void> {
  if (m.type === 'profile-start' && !profiler) {
    profiler = new Session();
    profiler.connect();
    await profiler.post('Profiler.enable');
    // One sample every 2 ms: ten profiled banks on two cores, at V8's default 1 ms the profiler
    // threads take a quarter of the machine.
    await profiler.post('Profiler.setSamplingInterval', { interval: 2000 });
    await profiler.post('Profiler.start');
  } else if (m.type === 'profile-stop' && profiler) {
    const { profile: p } = await profiler.post('Profiler.stop');
    profiler.disconnect();
    profiler = undefined;
    writeFileSync(m.file, JSON.stringify(p));
    send({ type: 'profiled', file: m.file });
  }
}
process.on('message', (m: ToBank) => {
  if (m.type === 'profile-start' || m.type === 'profile-stop') void profile(m);
  else if (m.type === 'trace') {
    const b = banks.get(m.i);
    if (!b) return;
    b.trace.eventLoop = [delay.percentile(50) / 1e6, delay.percentile(99) / 1e6, delay.max / 1e6];
    send({ type: 'trace', i: m.i, trace: b.trace });
  } else if (m.type === 'stop') {
    void stopAll().then(() => process.exit(0));
  }
});
// The parent gone: stop too.
process.on('disconnect', () => void stopAll().finally(() => process.exit(0)));
for (const [i, { node }] of banks) {
  send({ type: 'started', i, bank: formatBankId(node.store.bank.key), bankHex: hex(node.store.bank.key), rpc: node.url, listen: node.mesh.addresses() });
}
