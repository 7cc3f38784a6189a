// The V8 flags that bound a node's heap (node/src/heap-flags.ts): every launcher the project
// ships passes them, a daemon started without them restarts itself with them, and one that
// cannot says so in its log.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { NODE_V8_FLAGS, RESTARTED_ENV } from '../node/src/heap-flags.ts';
import { bankDirs, CLI, killAll, logLines, startMeshDaemon, stopMeshDaemon } from './support/mesh-daemon.ts';

/** The V8 heap flags the process `pid` runs with, from its command line. */
function nodeFlags(pid: number): string[] {
  const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  return argv.filter((a) => /^--(max-semi-space-size|heap-growing-percent)/.test(a));
}

const ROOT = resolve(import.meta.dirname, '..');
/** The test runner's own NODE_OPTIONS might name a flag. */
const NO_OPTIONS = { NODE_OPTIONS: '' };
const RESTARTED = 'restarted with the V8 flags that bound the heap under load';
const MISSING = 'started without the V8 flags that bound the heap under load: it may grow to about twice the size (docs/LIMITS.md)';

describe('the launchers', () => {
  it('npm start passes the flags to node', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.start).toBe(`node scripts/check-node.ts && node ${NODE_V8_FLAGS.join(' ')} node/src/main.ts`);
  });

  it("the image's CMD passes the flags to node", () => {
    const cmd = readFileSync(join(ROOT, 'Dockerfile'), 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('CMD '))
      .at(-1);
    expect(JSON.parse(cmd!.slice('CMD '.length))).toEqual(['node', ...NODE_V8_FLAGS, '/app/node/src/main.ts']);
  });
});

// The V8 flags a process runs with are read from /proc.
describe.runIf(process.platform === 'linux')('a daemon', () => {
  const root = mkdtempSync(join(tmpdir(), 'mutual-heap-flags-'));
  afterEach(killAll);
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('started with the flags logs nothing about them', async () => {
    const d = await startMeshDaemon({ ...bankDirs(root, 'with'), name: 'With Flags', bioregion: 'Testland' });
    expect(await stopMeshDaemon(d)).toBe(0);
    expect(logLines(d.output()).filter((r) => r.msg === MISSING || r.msg === RESTARTED)).toEqual([]);
  });

  it('started without them restarts itself with them, keeping its PID, and runs', async () => {
    const d = await startMeshDaemon({ ...bankDirs(root, 'without'), name: 'Without Flags', bioregion: 'Testland', v8Flags: [], env: NO_OPTIONS });
    expect(nodeFlags(d.proc.pid!)).toEqual([...NODE_V8_FLAGS]);
    expect(await stopMeshDaemon(d)).toBe(0);
    const lines = logLines(d.output());
    expect(lines.filter((r) => r.msg === MISSING)).toEqual([]);
    const restarted = lines.filter((r) => r.msg === RESTARTED);
    expect(restarted).toHaveLength(1);
    expect(restarted[0]!.pid).toBe(d.proc.pid);
    expect(new Set(lines.map((r) => r.pid))).toEqual(new Set([d.proc.pid]));
  });

  it('started by `mutual node` without them does the same', async () => {
    const d = await startMeshDaemon({ ...bankDirs(root, 'cli'), name: 'By The CLI', bioregion: 'Testland', v8Flags: [], entry: [CLI, 'node'], env: NO_OPTIONS });
    expect(nodeFlags(d.proc.pid!)).toEqual([...NODE_V8_FLAGS]);
    const res = await fetch(`${d.url}/v1/status`);
    expect(res.status).toBe(200);
    expect(await stopMeshDaemon(d)).toBe(0);
    expect(logLines(d.output()).filter((r) => r.msg === RESTARTED)).toHaveLength(1);
  });

  it('given one flag with another value keeps it and adds the other', async () => {
    const d = await startMeshDaemon({ ...bankDirs(root, 'other'), name: 'Other Flags', bioregion: 'Testland', v8Flags: ['--max-semi-space-size=4'], env: NO_OPTIONS });
    expect(nodeFlags(d.proc.pid!)).toEqual(['--max-semi-space-size=4', '--heap-growing-percent=20']);
    expect(await stopMeshDaemon(d)).toBe(0);
    expect(logLines(d.output()).filter((r) => r.msg === MISSING)).toEqual([]);
  });

  it('that cannot restart (already restarted once) names the missing ones at info level, and runs', async () => {
    const d = await startMeshDaemon({ ...bankDirs(root, 'once'), name: 'Restarted Once', bioregion: 'Testland', v8Flags: [], env: { ...NO_OPTIONS, [RESTARTED_ENV]: '1' } });
    expect(nodeFlags(d.proc.pid!)).toEqual([]);
    expect(await stopMeshDaemon(d)).toBe(0);
    const said = logLines(d.output()).filter((r) => r.msg === MISSING);
    expect(said).toHaveLength(1);
    expect(said[0]!.missing).toEqual([...NODE_V8_FLAGS]);
    expect(said[0]!.level).toBe(30);
  });
});
