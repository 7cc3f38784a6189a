// The `mutual` CLI against a real daemon: a node started as a child process on a free port,
// found by the CLI through the discovery file it writes (admin token included), used the way
// a cooperative's bookkeeper would, then verified and audited from the outside.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { run, type Io } from '@mutual/cli';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
const START_DEADLINE_MS = 30_000;

let child: ChildProcess;
let rpc: string;
let home: string;
let cwd: string;

/** Starts the daemon and resolves with its RPC URL from its "bank node started" log line. */
function startNode(data: string): Promise<string> {
  child = spawn(process.execPath, [join(ROOT, 'node/src/main.ts'), '--data', data, '--rpc', '127.0.0.1:0', '--listen', '/ip4/127.0.0.1/tcp/0'], {
    env: { ...process.env, MUTUAL_HOME: home },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the node did not start in time')), START_DEADLINE_MS);
    child.once('exit', (code) => reject(new Error(`the node exited with ${code} before starting`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const rec = JSON.parse(line) as { rpc?: unknown };
        if (typeof rec.rpc === 'string') {
          clearTimeout(timer);
          resolve(rec.rpc);
        }
      } catch {
        // not a JSON log line
      }
    });
  });
}

async function mutual(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: Io = {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    // MUTUAL_RPC, not --rpc: the node is found on its port, and its token through discovery.
    env: { MUTUAL_HOME: home, MUTUAL_RPC: rpc },
    cwd,
    home,
    stderrIsTTY: false,
    now: Date.now,
    loadNode: () => Promise.reject(new Error('not in this test')),
  };
  const code = await run(args, io);
  return { code, stdout, stderr };
}

async function ok(...args: string[]): Promise<unknown> {
  const r = await mutual(...args, '--json');
  expect(r.stderr, args.join(' ')).toBe('');
  expect(r.code, args.join(' ')).toBe(0);
  return JSON.parse(r.stdout);
}

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mutual-cli-e2e-'));
  home = join(dir, 'home');
  cwd = join(dir, 'cwd');
  mkdirSync(cwd);
  rpc = await startNode(join(dir, 'data'));
});

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
});

describe('mutual against a running node', () => {
  it('opens accounts, records labor, transfers, and verifies and audits the log', async () => {
    for (const name of ['coop', 'alice', 'bob']) await ok('keygen', '--out', `${name}.key`);
    await ok('account', 'open', '--key', 'coop.key', '--kind', 'cooperative', '--label', 'Bakery');
    const alice = (await ok('account', 'open', '--key', 'alice.key', '--kind', 'member')) as { account: string };
    const bob = (await ok('account', 'open', '--key', 'bob.key', '--kind', 'member')) as { account: string };

    const labor = await ok('labor', 'record', '--key', 'coop.key', '--worker', alice.account, '--hours', '7.5', '--category', 'standard');
    expect(labor).toMatchObject({ code: 'APPLIED', amount: '7.5' });
    expect(await ok('transfer', '2.5', '--key', 'alice.key', '--to', bob.account, '--memo', 'bread')).toMatchObject({ code: 'APPLIED', amount: '2.5' });
    expect(await ok('balance', '--key', 'alice.key')).toMatchObject({ account: alice.account, balance: '5', nextSequence: '2' });

    const broke = await mutual('transfer', '100', '--key', 'bob.key', '--to', alice.account);
    expect(broke.code).toBe(3);
    expect(broke.stderr).toMatch(/^error: INSUFFICIENT_FUNDS: /);

    const history = (await ok('history', bob.account)) as { entries: Array<{ kind: string; amount?: string }> };
    expect(history.entries.map((e) => [e.kind, e.amount])).toEqual([['transfer', '2.5'], ['account-opened', undefined]]);

    const status = (await ok('status')) as { log: { size: number }; bank: { id: string } };
    const first = (await ok('verify', '--entry', '1', '--bank', status.bank.id)) as { head: { size: number } };
    expect(first.head.size).toBe(status.log.size);
    await ok('transfer', '1', '--key', 'alice.key', '--to', bob.account);
    expect(await ok('verify', '--from', String(status.log.size))).toMatchObject({ from: { size: status.log.size }, previousSize: status.log.size });
    const audit = await ok('audit', '--bank', status.bank.id, '--threads', '1');
    expect(audit).toMatchObject({ ok: true, entries: status.log.size + 1, problems: [] });
  });

  it('exits 5 once the node is gone', async () => {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
    const r = await mutual('status');
    expect(r.code).toBe(5);
    expect(r.stderr).toContain(`error: NODE_UNREACHABLE: cannot reach the node at ${rpc}`);
  });
});
