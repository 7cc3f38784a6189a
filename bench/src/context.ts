import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** What every benchmark gets: its size mode, repetitions, and a place for temporary data. */
export interface BenchContext {
  readonly quick: boolean;
  /** measured repetitions after one warm-up */
  readonly runs: number;
  tempDir(label: string): string;
  /** figures one benchmark measured that another compares with, in the same run */
  readonly memo: Map<string, unknown>;
  log(line: string): void;
}

/** One benchmark's figures: each with the ceiling it is compared with, and the ratio. */
export interface BenchResult {
  readonly name: string;
  readonly rows: ReadonlyArray<{ readonly metric: string; readonly value: string; readonly target?: string; readonly met?: boolean }>;
}

export interface Benchmark {
  readonly name: string;
  readonly description: string;
  run(ctx: BenchContext): Promise<BenchResult>;
}

export function makeContext(quick: boolean): BenchContext & { cleanup(): void } {
  const dirs: string[] = [];
  return {
    quick,
    runs: quick ? 1 : 3,
    memo: new Map(),
    tempDir(label) {
      const d = mkdtempSync(join(tmpdir(), `mutual-bench-${label}-`));
      dirs.push(d);
      return d;
    },
    log(line) {
      process.stderr.write(`  ${line}\n`);
    },
    cleanup() {
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    },
  };
}
