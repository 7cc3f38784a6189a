// An Io for running the CLI in-process: captured output, a chosen environment and fetch.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FetchFn } from '@mutual/client';
import { run, type Io } from '../src/index.ts';

export interface Captured {
  readonly io: Io;
  readonly stdout: () => string;
  readonly stderr: () => string;
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'mutual-cli-'));
}

export function captureIo(o: { fetch?: FetchFn; env?: Record<string, string>; cwd?: string; home?: string; now?: number; loadNode?: Io['loadNode'] } = {}): Captured {
  let out = '';
  let err = '';
  const cwd = o.cwd ?? tempDir();
  const io: Io = {
    stdout: (t) => {
      out += t;
    },
    stderr: (t) => {
      err += t;
    },
    env: o.env ?? {},
    cwd,
    home: o.home ?? cwd,
    stderrIsTTY: false,
    now: () => o.now ?? Date.UTC(2026, 10, 25, 12),
    loadNode: o.loadNode ?? (() => Promise.reject(new Error('no daemon in this test'))),
    ...(o.fetch ? { fetch: o.fetch } : {}),
  };
  return { io, stdout: () => out, stderr: () => err };
}

/** Runs `mutual args…` with a fresh capture; returns the exit status and the output. */
export async function mutual(args: string[], o: Parameters<typeof captureIo>[0] = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const c = captureIo(o);
  const code = await run(args, c.io);
  return { code, stdout: c.stdout(), stderr: c.stderr() };
}
