// The daemon as a child process: start, readiness, clean stop, a second node on the same
// data directory, restart with the same bank, and SIGKILL during a stream of transfers.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatAmount as formatMilli, parseBankId } from '@mutual/codec';
import { LedgerStore, verifyStore } from '@mutual/store';
import { signDetached, verify } from '@mutual/verifier';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readBankKey } from '../node/src/index.ts';
import { accountOf, b64, newHolder, signInstruction, TODAY, type Acct } from '../node/test/fixture.ts';

const ROOT = resolve(fileURLToPath(import.meta.url), '../..');
const MAIN = join(ROOT, 'node/src/main.ts');
const START_DEADLINE_MS = 30_000;
const STOP_DEADLINE_MS = 10_000;

let tmp: string;
let data: string;
let home: string;
const running = new Set<ChildProcess>();

beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), 'mutual-lifecycle-'));
  data = join(tmp, 'data');
  home = join(tmp, 'home');
});
afterEach(async () => {
  for (const p of running) p.kill('SIGKILL');
  await Promise.all([...running].map((p) => exited(p, 5000).catch(() => undefined)));
  running.clear();
  rmSync(tmp, { recursive: true, force: true });
});

interface Daemon {
  readonly proc: ChildProcess;
  readonly url: string;
  readonly bank: string;
  readonly output: () => string;
}

/** Resolves with the exit code (or signal) once the process has exited; rejects past the deadline. */
function exited(proc: ChildProcess, ms: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }> {
  const started = Date.now();
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve({ code: proc.exitCode, signal: proc.signalCode, ms: 0 });
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`process ${proc.pid} did not exit within ${ms} ms`)), ms);
    proc.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, ms: Date.now() - started });
    });
  });
}

function spawnNode(args: string[] = []): { proc: ChildProcess; output: () => string } {
  const proc = spawn(process.execPath, [MAIN, '--data', data, '--rpc', '127.0.0.1:0', '--listen', '/ip4/127.0.0.1/tcp/0', '--name', 'Lifecycle Bank', '--bioregion', 'Testland', ...args], {
    env: { ...process.env, MUTUAL_HOME: home, MUTUAL_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(proc);
  proc.once('exit', () => running.delete(proc));
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return { proc, output: () => out };
}

/** Starts a daemon and waits for its startup line (JSON on stdout) with the RPC URL. */
async function startDaemon(args: string[] = []): Promise<Daemon> {
  const { proc, output } = spawnNode(args);
  const deadline = Date.now() + START_DEADLINE_MS;
  for (;;) {
    for (const line of output().split('\n')) {
      if (!line.startsWith('{')) continue;
      const rec = JSON.parse(line) as { msg?: string; rpc?: string; bank?: string };
      if (rec.msg === 'bank node started' && rec.rpc && rec.bank) return { proc, url: rec.rpc, bank: rec.bank, output };
    }
    if (proc.exitCode !== null) throw new Error(`daemon exited (${proc.exitCode}) before starting:\n${output()}`);
    if (Date.now() > deadline) throw new Error(`daemon did not start within ${START_DEADLINE_MS} ms:\n${output()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function stop(d: Daemon): Promise<{ code: number | null; ms: number }> {
  d.proc.kill('SIGTERM');
  return exited(d.proc, STOP_DEADLINE_MS + 2000);
}

async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: any }> {
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: r.status, json: await r.json() };
}

const getJson = async (url: string) => (await fetch(url)).json() as Promise<any>;

describe('the daemon', () => {
  it('starts, is ready, and stops on SIGTERM with exit 0, removing its discovery file', async () => {
    const d = await startDaemon();
    const ready = await fetch(`${d.url}/readyz`);
    expect(ready.status).toBe(200);
    const port = new URL(d.url).port;
    const discovery = join(home, 'run', `${port}.json`);
    expect(JSON.parse(readFileSync(discovery, 'utf8'))).toEqual({ rpc: d.url, data, pid: d.proc.pid });
    const status = await getJson(`${d.url}/v1/status`);
    expect(status.bank).toEqual({ id: d.bank, name: 'Lifecycle Bank', bioregion: 'Testland' });
    // Secrets never reach the log.
    const token = readFileSync(join(data, 'admin.token'), 'utf8');
    const seed = JSON.parse(readFileSync(join(data, 'bank.key'), 'utf8')).seed as string;
    const { code, ms } = await stop(d);
    expect(code).toBe(0);
    expect(ms).toBeLessThan(STOP_DEADLINE_MS);
    expect(existsSync(discovery)).toBe(false);
    expect(d.output()).not.toContain(token);
    expect(d.output()).not.toContain(seed);
  });

  it('stopped by SIGTERM while it starts, finishes starting, then stops cleanly with exit 0', async () => {
    const { proc, output } = spawnNode();
    // The first line of the start: the key is made, the ledger and the mesh are not open yet.
    const deadline = Date.now() + START_DEADLINE_MS;
    while (!output().includes('created a new bank key')) {
      if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`the daemon did not begin to start:\n${output()}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    proc.kill('SIGTERM');
    const { code } = await exited(proc, START_DEADLINE_MS + STOP_DEADLINE_MS);
    expect(code, output()).toBe(0);
    const msgs = output().split('\n').filter((l) => l.startsWith('{')).map((l) => (JSON.parse(l) as { msg: string }).msg);
    expect(msgs.indexOf('shutting down')).toBeGreaterThanOrEqual(0);
    expect(msgs.indexOf('stopped')).toBeGreaterThan(msgs.indexOf('stopping'));
    expect(msgs.indexOf('stopping')).toBeGreaterThan(msgs.indexOf('bank node started'));
    // The ledger was closed, not abandoned: it opens and verifies.
    const keys = readBankKey(join(data, 'bank.key'));
    const store = await LedgerStore.open({ dir: join(data, 'ledger'), bankKey: keys.publicKey, sign: (m) => signDetached(m, keys.secretKey), verify });
    try {
      expect((await verifyStore(store)).ok).toBe(true);
    } finally {
      await store.close();
    }
  });

  it('exits 2 naming the option when the RPC or mesh address is in use', async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const port = (taken.address() as AddressInfo).port;
    try {
      for (const [args, option] of [
        [['--rpc', `127.0.0.1:${port}`], '--rpc'],
        [['--listen', `/ip4/127.0.0.1/tcp/${port}`], '--listen'],
      ] as const) {
        const { proc, output } = spawnNode([...args]);
        const { code } = await exited(proc, START_DEADLINE_MS);
        expect(code, output()).toBe(2);
        expect(output()).toContain(`${option} (MUTUAL_`);
        expect(output()).toMatch(/is in use: another program/);
      }
    } finally {
      taken.close();
    }
  });

  it('refuses to start a second node on the same data directory, quickly and clearly, leaving the first alone', async () => {
    const first = await startDaemon();
    const key = readFileSync(join(data, 'bank.key'));
    const token = readFileSync(join(data, 'admin.token'));
    const second = spawnNode();
    const { code, ms } = await exited(second.proc, 15_000);
    expect(code).not.toBe(0);
    expect(code).toBe(1);
    expect(ms).toBeLessThan(10_000);
    expect(second.output()).toMatch(/data directory .* is in use/);
    expect(readFileSync(join(data, 'bank.key'))).toEqual(key);
    expect(readFileSync(join(data, 'admin.token'))).toEqual(token);
    expect((await fetch(`${first.url}/readyz`)).status).toBe(200);
    expect((await stop(first)).code).toBe(0);
  });

  it('exits 2 with the option named on stderr for a bad option, before touching the data directory', async () => {
    const { proc, output } = spawnNode(['--rpc', 'nowhere']);
    const { code } = await exited(proc, 15_000);
    expect(code).toBe(2);
    expect(output()).toMatch(/--rpc: "nowhere" must be HOST:PORT/);
    expect(output()).not.toMatch(/\n\s+at /); // no stack trace
    expect(existsSync(data)).toBe(false);
  });

  it('keeps the same bank ID across restarts', async () => {
    const a = await startDaemon();
    expect((await stop(a)).code).toBe(0);
    const b = await startDaemon();
    expect(b.bank).toBe(a.bank);
    expect((await getJson(`${b.url}/v1/status`)).log.size).toBe(2);
    expect((await stop(b)).code).toBe(0);
  });
});

describe('SIGKILL during a stream of transfers', () => {
  it('keeps every acknowledged transfer, and balances and sequence numbers follow from them', async () => {
    const d = await startDaemon();
    const token = readFileSync(join(data, 'admin.token'), 'utf8').trim();
    const bankKey = parseBankId(d.bank);
    const admin = { authorization: `Bearer ${token}` };

    const open = async (kind: string): Promise<Acct> => {
      const h = newHolder();
      const r = await post(`${d.url}/v1/accounts`, { publicKey: h.key, kind }, admin);
      expect(r.status).toBe(201);
      return accountOf(bankKey, h);
    };
    const PAYERS = 12;
    const coop = await open('cooperative');
    const payee = await open('member');
    const payers: Acct[] = [];
    for (let i = 0; i < PAYERS; i++) payers.push(await open('member'));
    // 8 notes to each payer.
    const labor = payers.map((p, i) => b64(signInstruction(bankKey, coop, BigInt(i + 1), { labor: { worker: p.id, day: TODAY, milliHours: 8000n, category: 'standard' } })));
    const lr = await post(`${d.url}/v1/labor`, { instructions: labor });
    expect(lr.json.results.every((r: { code: string }) => r.code === 'APPLIED')).toBe(true);
    const START_BALANCE = 8000n;
    // Payer i pays i + 1 milli-notes each time, so that a transfer counted twice or lost shows.
    const amountOf = (i: number) => BigInt(i + 1);

    interface Acked {
      readonly bytes: string;
      readonly entryIndex: number;
    }
    const acked: Acked[] = [];
    const ackedSeq = new Array<bigint>(PAYERS).fill(0n);
    const sentSeq = new Array<bigint>(PAYERS).fill(0n);
    let failures = 0;

    // Two concurrent streams over disjoint payers: each request carries the next transfer of
    // each of its payers, so sequence numbers never race within an account.
    const stream = async (mine: number[]) => {
      const until = Date.now() + 60_000;
      for (let round = 0; round < 2000 && Date.now() < until; round++) {
        const batch = mine.map((i) => {
          const seq = sentSeq[i]! + 1n;
          sentSeq[i] = seq;
          return { i, seq, bytes: b64(signInstruction(bankKey, payers[i]!, seq, { transfer: { payee: payee.id, amount: amountOf(i) } })) };
        });
        let r;
        try {
          r = await post(`${d.url}/v1/transfers`, { instructions: batch.map((b) => b.bytes) });
        } catch {
          failures++;
          return; // the node is gone
        }
        expect(r.status).toBe(200);
        batch.forEach((b, k) => {
          const res = r.json.results[k];
          expect(res.code).toBe('APPLIED');
          acked.push({ bytes: b.bytes, entryIndex: res.entryIndex });
          ackedSeq[b.i] = b.seq;
        });
      }
    };
    const all = Array.from({ length: PAYERS }, (_, i) => i);
    const streams = Promise.all([stream(all.filter((i) => i % 2 === 0)), stream(all.filter((i) => i % 2 === 1))]);

    const enough = Date.now() + 30_000;
    while (acked.length < 300) {
      if (Date.now() > enough) throw new Error(`only ${acked.length} transfers acknowledged in 30 s`);
      await new Promise((r) => setTimeout(r, 5));
    }
    d.proc.kill('SIGKILL');
    const killed = await exited(d.proc, 10_000);
    expect(killed.signal).toBe('SIGKILL');
    await streams;
    expect(failures).toBeGreaterThan(0); // both streams were cut off mid-flight

    const again = await startDaemon();
    expect(again.bank).toBe(d.bank);

    // Every acknowledged transfer is in the log: its bytes are a harmless retry of the same entry.
    for (let k = 0; k < acked.length; k += 500) {
      const chunk = acked.slice(k, k + 500);
      const r = await post(`${again.url}/v1/transfers`, { instructions: chunk.map((a) => a.bytes) });
      expect(r.status).toBe(200);
      chunk.forEach((a, j) => expect(r.json.results[j]).toMatchObject({ code: 'APPLIED', duplicate: true, entryIndex: a.entryIndex }));
    }

    // Each payer's transfers apply in sequence order, all of one amount: the sequence number
    // says how many applied. It is at least the last acknowledged one, and more only by
    // transfers that were written but whose answer the kill cut off (never past what was sent).
    let paid = 0n;
    for (let i = 0; i < PAYERS; i++) {
      const a = await getJson(`${again.url}/v1/accounts/${payers[i]!.account}`);
      const seq = BigInt(a.sequence);
      expect(seq).toBeGreaterThanOrEqual(ackedSeq[i]!);
      expect(seq).toBeLessThanOrEqual(sentSeq[i]!);
      const balance = START_BALANCE - amountOf(i) * seq;
      expect(a.balance).toBe(formatMilli(balance));
      paid += amountOf(i) * seq;
    }
    const p = await getJson(`${again.url}/v1/accounts/${payee.account}`);
    expect(p.balance).toBe(formatMilli(paid));
    expect(p.sequence).toBe('0');
    const status = await getJson(`${again.url}/v1/status`);
    expect(status.totals).toEqual({ issued: formatMilli(START_BALANCE * BigInt(PAYERS)), retired: '0', accounts: PAYERS + 2 });

    const size = status.log.size as number;
    expect((await stop(again)).code).toBe(0);

    // And the ledger on disk replays and verifies from genesis.
    const keys = readBankKey(join(data, 'bank.key'));
    const store = await LedgerStore.open({ dir: join(data, 'ledger'), bankKey: keys.publicKey, sign: (m) => signDetached(m, keys.secretKey), verify });
    try {
      const report = await verifyStore(store);
      expect(report.problems).toEqual([]);
      expect(report.ok).toBe(true);
      expect(report.entries).toBe(size);
    } finally {
      await store.close();
    }
  });
});
