// The node's root logger: JSON lines, secrets redacted, to stdout or to the destination asked for.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('createLogger', () => {
  it('appends JSON lines to a file given as the destination, secrets redacted', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mutual-logger-'));
    dirs.push(dir);
    const file = join(dir, 'bank.log');
    writeFileSync(file, 'earlier line\n');
    const log = createLogger({ level: 'info', pretty: false, destination: file });
    log.info({ token: 'secret-token', bank: 'b1' }, 'started');
    log.debug('below the level');
    const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
    expect(lines[0]).toBe('earlier line');
    expect(lines).toHaveLength(2);
    const line = JSON.parse(lines[1]!) as Record<string, unknown>;
    expect(line).toMatchObject({ msg: 'started', bank: 'b1', token: '[redacted]', level: 30, pid: process.pid });
  });
});
