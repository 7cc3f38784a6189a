// A daemon with a mesh, started as a child process, with what its startup log line says:
// its bank, RPC URL and mesh listen addresses. Every child is tracked so that a test can kill
// all of them in afterEach however it ended.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { NODE_V8_FLAGS } from '../../node/src/heap-flags.ts';

const MAIN = resolve(import.meta.dirname, '..', '..', 'node', 'src', 'main.ts');
/** The `mutual` command; `[CLI, 'node']` as {@link MeshDaemonOptions.entry} starts the daemon by `mutual node`. */
export const CLI = resolve(import.meta.dirname, '..', '..', 'packages', 'cli', 'bin', 'mutual.js');
const START_DEADLINE_MS = 30_000;
const STOP_DEADLINE_MS = 15_000;

/** Children still running, killed by {@link killAll}. */
const running = new Set<ChildProcess>();

export interface MeshDaemon {
  readonly proc: ChildProcess;
  /** `mbank1…` */
  readonly bank: string;
  readonly url: string;
  /** Mesh listen multiaddrs, each ending in /p2p/<peer ID>. */
  readonly listen: readonly string[];
  readonly peerId: string;
  readonly token: string;
  /** stdout and stderr so far (JSON log lines). */
  output(): string;
}

export interface MeshDaemonOptions {
  readonly data: string;
  readonly home: string;
  readonly name: string;
  readonly bioregion: string;
  readonly bootstrap?: readonly string[];
  /** more command-line options */
  readonly args?: readonly string[];
  /** Node.js flags before the script; NODE_V8_FLAGS, as the project's own launchers pass */
  readonly v8Flags?: readonly string[];
  /** the script and its first arguments: node/src/main.ts by default */
  readonly entry?: readonly string[];
  /** more environment variables */
  readonly env?: Readonly<Record<string, string>>;
}

/** Starts `node node/src/main.ts` (or `entry`) and waits for its 'bank node started' line. */
export async function startMeshDaemon(o: MeshDaemonOptions): Promise<MeshDaemon> {
  const args = ['--data', o.data, '--rpc', '127.0.0.1:0', '--listen', '/ip4/127.0.0.1/tcp/0', '--name', o.name, '--bioregion', o.bioregion];
  for (const b of o.bootstrap ?? []) args.push('--bootstrap', b);
  args.push(...(o.args ?? []));
  const proc = spawn(process.execPath, [...(o.v8Flags ?? NODE_V8_FLAGS), ...(o.entry ?? [MAIN]), ...args], {
    env: { ...process.env, MUTUAL_HOME: o.home, MUTUAL_LOG_LEVEL: 'info', ...o.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(proc);
  proc.once('exit', () => running.delete(proc));
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const deadline = Date.now() + START_DEADLINE_MS;
  for (;;) {
    const started = logLines(out).find((r) => r.msg === 'bank node started');
    if (started) {
      const listen = started.listen as string[];
      return {
        proc,
        bank: started.bank as string,
        url: started.rpc as string,
        listen,
        peerId: listen[0]!.split('/p2p/')[1]!,
        token: readFileSync(join(o.data, 'admin.token'), 'utf8').trim(),
        output: () => out,
      };
    }
    if (proc.exitCode !== null) throw new Error(`the daemon exited (${proc.exitCode}) before starting:\n${out}`);
    if (Date.now() > deadline) throw new Error(`the daemon did not start within ${START_DEADLINE_MS} ms:\n${out}`);
    await sleep(50);
  }
}

/** The JSON log records in `text`, other lines skipped. */
export function logLines(text: string): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // a line still being written
    }
  }
  return out;
}

/** SIGTERM, then waits for the exit; rejects past the deadline. */
export function stopMeshDaemon(d: MeshDaemon): Promise<number | null> {
  if (d.proc.exitCode !== null || d.proc.signalCode !== null) return Promise.resolve(d.proc.exitCode);
  return new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`daemon ${d.proc.pid} did not stop within ${STOP_DEADLINE_MS} ms`)), STOP_DEADLINE_MS);
    d.proc.once('exit', (code) => {
      clearTimeout(timer);
      res(code);
    });
    d.proc.kill('SIGTERM');
  });
}

/** SIGKILLs every child still running and waits for their exits. */
export async function killAll(): Promise<void> {
  const procs = [...running];
  await Promise.all(
    procs.map(
      (p) =>
        new Promise<void>((res) => {
          if (p.exitCode !== null || p.signalCode !== null) return res();
          p.once('exit', () => res());
          p.kill('SIGKILL');
        }),
    ),
  );
}

/** Polls `cond` every 150 ms until it holds; throws with `what` past the deadline. */
export async function waitFor<T>(what: string, cond: () => Promise<T | undefined | false>, deadlineMs = 20_000): Promise<T> {
  const end = Date.now() + deadlineMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await cond();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await sleep(150);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The data and home folders of bank `name` under `root`. */
export function bankDirs(root: string, name: string): { data: string; home: string } {
  return { data: join(root, name, 'data'), home: join(root, name, 'home') };
}

/** Options under which the three banks of a test bioregion found a federation by themselves (and so replicate each other). */
export const FEDERATE = ['--found-federation', '3'] as const;

/** The banks of one test bioregion: Alder, Birch and Cedar, each later one bootstrapped to the earlier ones. */
export const BIOREGION_BANKS = [
  { key: 'a', name: 'Alder' },
  { key: 'b', name: 'Birch' },
  { key: 'c', name: 'Cedar' },
] as const;

/**
 * Starts the three banks of {@link BIOREGION_BANKS} in `root`, bioregion `test`; with
 * `args` (e.g. FEDERATE), each with these options.
 */
export async function startBioregion(root: string, args: readonly string[] = []): Promise<Record<'a' | 'b' | 'c', MeshDaemon>> {
  const started: MeshDaemon[] = [];
  for (const { key, name } of BIOREGION_BANKS) {
    started.push(await startMeshDaemon({ ...bankDirs(root, key), name, bioregion: 'test', bootstrap: started.flatMap((d) => d.listen), args }));
  }
  return { a: started[0]!, b: started[1]!, c: started[2]! };
}

/**
 * Sets variables of this process's environment, which the daemons it starts inherit; returns
 * what puts back the values they had (unset where they were unset).
 */
export function setDaemonEnv(vars: Record<string, string>): () => void {
  const before = Object.keys(vars).map((k) => [k, process.env[k]] as const);
  Object.assign(process.env, vars);
  return () => {
    for (const [k, v] of before) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}

/** Waits until a federation agreement is in force at every daemon of `ds` (`GET /v1/agreements`), each within `deadlineMs`. */
export async function waitFederated(ds: readonly MeshDaemon[], deadlineMs = 30_000): Promise<void> {
  for (const d of ds) {
    await waitFor(
      `an agreement in force at ${d.bank}`,
      async () => {
        const r = await fetch(`${d.url}/v1/agreements`, { headers: { authorization: `Bearer ${d.token}` } });
        if (r.status !== 200) return undefined;
        const body = (await r.json()) as { agreements: Array<{ inForce: boolean }> };
        return body.agreements.some((x) => x.inForce) || undefined;
      },
      deadlineMs,
    );
  }
}
