// An interrupted benchmark run removes its temporary data (bench/src/main.ts).
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');
let tmp: string | undefined;
afterEach(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('npm run bench', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`removes its temporary data when stopped by ${signal}`, async () => {
      tmp = mkdtempSync(join(tmpdir(), 'mutual-bench-interrupt-'));
      // Its own TMPDIR, so that the benchmark's directories are the only ones in it.
      const child = spawn(process.execPath, [join(root, 'bench/src/main.ts'), 'apply', '--quick'], { cwd: root, env: { ...process.env, TMPDIR: tmp }, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
      const deadline = Date.now() + 60_000;
      while (readdirSync(tmp).filter((d) => d.startsWith('mutual-bench-')).length === 0) {
        if (Date.now() > deadline) throw new Error(`no temporary directory within 60 s: ${stderr}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      child.kill(signal);
      expect(await exited).toBe(signal === 'SIGINT' ? 130 : 143);
      expect(stderr).toContain(`${signal}: removing the benchmarks' temporary data`);
      expect(readdirSync(tmp).filter((d) => d.startsWith('mutual-bench-'))).toEqual([]);
    }, 90_000);
  }
});
