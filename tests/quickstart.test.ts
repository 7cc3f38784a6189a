// Runs the README's quickstart exactly as written: the node block with `npm start`, the CLI
// block with bash, from a folder inside the repository (where `npx mutual` resolves), with
// only the data directory, the RPC port and the home folder moved to temporary places.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');

function block(name: string): string {
  const m = new RegExp(`<!-- quickstart:${name} -->\\s*\`\`\`sh\\n([\\s\\S]*?)\`\`\``).exec(readme);
  if (!m) throw new Error(`README has no quickstart:${name} block`);
  return m[1]!;
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => res(port));
    });
    srv.on('error', rej);
  });
}

mkdirSync(join(root, '.tmp'), { recursive: true });
const work = mkdtempSync(join(root, '.tmp', 'quickstart-'));
let env: NodeJS.ProcessEnv;
let node: ChildProcess;
let nodeLog = '';

beforeAll(async () => {
  const port = await freePort();
  env = { ...process.env, MUTUAL_DATA: join(work, 'data'), MUTUAL_RPC: `127.0.0.1:${port}`, MUTUAL_HOME: join(work, 'home'), MUTUAL_LISTEN: '/ip4/127.0.0.1/tcp/0', MUTUAL_LOG_LEVEL: 'info' };
  const command = block('node').trim();
  expect(command).toBe('npm start');
  node = spawn('bash', ['-c', command], { cwd: work, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  node.stdout!.on('data', (c: Buffer) => (nodeLog += c.toString()));
  node.stderr!.on('data', (c: Buffer) => (nodeLog += c.toString()));
  const deadline = Date.now() + 60_000;
  for (;;) {
    const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > deadline || node.exitCode !== null) throw new Error(`the node did not become ready:\n${nodeLog}`);
    await new Promise((r) => setTimeout(r, 200));
  }
});

afterAll(async () => {
  if (node && node.exitCode === null) {
    const exited = new Promise((r) => node.once('exit', r));
    process.kill(-node.pid!, 'SIGTERM');
    await exited;
  }
  rmSync(work, { recursive: true, force: true });
});

describe('the README quickstart', () => {
  it('runs as written, and its balances and checks come out as it says', async () => {
    const script = `set -euo pipefail\n${block('cli')}`;
    const { code, out, err } = await new Promise<{ code: number | null; out: string; err: string }>((res) => {
      const p = spawn('bash', ['-c', script], { cwd: work, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let o = '';
      let e = '';
      p.stdout.on('data', (c: Buffer) => (o += c.toString()));
      p.stderr.on('data', (c: Buffer) => (e += c.toString()));
      p.on('exit', (c) => res({ code: c, out: o, err: e }));
    });
    expect(code, `stdout:\n${out}\nstderr:\n${err}`).toBe(0);
    expect(out).toMatch(/opened cooperative account macct1/);
    // balances as the README states them
    const balances = [...out.matchAll(/│ balance\s+│ ([0-9.]+)/g)].map((m) => m[1]);
    expect(balances).toEqual(['5.5', '13.75']);
    expect(out).toMatch(/7 h unpleasant x 1\.5|7\.5 h unpleasant x 1\.5/);
    expect(out).toMatch(/│ \+2\.5 .*bread/);
    expect(out).toMatch(/^ok: entry 7 \(transfer\) is in the log of mbank1\w+ signed at size 8$/m);
    expect(out).toMatch(/^audit of mbank1\w+: OK$/m);
    expect(out).toMatch(/notes issued 19\.25, retired 0, 3 accounts/);
  });
});
