// `mutual demo` for real, as a child process: three bank daemons on loopback found their
// federation, pay within and across banks, settle and reconcile; then the same against two
// running daemons (--connect), whose agreement was made through their admin routes.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { bankDirs, killAll, startMeshDaemon, waitFor, type MeshDaemon } from './support/mesh-daemon.ts';

const BIN = join(import.meta.dirname, '..', 'packages', 'cli', 'bin', 'mutual.js');
const DEMO_DEADLINE_MS = 170_000;

let demo: ChildProcess | undefined;
let tmp: string | undefined;

afterEach(() => {
  // The demo runs in its own process group with its daemons: end them all however the test ended.
  if (demo?.pid && demo.exitCode === null && demo.signalCode === null) {
    try {
      process.kill(-demo.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  demo = undefined;
});

afterAll(async () => {
  await killAll();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** Runs `mutual …args` and resolves with its exit code and output, killing it past the deadline. */
function mutual(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  demo = p;
  let stdout = '';
  let stderr = '';
  p.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  p.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => {
    const timer = setTimeout(() => process.kill(-p.pid!, 'SIGKILL'), DEMO_DEADLINE_MS);
    p.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The cells of the table row whose first cell is `first`. */
function row(text: string, first: string): string[] | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`│ ${first} `));
  return line?.split('│').slice(1, -1).map((c) => c.trim());
}

describe('mutual demo', () => {
  it('runs three banks on this machine, settles every interbank transfer, reconciles every pair, stops and cleans up', async () => {
    const r = await mutual(['demo', '--timeout', '120']);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stderr).toContain('agreement in force: Alder, Birch, Cedar');
    expect(r.stdout).toContain('reconciliation of 3 banks, as Alder holds their logs: OK');
    // Pairs in the order of the banks: this bank first, then the others by key.
    for (const [x, y] of [
      ['Alder', 'Birch'],
      ['Alder', 'Cedar'],
      ['Birch', 'Cedar'],
    ]) {
      expect((row(r.stdout, `${x} – ${y}`) ?? row(r.stdout, `${y} – ${x}`))?.[1]).toBe('matched');
    }
    for (const bank of ['Alder', 'Birch', 'Cedar']) {
      expect(r.stdout).toContain(`${bank}: reconciliation OK`);
      // The row of the banks table (bank, entries, net, balances, issued, retired, conservation).
      expect(r.stdout).toMatch(new RegExp(`│ ${bank} +│ \\d+ +│ 0 +│ 16 +│ 16 +│ 0 +│ holds +│`));
    }
    expect(r.stdout).toContain('federation: net positions sum to 0, in flight 0 (0 items): balanced');
    // Member 2 of every bank: 8 worked + 1.5 at home + 2.5 from the previous bank (Alder's refund included).
    expect(r.stdout.split('\n').filter((l) => /│ member 2 +│ 12 +│/.test(l))).toHaveLength(3);
    const stopped = /stopped the 3 nodes \(exit codes 0, 0, 0\) and removed (\S+)/.exec(r.stderr);
    expect(stopped, r.stderr).not.toBeNull();
    expect(existsSync(stopped![1]!)).toBe(false);
  }, DEMO_DEADLINE_MS + 10_000);

  it('--connect: the same against running nodes whose agreement is in force; --json prints balances and the reconciliation', async () => {
    tmp = mkdtempSync(join(tmpdir(), 'mutual-demo-connect-'));
    const a = await startMeshDaemon({ ...bankDirs(tmp, 'a'), name: 'Alder', bioregion: 'test' });
    const b = await startMeshDaemon({ ...bankDirs(tmp, 'b'), name: 'Birch', bioregion: 'test', bootstrap: a.listen });
    const call = async (d: MeshDaemon, method: string, path: string, body?: unknown) => {
      const res = await fetch(`${d.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${d.token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
      return (await res.json()) as Record<string, unknown>;
    };
    for (const [x, y] of [
      [a, b],
      [b, a],
    ] as const) {
      await waitFor(`${x.bank} hears ${y.bank} on the agreements topic`, async () =>
        ((await call(x, 'GET', '/v1/peers')).peers as Array<{ bank?: string; gossip: string[] }>).some((p) => p.bank === y.bank && p.gossip.includes('agreements')),
      );
    }
    const { id } = (await call(a, 'POST', '/v1/agreements', { members: [a.bank, b.bank], clearingLimit: '100' })) as { id: string };
    await waitFor('b sees the proposal', async () => ((await call(b, 'GET', '/v1/agreements')).agreements as Array<{ id: string }>).some((x) => x.id === id));
    await call(b, 'POST', `/v1/agreements/${id}/sign`);

    const token = (d: MeshDaemon, key: string) => `${d.url}=${join(bankDirs(tmp!, key).data, 'admin.token')}`;
    const r = await mutual(['demo', '--json', '--timeout', '60', '--connect', token(a, 'a'), '--connect', token(b, 'b')]);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    const out = JSON.parse(r.stdout) as {
      balances: Array<{ bank: string; label: string; balance: string }>;
      reconciliation: { ok: boolean; pairs: Array<{ state: string; net: string[] }> };
      reconciledBy: Array<{ ok: boolean }>;
    };
    expect(out.reconciliation.ok).toBe(true);
    expect(out.reconciliation.pairs).toEqual([expect.objectContaining({ state: 'matched', net: ['0', '0'] })]);
    expect(out.reconciledBy).toEqual([expect.objectContaining({ ok: true }), expect.objectContaining({ ok: true })]);
    expect(out.balances.map((x) => [x.bank, x.label, x.balance])).toEqual([
      ['Alder', 'cooperative', '0'],
      ['Alder', 'member 1', '4'],
      ['Alder', 'member 2', '12'],
      ['Birch', 'cooperative', '0'],
      ['Birch', 'member 1', '4'],
      ['Birch', 'member 2', '12'],
    ]);
    // The nodes are not the demo's: they still run.
    expect(a.proc.exitCode).toBeNull();
    expect(b.proc.exitCode).toBeNull();
  }, DEMO_DEADLINE_MS + 60_000);

  it('--connect names at least two banks', async () => {
    const r = await mutual(['demo', '--connect', 'http://127.0.0.1:1=nowhere']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('at least 2');
  });
});
