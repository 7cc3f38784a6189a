// The V8 flags that bound a node's heap (node/src/heap-flags.ts): every launcher the project
// ships passes them, and a daemon started without them says so in its log.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { NODE_V8_FLAGS } from '../node/src/heap-flags.ts';
import { bankDirs, killAll, logLines, startMeshDaemon, stopMeshDaemon } from './support/mesh-daemon.ts';

const ROOT = resolve(import.meta.dirname, '..');
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

describe('a daemon', () => {
  const root = mkdtempSync(join(tmpdir(), 'mutual-heap-flags-'));
  afterEach(killAll);
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('started with the flags logs nothing about them', async () => {
    const d = await startMeshDaemon({ ...bankDirs(root, 'with'), name: 'With Flags', bioregion: 'Testland' });
    expect(await stopMeshDaemon(d)).toBe(0);
    expect(logLines(d.output()).filter((r) => r.msg === MISSING)).toEqual([]);
  });

  it('started without them names the missing ones at info level, and runs', async () => {
    const d = await startMeshDaemon({ ...bankDirs(root, 'without'), name: 'Without Flags', bioregion: 'Testland', v8Flags: [] });
    expect(await stopMeshDaemon(d)).toBe(0);
    const said = logLines(d.output()).filter((r) => r.msg === MISSING);
    expect(said).toHaveLength(1);
    expect(said[0]!.missing).toEqual([...NODE_V8_FLAGS]);
    expect(said[0]!.level).toBe(30);
  });

  it('given one flag with another value takes it as given', async () => {
    const d = await startMeshDaemon({ ...bankDirs(root, 'other'), name: 'Other Flags', bioregion: 'Testland', v8Flags: ['--max-semi-space-size=4'] });
    expect(await stopMeshDaemon(d)).toBe(0);
    const said = logLines(d.output()).filter((r) => r.msg === MISSING);
    expect(said.map((r) => r.missing)).toEqual([['--heap-growing-percent=20']]);
  });
});
