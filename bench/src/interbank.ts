// Interbank transfers across a loopback mesh of banks that founded their federation
// themselves (10 in full mode), each bank a child process (interbank-bank.ts: the node's
// BankNode, with stage timestamps). Two measurements:
// - latency at a fixed offered load: open loop, transfers at a fixed rate between random
//   pairs of banks, from the moment the POST /v1/transfers carrying a transfer is sent to
//   the payer bank A until the credit entry naming A's outgoing entry appears on the payee
//   bank B's event stream (GET /v1/events, interbank answers only); p50 and p99, the offered against the achieved
//   rate, and where the time goes (commit at A, head at B, catch-up at B, credit at B);
// - the maximum sustained rate: closed loop with a bounded number of transfers sent but not
//   yet credited, transfers credited per second, against the single-bank durable apply rate
//   measured in the same run (apply.ts).
import { fork, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { availableParallelism, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { NODE_V8_FLAGS } from '../../node/src/heap-flags.ts';
import { parseSse } from '@mutual/client';
import { formatPublicKey } from '@mutual/codec';
import { DOMAIN, pb, signedMessage, toU64 } from '@mutual/protocol';
import { signDetached } from '@mutual/verifier';
import { fundingLabor, measureApply, population, type Prepared } from './apply.ts';
import type { Benchmark, BenchContext } from './context.ts';
import type { BankSpec, BankTrace, FromBank, ToBank } from './interbank-bank.ts';
import { fmt, fmtSummary, summarize, type Summary } from './stats.ts';
import { freePorts } from '../../tests/support/ports.ts';

const CHILD = resolve(import.meta.dirname, 'interbank-bank.ts');
/** Requests in flight per bank; each lane owns a share of the payers and sends them in order. */
const LANES = 8;
/** Scheduler tick of the load generator. */
const TICK_MS = 2;
/** A transfer not credited this long after its run counts as lost. */
const DRAIN_MS = 30_000;
const TARGET_P50_MS = 20;
const TARGET_P99_MS = 100;

interface Sizes {
  readonly banks: number;
  /** processes the banks run in, bank i in process i mod processes */
  readonly processes: number;
  readonly payers: number;
  /** offered load of the latency runs, transfers/s */
  readonly rate: number;
  readonly warmUpMs: number;
  readonly runMs: number;
  /** most transfers sent and not yet credited in the closed loop */
  readonly window: number;
  readonly maxWarmUpMs: number;
  readonly maxRunMs: number;
  /** a low rate at which the pipeline's own latency shows, without queueing */
  readonly floorRate: number;
  readonly floorMs: number;
}

// The warm-up at the offered rate is long enough for the banks' code to be compiled: a bank
// is a long-running process, and five seconds in V8 was still optimizing functions that the
// offered rate had just made hot, about a tenth of the machine's CPU (perf, docs/BENCHMARKS.md).
const FULL: Sizes = { banks: 10, processes: 10, payers: 100, rate: 500, warmUpMs: 30_000, runMs: 10_000, window: 2000, maxWarmUpMs: 5000, maxRunMs: 10_000, floorRate: 20, floorMs: 5000 };
const QUICK: Sizes = { banks: 3, processes: 3, payers: 16, rate: 100, warmUpMs: 1000, runMs: 2000, window: 300, maxWarmUpMs: 1000, maxRunMs: 2000, floorRate: 20, floorMs: 1000 };

/**
 * `MUTUAL_BENCH_INTERBANK_BANKS` and `MUTUAL_BENCH_INTERBANK_RATE` change the number of banks and
 * the offered rate of the latency runs, to see how latency depends on the number of banks
 * sharing the machine's cores. The target rows hold only for 10 banks at 500/s.
 * `MUTUAL_BENCH_INTERBANK_PROCESSES` runs the banks in fewer processes (one each by default;
 * bank i in process i mod the number), to see what each process's own overhead costs.
 */
export function withOverrides(base: Sizes, env: NodeJS.ProcessEnv = process.env): Sizes {
  const read = (name: string, min: number, max: number): number | undefined => {
    const text = env[name];
    if (text === undefined || text === '') return undefined;
    const n = Number(text);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} must be an integer from ${min} to ${max}, not ${JSON.stringify(text)}`);
    return n;
  };
  const banks = read('MUTUAL_BENCH_INTERBANK_BANKS', 2, 30) ?? base.banks;
  const rate = read('MUTUAL_BENCH_INTERBANK_RATE', 1, 10_000) ?? base.rate;
  const processes = read('MUTUAL_BENCH_INTERBANK_PROCESSES', 1, banks) ?? banks;
  return { ...base, banks, rate, processes };
}

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Bank {
  readonly i: number;
  readonly proc: ChildProcess;
  readonly id: string;
  readonly hex: string;
  readonly url: string;
  readonly token: string;
  readonly logFile: string;
  pop?: Prepared;
  key?: Uint8Array;
  waiter?: (m: FromBank) => void;
}

/** One transfer sent: where, when, and what became of it. */
interface Sent {
  readonly a: number;
  readonly b: number;
  readonly index: number;
  readonly phase: string;
  /** when it was due (the open loop's schedule) */
  readonly due: number;
  readonly sent: number;
  readonly acked: number;
  credited?: number;
  settled?: number;
}

interface Queued {
  readonly b64: string;
  readonly b: number;
  readonly due: number;
  readonly phase: string;
}

function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/**
 * POSTs a JSON body on a kept-alive connection of `agent`; resolves with the status and the
 * answer's text. The load generator shares the banks' two cores, so it sends with node:http
 * rather than fetch, which costs it several times more CPU per request.
 */
function postJson(agent: Agent, url: URL, body: string): Promise<{ status: number; text: string }> {
  return new Promise((res, rej) => {
    const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (r) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => res({ status: r.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      r.on('error', rej);
    });
    req.on('error', rej);
    req.end(body);
  });
}

/** CPU seconds (user + system) of a process so far, from /proc; 0 where there is none. */
function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return 0;
  }
}

class Mesh {
  readonly banks: Bank[] = [];
  readonly byId = new Map<string, number>();
  readonly records = new Map<string, Sent>();
  readonly early = new Map<string, { credited?: number; settled?: number }>();
  readonly lanes: Array<Array<{ busy: boolean; queue: Queued[] }>> = [];
  readonly streams: Array<{ k: number; signed: Array<{ b64: string; b: number }> }> = [];
  readonly abort = new AbortController();
  enqueued = 0;
  credited = 0;
  rejectedCredits = 0;
  refused = new Map<string, number>();
  failure: Error | undefined;
  readonly inFlight = new Set<Promise<void>>();
  /** Per bank: kept-alive connections for the lanes' POSTs, and where they go. */
  readonly agents: Agent[] = [];
  readonly transferUrls: URL[] = [];

  readonly sizes: Sizes;

  constructor(sizes: Sizes) {
    this.sizes = sizes;
  }

  async start(root: string): Promise<void> {
    const n = this.sizes.banks;
    const groups = this.sizes.processes;
    const ports = await freePorts(n);
    const env = {
      ...process.env,
      MUTUAL_FOUND_FEDERATION: String(n),
      MUTUAL_CLEARING_LIMIT: '1000000000',
      MUTUAL_LOG_LEVEL: 'info',
    };
    const started: Array<Promise<Bank>> = [];
    // Bank i runs in process i mod groups.
    for (let g = 0; g < groups; g++) {
      const specs: BankSpec[] = [];
      for (let i = g; i < n; i += groups) {
        const args = ['--data', join(root, `bank${i}`), '--rpc', '127.0.0.1:0', '--listen', `/ip4/127.0.0.1/tcp/${ports[i]}`, '--name', `Bench ${i}`, '--bioregion', 'bench', '--rate-limit', '1000000'];
        // Every bank dials every other: they start together, and a dial to one not yet up is retried.
        for (let j = 0; j < n; j++) if (j !== i) args.push('--bootstrap', `/ip4/127.0.0.1/tcp/${ports[j]}`);
        specs.push({ i, args, log: join(root, `bank${i}.log`) });
      }
      const outFile = join(root, `process${g}.log`);
      const fd = openSync(outFile, 'a');
      const proc = fork(CHILD, [], {
        execPath: process.execPath,
        execArgv: [...process.execArgv, ...NODE_V8_FLAGS],
        stdio: ['ignore', fd, fd, 'ipc'],
        env: { ...env, MUTUAL_BENCH_BANKS: JSON.stringify(specs) },
      });
      closeSync(fd);
      const waiting = new Map<number, { res: (b: Bank) => void; rej: (e: Error) => void }>();
      const fail = (e: Error) => {
        for (const w of waiting.values()) w.rej(e);
        waiting.clear();
      };
      const timer = setTimeout(() => fail(new Error(`banks ${specs.map((s) => s.i).join(', ')} did not start within 120 s (see ${outFile} and their logs)`)), 120_000);
      const known = new Map<number, Bank>();
      proc.on('message', (m: FromBank) => {
        if (m.type === 'started') {
          const spec = specs.find((s) => s.i === m.i)!;
          const bank: Bank = { i: m.i, proc, id: m.bank, hex: m.bankHex, url: m.rpc, token: readFileSync(join(root, `bank${m.i}`, 'admin.token'), 'utf8').trim(), logFile: spec.log };
          known.set(m.i, bank);
          waiting.get(m.i)?.res(bank);
          waiting.delete(m.i);
          if (waiting.size === 0) clearTimeout(timer);
        } else if (m.type === 'failed') {
          clearTimeout(timer);
          fail(new Error(`bank ${m.i} failed to start: ${m.message}`));
        } else if (m.type === 'trace') known.get(m.i)?.waiter?.(m);
        else for (const b of known.values()) b.waiter?.(m);
      });
      proc.on('exit', (code) => {
        clearTimeout(timer);
        const tail = (f: string) => {
          try {
            return readFileSync(f, 'utf8').slice(-2000);
          } catch {
            return '';
          }
        };
        fail(new Error(`the process of banks ${specs.map((s) => s.i).join(', ')} exited (${code}) while starting: ${tail(outFile)}${specs.map((s) => tail(s.log)).join('')}`));
        if (!this.abort.signal.aborted) this.failure ??= new Error(`the process of banks ${specs.map((s) => s.i).join(', ')} exited (${code}) during the benchmark`);
      });
      for (const spec of specs) started.push(new Promise<Bank>((res, rej) => waiting.set(spec.i, { res, rej })));
    }
    const settled = await Promise.allSettled(started);
    for (const s of settled) if (s.status === 'fulfilled') this.banks.push(s.value);
    const failed = settled.find((s) => s.status === 'rejected');
    if (failed) throw failed.reason;
    this.banks.sort((x, y) => x.i - y.i);
    this.banks.forEach((b) => this.byId.set(b.id, b.i));
  }

  /** The bank processes, each once. */
  processes(): ChildProcess[] {
    return [...new Set(this.banks.map((b) => b.proc))];
  }

  async call(b: Bank, method: string, path: string, body?: unknown, admin = false): Promise<unknown> {
    const res = await fetch(`${b.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...(admin ? { authorization: `Bearer ${b.token}` } : {}) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return res.json();
  }

  async waitForAgreement(timeoutMs: number): Promise<void> {
    const end = Date.now() + timeoutMs;
    for (const b of this.banks) {
      for (;;) {
        const r = (await this.call(b, 'GET', '/v1/agreements')) as { agreements: Array<{ inForce: boolean }> };
        if (r.agreements.some((a) => a.inForce)) break;
        if (Date.now() > end) throw new Error(`bank ${b.i} has no agreement in force after ${timeoutMs / 1000} s`);
        await sleep(200);
      }
    }
  }

  /** Opens a cooperative and the payers at every bank and funds each payer with 24 hours. */
  async fund(): Promise<void> {
    await Promise.all(
      this.banks.map(async (b) => {
        const key = Buffer.from(b.hex, 'hex');
        const p = population(this.sizes.payers, { publicKey: key });
        const open = (publicKey: Uint8Array, kind: string) => this.call(b, 'POST', '/v1/accounts', { publicKey: formatPublicKey(publicKey), kind }, true);
        await open(p.coop.publicKey, 'cooperative');
        for (let i = 0; i < p.members.length; i += 8) await Promise.all(p.members.slice(i, i + 8).map((m) => open(m.publicKey, 'member')));
        for (const chunk of fundingLabor(p)) {
          const r = (await this.call(b, 'POST', '/v1/labor', { instructions: chunk.map((x) => Buffer.from(x).toString('base64')) })) as { results: Array<{ code: string }> };
          if (r.results.some((x) => x.code !== 'APPLIED')) throw new Error(`funding the payers of bank ${b.i} failed`);
        }
        b.pop = p;
        b.key = key;
      }),
    );
    for (let a = 0; a < this.banks.length; a++) {
      this.agents.push(new Agent({ keepAlive: true, maxSockets: LANES }));
      this.transferUrls.push(new URL('/v1/transfers', this.banks[a]!.url));
      this.lanes.push(Array.from({ length: LANES }, () => ({ busy: false, queue: [] })));
      this.streams.push({ k: 0, signed: [] });
    }
  }

  /** Follows every bank's log (credits) and its interbank events (settlement); resolves once all streams are open. */
  async follow(): Promise<void> {
    const opened: Array<Promise<void>> = [];
    for (const b of this.banks) {
      opened.push(this.#stream(b, '/v1/events?kinds=interbank-credit,interbank-rejection', (event, data) => {
        // Only interbank answers matter here: the bank sends no other entry.
        if (event !== 'entry') return;
        const e = JSON.parse(data) as { kind: string; source?: { bank: string; index: number } };
        if (e.kind === 'interbank-rejection') this.rejectedCredits++;
        if (e.kind !== 'interbank-credit' || !e.source) return;
        const t = now();
        this.credited++;
        this.#mark(`${this.byId.get(e.source.bank)}/${e.source.index}`, 'credited', t);
      }));
      opened.push(this.#stream(b, '/v1/interbank/events', (event, data) => {
        if (event !== 'interbank') return;
        const x = JSON.parse(data) as { index: number; state: string };
        if (x.state === 'settled') this.#mark(`${b.i}/${x.index}`, 'settled', now());
      }));
    }
    await Promise.all(opened);
  }

  #mark(key: string, what: 'credited' | 'settled', t: number): void {
    const r = this.records.get(key);
    if (r) r[what] ??= t;
    else {
      const e = this.early.get(key) ?? {};
      e[what] ??= t;
      this.early.set(key, e);
    }
  }

  #stream(b: Bank, path: string, on: (event: string, data: string) => void): Promise<void> {
    return new Promise((opened, failed) => {
      void (async () => {
        try {
          const res = await fetch(`${b.url}${path}`, { headers: { accept: 'text/event-stream' }, signal: this.abort.signal });
          if (!res.ok || !res.body) throw new Error(`GET ${path} at bank ${b.i}: ${res.status}`);
          opened();
          for await (const m of parseSse(res.body)) on(m.event ?? 'message', m.data);
          if (!this.abort.signal.aborted) this.failure ??= new Error(`the stream ${path} of bank ${b.i} ended`);
        } catch (err) {
          if (this.abort.signal.aborted) return;
          this.failure ??= err as Error;
          failed(err);
        }
      })();
    });
  }

  /** Signs transfer k of bank a's stream: payer k mod P with its next sequence, to a random payee of another bank. */
  #sign(a: number, k: number): { b64: string; b: number } {
    const A = this.banks[a]!;
    const P = this.sizes.payers;
    const payer = k % P;
    let b = Math.floor(Math.random() * (this.banks.length - 1));
    if (b >= a) b++;
    const B = this.banks[b]!;
    const body = pb.Instruction.encode({
      bank: A.key!,
      account: A.pop!.ids[payer],
      sequence: toU64(BigInt(Math.floor(k / P) + 1)),
      transfer: { payee: B.pop!.ids[Math.floor(Math.random() * P)], amount: toU64(1n), payeeBank: B.key! },
    }).finish();
    const signature = signDetached(signedMessage(DOMAIN.instruction, body), A.pop!.members[payer]!.secretKey);
    return { b64: Buffer.from(pb.SignedInstruction.encode({ body, signature }).finish()).toString('base64'), b };
  }

  /** Signs about `count` more transfers ahead, spread over the banks, so that the runs sign little. */
  presign(count: number): void {
    const per = Math.ceil((count * 1.2) / this.banks.length);
    this.streams.forEach((s, a) => {
      const have = s.k + s.signed.length;
      for (let i = 0; i < per; i++) s.signed.push(this.#sign(a, have + i));
    });
  }

  /** Queues the next transfer of a random payer bank, due at `due`, and sends it if its lane is idle. */
  enqueue(due: number, phase: string): void {
    const a = Math.floor(Math.random() * this.banks.length);
    const s = this.streams[a]!;
    const k = s.k++;
    const t = s.signed.shift() ?? this.#sign(a, k);
    const lane = this.lanes[a]![(k % this.sizes.payers) % LANES]!;
    lane.queue.push({ b64: t.b64, b: t.b, due, phase });
    this.enqueued++;
    if (!lane.busy) this.#drainLane(a, lane);
  }

  #drainLane(a: number, lane: { busy: boolean; queue: Queued[] }): void {
    lane.busy = true;
    const run = (async () => {
      try {
        while (lane.queue.length > 0 && !this.failure) {
          const batch = lane.queue.splice(0, 1000);
          const sent = now();
          const res = await postJson(this.agents[a]!, this.transferUrls[a]!, JSON.stringify({ instructions: batch.map((x) => x.b64) }));
          if (res.status !== 200) throw new Error(`POST /v1/transfers at bank ${a}: ${res.status} ${res.text}`);
          const body = JSON.parse(res.text) as { results: Array<{ code: string; entryIndex?: number }> };
          const acked = now();
          body.results.forEach((r, i) => {
            const q = batch[i]!;
            if (r.code !== 'APPLIED' || r.entryIndex === undefined) {
              this.refused.set(r.code, (this.refused.get(r.code) ?? 0) + 1);
              return;
            }
            const key = `${a}/${r.entryIndex}`;
            const early = this.early.get(key);
            this.early.delete(key);
            const rec: Sent = { a, b: q.b, index: r.entryIndex, phase: q.phase, due: q.due, sent, acked, ...early };
            this.records.set(key, rec);
          });
        }
      } catch (err) {
        this.failure ??= err as Error;
      } finally {
        lane.busy = false;
      }
    })();
    this.inFlight.add(run);
    void run.finally(() => this.inFlight.delete(run));
  }

  /** Open loop: `rate` transfers/s for `ms`, each due at its time whatever happened to the earlier ones. */
  async openLoop(rate: number, ms: number, phase: string): Promise<{ start: number; end: number; count: number }> {
    const start = now();
    let count = 0;
    for (;;) {
      if (this.failure) throw this.failure;
      const elapsed = now() - start;
      if (elapsed >= ms) break;
      // Transfer n is due at start + n / rate: the first at once.
      const due = Math.min(Math.floor((elapsed * rate) / 1000) + 1, Math.floor((ms * rate) / 1000));
      for (; count < due; count++) this.enqueue(start + (count * 1000) / rate, phase);
      await sleep(TICK_MS);
    }
    return { start, end: start + ms, count };
  }

  /** Closed loop: keeps `window` transfers sent and not yet credited, for `ms`. */
  async closedLoop(window: number, ms: number, phase: string): Promise<{ start: number; end: number; credited: number }> {
    const start = now();
    const before = this.credited;
    for (;;) {
      if (this.failure) throw this.failure;
      const t = now();
      if (t - start >= ms) break;
      for (let room = window - (this.enqueued - this.credited); room > 0; room--) this.enqueue(t, phase);
      await sleep(TICK_MS);
    }
    return { start, end: now(), credited: this.credited - before };
  }

  /** Waits until every transfer queued so far is answered and credited, or `ms` passed. */
  async drain(ms: number): Promise<void> {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      if (this.failure) throw this.failure;
      const queued = this.lanes.some((ls) => ls.some((l) => l.busy || l.queue.length > 0));
      if (!queued && this.credited >= this.enqueued - [...this.refused.values()].reduce((x, y) => x + y, 0)) return;
      await sleep(50);
    }
  }

  /** Waits until every transfer answered so far is settled at its payer bank, or `ms` passed; returns how many are not. */
  async drainSettled(ms: number): Promise<number> {
    const end = Date.now() + ms;
    let unsettled = Infinity;
    while (Date.now() < end) {
      if (this.failure) throw this.failure;
      unsettled = 0;
      for (const r of this.records.values()) if (r.settled === undefined) unsettled++;
      if (unsettled === 0) return 0;
      await sleep(100);
    }
    return unsettled;
  }

  /**
   * MUTUAL_BENCH_PROFILE_DIR=DIR: every bank profiles its main thread (V8 CPU profile) from
   * `start` to `stop` of one phase, written to DIR/bank<i>.cpuprofile. The phase is
   * MUTUAL_BENCH_PROFILE_PHASE: `rate` (the measured runs at the offered rate; the default),
   * `floor` (the low rate) or `idle` (nothing offered).
   */
  async profile(what: 'start' | 'stop', phase: 'idle' | 'floor' | 'rate'): Promise<void> {
    const dir = process.env.MUTUAL_BENCH_PROFILE_DIR;
    if (!dir || (process.env.MUTUAL_BENCH_PROFILE_PHASE ?? 'rate') !== phase) return;
    const procs = this.processes();
    if (what === 'start') {
      for (const proc of procs) proc.send({ type: 'profile-start' } satisfies ToBank);
      return;
    }
    await Promise.all(
      procs.map(
        (proc) =>
          new Promise<void>((res) => {
            const mine = this.banks.filter((b) => b.proc === proc);
            const timer = setTimeout(res, 30_000);
            const done = (m: FromBank) => {
              if (m.type !== 'profiled') return;
              clearTimeout(timer);
              for (const b of mine) b.waiter = undefined;
              res();
            };
            for (const b of mine) b.waiter = done;
            proc.send({ type: 'profile-stop', file: join(dir, `bank${mine.map((b) => b.i).join('+')}.cpuprofile`) } satisfies ToBank);
          }),
      ),
    );
  }

  async traces(): Promise<BankTrace[]> {
    return Promise.all(
      this.banks.map(
        (b) =>
          new Promise<BankTrace>((res, rej) => {
            const timer = setTimeout(() => rej(new Error(`no trace from bank ${b.i}`)), 30_000);
            b.waiter = (m) => {
              if (m.type !== 'trace') return;
              clearTimeout(timer);
              b.waiter = undefined;
              res(m.trace);
            };
            b.proc.send({ type: 'trace', i: b.i } satisfies ToBank);
          }),
      ),
    );
  }

  /** CPU seconds of the bank processes so far. */
  cpu(): number {
    return this.processes().reduce((s, p) => s + cpuSeconds(p.pid), 0);
  }

  /** CPU seconds of this process (the load generator and its event-stream readers) so far. */
  ownCpu(): number {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  }

  async stop(): Promise<void> {
    this.abort.abort();
    for (const a of this.agents) a.destroy();
    await Promise.all(
      this.processes().map(
        (proc) =>
          new Promise<void>((res) => {
            if (proc.exitCode !== null || proc.signalCode !== null) return res();
            const timer = setTimeout(() => {
              proc.kill('SIGKILL');
              res();
            }, 20_000);
            proc.once('exit', () => {
              clearTimeout(timer);
              res();
            });
            if (proc.connected) proc.send({ type: 'stop' } satisfies ToBank);
            else proc.kill('SIGTERM');
          }),
      ),
    );
  }
}

/** Stage times of the transfers of the latency runs, from the banks' traces. */
function profile(m: Mesh, traces: BankTrace[], recs: readonly Sent[]) {
  const hexes = m.banks.map((b) => b.hex);
  // Per bank: commits sorted by first index; per (bank, other bank): heads and appends by size.
  const commitsOf = traces.map((t) => [...t.commits].sort((x, y) => x[0] - y[0]));
  const bySource = (rows: Array<[string, number, number]>) => {
    const out = new Map<string, Array<[number, number]>>();
    for (const [h, size, t] of rows) {
      const l = out.get(h) ?? [];
      l.push([size, t]);
      out.set(h, l);
    }
    for (const l of out.values()) l.sort((x, y) => x[0] - y[0]);
    return out;
  };
  const heads = traces.map((t) => bySource(t.heads));
  const appends = traces.map((t) => bySource(t.appends));
  const credits = traces.map((t) => new Map(t.credits.map(([h, i, at]) => [`${h}/${i}`, at])));
  /** time of the first row whose size is > index */
  const firstAbove = (rows: Array<[number, number]> | undefined, index: number): number | undefined => {
    if (!rows) return undefined;
    let lo = 0;
    let hi = rows.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (rows[mid]![0] > index) hi = mid;
      else lo = mid + 1;
    }
    // Sizes only grow, but a later row may be earlier in time (a head recorded out of order): take the earliest.
    let best: number | undefined;
    for (let i = lo; i < rows.length && i < lo + 8; i++) best = best === undefined ? rows[i]![1] : Math.min(best, rows[i]![1]);
    return best;
  };
  const commitOf = (a: number, index: number): number | undefined => {
    const rows = commitsOf[a]!;
    let lo = 0;
    let hi = rows.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const [first, count, t] = rows[mid]!;
      if (index < first) hi = mid - 1;
      else if (index >= first + count) lo = mid + 1;
      else return t;
    }
    return undefined;
  };
  const pushes = traces.map((t) => new Map(t.pushes.map(([h, index, at]) => [`${h}/${index}`, at] as const)));
  const stages = {
    queue: [] as number[],
    commitA: [] as number[],
    ackA: [] as number[],
    pushB: [] as number[],
    creditB: [] as number[],
    streamB: [] as number[],
    settledA: [] as number[],
    headB: [] as number[],
    replicaB: [] as number[],
  };
  let pushed = 0;
  let viaReplica = 0;
  for (const r of recs) {
    if (r.credited === undefined) continue;
    const commitA = commitOf(r.a, r.index);
    const creditB = credits[r.b]!.get(`${hexes[r.a]}/${r.index}`);
    if (commitA === undefined || creditB === undefined) continue;
    const pushB = pushes[r.b]!.get(`${hexes[r.a]}/${r.index}`);
    const headB = firstAbove(heads[r.b]!.get(hexes[r.a]!), r.index);
    const appendB = firstAbove(appends[r.b]!.get(hexes[r.a]!), r.index);
    stages.queue.push(r.sent - r.due);
    stages.commitA.push(commitA - r.sent);
    stages.ackA.push(r.acked - r.sent);
    if (pushB !== undefined && pushB <= creditB) {
      pushed++;
      stages.pushB.push(pushB - commitA);
      stages.creditB.push(creditB - pushB);
    } else viaReplica++;
    stages.streamB.push(r.credited - creditB);
    if (r.settled !== undefined) stages.settledA.push(r.settled - r.credited);
    if (headB !== undefined) stages.headB.push(headB - commitA);
    if (appendB !== undefined) stages.replicaB.push(appendB - commitA);
  }
  for (const l of Object.values(stages)) l.sort((x, y) => x - y);
  return { stages, pushed, viaReplica };
}

/** Commits, heads and chunks per second over [start, end] at every bank, from the traces. */
function activity(traces: BankTrace[], start: number, end: number) {
  const secs = (end - start) / 1000;
  const within = (t: number) => t >= start && t <= end;
  let commits = 0;
  let entries = 0;
  let heads = 0;
  let appends = 0;
  let served = 0;
  for (const t of traces) {
    for (const at of t.served) if (within(at)) served++;
    for (const [, count, at] of t.commits) if (within(at)) (commits++, (entries += count));
    for (const [, , at] of t.heads) if (within(at)) heads++;
    for (const [, , at] of t.appends) if (within(at)) appends++;
  }
  return { commits: commits / secs, entriesPerCommit: entries / Math.max(1, commits), heads: heads / secs, appends: appends / secs, served: served / secs };
}

/** Messages of warning level or worse in the banks' logs, with how often each came. */
function warningsIn(files: readonly string[]): Array<[string, number]> {
  const count = new Map<string, number>();
  for (const f of files) {
    let text = '';
    try {
      text = readFileSync(f, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        const r = JSON.parse(line) as { level?: number; msg?: string };
        if ((r.level ?? 0) >= 40) count.set(r.msg ?? '?', (count.get(r.msg ?? '?') ?? 0) + 1);
      } catch {
        // not a log record
      }
    }
  }
  return [...count.entries()].sort((x, y) => y[1] - x[1]);
}

const ms = (x: number) => `${x.toFixed(1)} ms`;

export const interbankBenchmark: Benchmark = {
  name: 'interbank',
  description: 'interbank transfers in a loopback mesh: latency from submit at A to credit at B at a fixed rate, and the maximum sustained rate',
  async run(ctx: BenchContext) {
    const base = ctx.quick ? QUICK : FULL;
    const sizes = withOverrides(base);
    // The latency targets are for the standard mesh and load; other sizes are reported without them.
    const targeted = sizes.banks === base.banks && sizes.rate === base.rate;
    // The ceiling first, on a quiet machine: the single-bank durable apply rate (apply.ts).
    const { summary: apply } = await measureApply(ctx);
    ctx.log(`durable apply, same run: ${fmtSummary(apply, '/s')}`);

    const root = ctx.tempDir('interbank');
    const m = new Mesh(sizes);
    const rows: Array<{ metric: string; value: string; target?: string; met?: boolean }> = [];
    const load0 = loadavg()[0]!;
    try {
      const t0 = Date.now();
      await m.start(root);
      ctx.log(`${sizes.banks} banks started in ${sizes.processes} processes in ${Date.now() - t0} ms`);
      await m.waitForAgreement(120_000);
      ctx.log(`federation agreement in force at every bank after ${Date.now() - t0} ms`);
      await m.fund();
      await m.follow();
      ctx.log(`${sizes.payers} funded payers at each bank after ${Date.now() - t0} ms`);

      // What the banks spend with nothing to do (gossip heartbeats, pings), once replication
      // of the funding has settled.
      await sleep(sizes.floorMs);
      const idle0 = m.cpu();
      await m.profile('start', 'idle');
      await sleep(sizes.floorMs);
      const idleCpu = (m.cpu() - idle0) / (sizes.floorMs / 1000);
      await m.profile('stop', 'idle');

      // The pipeline's own latency: a low rate, after a short warm-up at it.
      await m.openLoop(sizes.floorRate, sizes.floorMs / 2, 'floor warm-up');
      await m.drain(DRAIN_MS);
      const floorCpu0 = m.cpu();
      await m.profile('start', 'floor');
      const floorWindow = await m.openLoop(sizes.floorRate, sizes.floorMs, 'floor');
      const floorCpu = (m.cpu() - floorCpu0) / (sizes.floorMs / 1000);
      await m.profile('stop', 'floor');
      await m.drain(DRAIN_MS);
      const floorRecs = [...m.records.values()].filter((x) => x.phase === 'floor');
      const floorLat = floorRecs.filter((x) => x.credited !== undefined).map((x) => x.credited! - x.sent).sort((x, y) => x - y);
      ctx.log(`floor, ${sizes.floorRate}/s: ${floorWindow.count} transfers, p50 ${ms(percentile(floorLat, 0.5))}, p99 ${ms(percentile(floorLat, 0.99))}; banks' CPU idle ${(idleCpu * 100).toFixed(0)} %, at ${sizes.floorRate}/s ${(floorCpu * 100).toFixed(0)} % of one core`);

      // Latency at a fixed offered load: a warm-up, then the runs, each drained before the next.
      const runs: Array<{ p50: number; p99: number; sentRate: number; creditRate: number; lost: number; recs: Sent[]; start: number; end: number; cpu: number; ownCpu: number }> = [];
      m.presign((sizes.rate * (sizes.warmUpMs + ctx.runs * sizes.runMs)) / 1000);
      for (let r = 0; r <= ctx.runs; r++) {
        const phase = r === 0 ? 'warm-up' : `run ${r}`;
        const cpu0 = m.cpu();
        const own0 = m.ownCpu();
        const credited0 = m.credited;
        if (r === 1) await m.profile('start', 'rate');
        const w = await m.openLoop(sizes.rate, r === 0 ? sizes.warmUpMs : sizes.runMs, phase);
        if (r === ctx.runs) await m.profile('stop', 'rate');
        const creditedInWindow = m.credited - credited0;
        const cpu = (m.cpu() - cpu0) / ((w.end - w.start) / 1000);
        const ownCpu = (m.ownCpu() - own0) / ((w.end - w.start) / 1000);
        await m.drain(DRAIN_MS);
        if (r === 0) {
          ctx.log(`warm-up: ${w.count} transfers`);
          continue;
        }
        const recs = [...m.records.values()].filter((x) => x.phase === phase);
        const done = recs.filter((x) => x.credited !== undefined);
        const lat = done.map((x) => x.credited! - x.sent).sort((x, y) => x - y);
        const creditTimes = done.map((x) => x.credited!).sort((x, y) => x - y);
        // The rate at which the run's transfers were credited: from its first credit to its last,
        // plus one interval (as from the first send to the last at the offered rate).
        const creditSpan = creditTimes.length > 1 ? (creditTimes[creditTimes.length - 1]! - creditTimes[0]!) / 1000 + 1 / sizes.rate : Infinity;
        const run = {
          p50: percentile(lat, 0.5),
          p99: percentile(lat, 0.99),
          sentRate: w.count / ((w.end - w.start) / 1000),
          creditRate: done.length / creditSpan,
          creditedInWindow: creditedInWindow / ((w.end - w.start) / 1000),
          lost: w.count - lat.length,
          recs,
          start: w.start,
          end: w.end,
          cpu,
          ownCpu,
        };
        runs.push(run);
        ctx.log(
          `${phase}: offered ${sizes.rate}/s, sent ${fmt(run.sentRate)}/s, credited ${fmt(run.creditRate)}/s (first to last credit; ${fmt(run.creditedInWindow)}/s within the run) ` +
            `p50 ${ms(run.p50)}, p99 ${ms(run.p99)}; ${run.lost} not credited; banks' CPU ${(run.cpu * 100).toFixed(0)} % of one core, load generator's ${(run.ownCpu * 100).toFixed(0)} %`,
        );
      }
      if (m.refused.size > 0) throw new Error(`transfers refused: ${JSON.stringify(Object.fromEntries(m.refused))}`);

      // Maximum sustained rate: closed loop with a bounded number of transfers not yet credited.
      m.presign((sizes.window * 4 * (sizes.maxWarmUpMs + ctx.runs * sizes.maxRunMs)) / 1000 / 2);
      const maxRates: number[] = [];
      const maxLat: number[] = [];
      const maxPhases: string[] = [];
      for (let r = 0; r <= ctx.runs; r++) {
        const phase = r === 0 ? 'max warm-up' : `max run ${r}`;
        const cpu0 = m.cpu();
        const w = await m.closedLoop(sizes.window, r === 0 ? sizes.maxWarmUpMs : sizes.maxRunMs, phase);
        const rate = w.credited / ((w.end - w.start) / 1000);
        const cpu = (m.cpu() - cpu0) / ((w.end - w.start) / 1000);
        if (r === 0) {
          ctx.log(`max warm-up: ${fmt(rate)} credited/s`);
          continue;
        }
        maxRates.push(rate);
        maxPhases.push(phase);
        ctx.log(`${phase}: ${fmt(rate)} credited/s with ${sizes.window} in flight; banks' CPU ${(cpu * 100).toFixed(0)} % of one core`);
      }
      await m.drain(DRAIN_MS);
      for (const phase of maxPhases) {
        const lat = [...m.records.values()].filter((x) => x.phase === phase && x.credited !== undefined).map((x) => x.credited! - x.sent).sort((x, y) => x - y);
        maxLat.push(percentile(lat, 0.5));
      }
      if (m.refused.size > 0) throw new Error(`transfers refused: ${JSON.stringify(Object.fromEntries(m.refused))}`);
      const unsettled = await m.drainSettled(DRAIN_MS);
      ctx.log(`${m.records.size} transfers answered, ${unsettled} not settled at the payer bank ${DRAIN_MS / 1000} s after the last credit`);
      if (m.rejectedCredits > 0) throw new Error(`${m.rejectedCredits} interbank transfers were rejected by the payee bank`);

      // Where the time goes, from the banks' own timestamps.
      const traces = await m.traces();
      const recs = runs.flatMap((r) => r.recs);
      const { stages: st, pushed, viaReplica } = profile(m, traces, recs);
      const { stages: floor } = profile(m, traces, floorRecs);
      ctx.log(`profile at ${sizes.floorRate}/s over ${floor.commitA.length} transfers:`);
      for (const [k, l] of Object.entries(floor)) ctx.log(`  ${k}: p50 ${ms(percentile(l, 0.5))}, p90 ${ms(percentile(l, 0.9))}, p99 ${ms(percentile(l, 0.99))}`);
      const act = activity(traces, runs[0]!.start, runs[runs.length - 1]!.end);
      const loops: Array<[number, number, number]> = traces.map((t) => t.eventLoop ?? [NaN, NaN, NaN]);
      const loop = `p50 ${fmt(Math.max(...loops.map((l) => l[0])))} ms, p99 ${fmt(Math.max(...loops.map((l) => l[1])))} ms, max ${fmt(Math.max(...loops.map((l) => l[2])))} ms`;
      ctx.log(`banks' event-loop delay over the whole run, worst bank: ${loop}`);
      const stageRow = (name: string, l: number[]) => ({ metric: `stage: ${name}, p50 / p99`, value: `${ms(percentile(l, 0.5))} / ${ms(percentile(l, 0.99))}` });
      ctx.log(`profile over ${st.commitA.length} transfers (${pushed} credited from a push, ${viaReplica} from the replica):`);
      for (const [k, l] of Object.entries(st)) ctx.log(`  ${k}: p50 ${ms(percentile(l, 0.5))}, p90 ${ms(percentile(l, 0.9))}, p99 ${ms(percentile(l, 0.99))}`);
      ctx.log(
        `mesh activity, all banks: ${fmt(act.commits)} commits/s (${act.entriesPerCommit.toFixed(1)} entries each), ` +
          `${fmt(act.heads)} new heads recorded/s, ${fmt(act.appends)} replica chunks stored/s, ${fmt(act.served)} sync requests answered from replicas/s`,
      );

      const p50 = summarize(runs.map((r) => r.p50));
      const p99 = summarize(runs.map((r) => r.p99));
      const sent = summarize(runs.map((r) => r.sentRate));
      const credited = summarize(runs.map((r) => r.creditRate));
      const lost = runs.reduce((s, r) => s + r.lost, 0);
      const cpu = summarize(runs.map((r) => r.cpu));
      const max: Summary = summarize(maxRates);
      const ratio = max.median / apply.median;
      const label = `${sizes.banks} banks${sizes.processes === sizes.banks ? '' : ` in ${sizes.processes} processes`}, ${sizes.rate}/s offered`;
      rows.push(
        { metric: `latency submit at A to credit on B's event stream, p50 (${label}; from the POST's send)`, value: fmtSummary(p50, ' ms'), ...(targeted ? { target: `<= ${TARGET_P50_MS} ms`, met: p50.median <= TARGET_P50_MS } : {}) },
        { metric: `latency, p99 (${label})`, value: fmtSummary(p99, ' ms'), ...(targeted ? { target: `<= ${TARGET_P99_MS} ms`, met: p99.median <= TARGET_P99_MS } : {}) },
        { metric: `offered ${sizes.rate}/s: sent`, value: fmtSummary(sent, '/s') },
        { metric: `offered ${sizes.rate}/s: credited at the payee banks (first to last credit of a run)`, value: fmtSummary(credited, '/s') },
        { metric: 'achieved / offered', value: (credited.median / sizes.rate).toFixed(2) },
        { metric: `transfers not credited within ${DRAIN_MS / 1000} s`, value: String(lost), target: '0', met: lost === 0 },
        { metric: 'mesh activity at the offered rate, all banks', value: `${fmt(act.commits)} commits/s of ${act.entriesPerCommit.toFixed(1)} entries, ${fmt(act.heads)} heads recorded/s, ${fmt(act.appends)} replica chunks/s, ${fmt(act.served)} sync requests answered from replicas/s` },
        { metric: `transfers of the whole run not settled at the payer bank ${DRAIN_MS / 1000} s after the last credit`, value: `${unsettled} of ${m.records.size}`, target: '0', met: unsettled === 0 },
        { metric: "banks' event-loop delay over the whole run, worst bank", value: loop },
        {
          metric: `banks' CPU idle / at ${sizes.floorRate}/s / at ${sizes.rate}/s (${availableParallelism()} cores)`,
          value: `${(idleCpu * 100).toFixed(0)} / ${(floorCpu * 100).toFixed(0)} / ${(cpu.median * 100).toFixed(0)} % of one core`,
        },
        { metric: `load generator's CPU at ${sizes.rate}/s (this process: requests and event streams, on the same cores)`, value: `${(summarize(runs.map((r) => r.ownCpu)).median * 100).toFixed(0)} % of one core` },
        {
          metric: `at ${sizes.floorRate}/s: latency p50 / p99, and p50 of the stages below (commit at A, push at B, credit, stream)`,
          value:
            `${ms(percentile(floorLat, 0.5))} / ${ms(percentile(floorLat, 0.99))}; ` +
            [floor.commitA, floor.pushB, floor.creditB, floor.streamB].map((l) => percentile(l, 0.5).toFixed(1)).join(', ') +
            ' ms',
        },
        stageRow('queued in the load generator', st.queue),
        stageRow('POST sent to commit at A', st.commitA),
        stageRow('POST sent to its answer', st.ackA),
        { metric: 'transfers credited from a push / from the replica', value: `${pushed} / ${viaReplica}` },
        stageRow("A's commit to its push verified at B", st.pushB),
        stageRow('push at B to the credit committed at B (clearing, group commit)', st.creditB),
        stageRow("credit committed at B to the client's event stream", st.streamB),
        stageRow('credit seen at B to settled at A', st.settledA),
        stageRow("A's commit to a head of it recorded at B (push or gossip; off the critical path)", st.headB),
        stageRow("A's commit to the entry in B's replica (replication; off the critical path)", st.replicaB),
        { metric: `maximum sustained interbank transfers (${sizes.window} in flight)`, value: fmtSummary(max, '/s') },
        { metric: 'latency p50 at the maximum rate', value: fmtSummary(summarize(maxLat), ' ms') },
        { metric: 'single-bank durable apply, same run', value: fmtSummary(apply, '/s') },
        { metric: 'maximum interbank / durable apply', value: ratio.toFixed(3) },
        { metric: 'machine load average (1 min) at the start and the end', value: `${load0.toFixed(1)}, ${loadavg()[0]!.toFixed(1)}` },
      );
    } finally {
      await m.stop();
      await Promise.allSettled([...m.inFlight]);
      const warnings = warningsIn(m.banks.map((b) => b.logFile));
      for (const [msg, n] of warnings) ctx.log(`banks logged ${n} x (warning or worse): ${msg}`);
    }
    return { name: 'interbank', rows };
  },
};
