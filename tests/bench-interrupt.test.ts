// An interrupted benchmark run removes its temporary data (bench/src/main.ts), even when the
// signal arrives while LevelDB is still creating a database off the main thread.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');
let tmp: string | undefined;
afterEach(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** The benchmarks' own directories, inside the run's directory in `dir`. */
function benchDirs(dir: string): string[] {
  return readdirSync(dir)
    .filter((d) => d.startsWith('mutual-bench-'))
    .flatMap((run) => {
      const path = join(dir, run);
      return existsSync(path) ? readdirSync(path).map((d) => join(run, d)) : [];
    });
}

const cases = [
  { signal: 'SIGTERM', when: 'as its first database is made', afterMs: 0 },
  { signal: 'SIGINT', when: 'as its first database is made', afterMs: 0 },
  { signal: 'SIGINT', when: 'a second into its first benchmark', afterMs: 1000 },
] as const;

describe('npm run bench', () => {
  for (const { signal, when, afterMs } of cases) {
    it(`removes its temporary data when stopped by ${signal} ${when}`, async () => {
      tmp = mkdtempSync(join(tmpdir(), 'mutual-bench-interrupt-'));
      // Its own TMPDIR, so that the benchmark's directories are the only ones in it.
      const child = spawn(process.execPath, [join(root, 'bench/src/main.ts'), 'apply', '--quick'], { cwd: root, env: { ...process.env, TMPDIR: tmp }, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
      const deadline = Date.now() + 60_000;
      while (benchDirs(tmp).length === 0) {
        if (Date.now() > deadline) throw new Error(`no temporary directory within 60 s: ${stderr}`);
        await new Promise((r) => setTimeout(r, 2));
      }
      if (afterMs > 0) await new Promise((r) => setTimeout(r, afterMs));
      child.kill(signal);
      expect(await exited).toBe(signal === 'SIGINT' ? 130 : 143);
      expect(stderr).toContain(`${signal}: removing the benchmarks' temporary data`);
      expect(readdirSync(tmp)).toEqual([]);
    }, 90_000);
  }
});
