import { describe, expect, it } from 'vitest';
import { missingV8Flags, NODE_V8_FLAGS, RESTARTED_ENV, restartArgs } from '../src/heap-flags.ts';

describe('missingV8Flags', () => {
  it('names every flag when none is given', () => {
    expect(missingV8Flags([], '')).toEqual([...NODE_V8_FLAGS]);
    expect(missingV8Flags(['--expose-gc', '--max-old-space-size=512'], '--trace-warnings')).toEqual([...NODE_V8_FLAGS]);
  });

  it('names none when all are given, in any order, with any value or spelling', () => {
    expect(missingV8Flags([...NODE_V8_FLAGS], '')).toEqual([]);
    expect(missingV8Flags(['--heap_growing_percent=50', '--max-semi-space-size=32'], '')).toEqual([]);
  });

  it('counts flags given in NODE_OPTIONS', () => {
    expect(missingV8Flags(['--heap-growing-percent=20'], '  --max-semi-space-size=8  --trace-warnings')).toEqual([]);
  });

  it('does not take a flag for another whose name it begins', () => {
    expect(missingV8Flags(['--max-semi-space-size-extra=1', '--heap-growing-percent'], '')).toEqual(['--max-semi-space-size=8']);
  });
});

describe('restartArgs', () => {
  const argv = ['/usr/bin/node', '/app/node/src/main.ts', '--data', 'd'];

  it('runs the same script and arguments with the missing flags after the process\'s own options', () => {
    expect(restartArgs(['--trace-warnings'], argv, {})).toEqual(['--trace-warnings', ...NODE_V8_FLAGS, '/app/node/src/main.ts', '--data', 'd']);
    expect(restartArgs(['--max-semi-space-size=4'], argv, {})).toEqual(['--max-semi-space-size=4', '--heap-growing-percent=20', '/app/node/src/main.ts', '--data', 'd']);
  });

  it('is undefined when nothing is missing, also by NODE_OPTIONS', () => {
    expect(restartArgs([...NODE_V8_FLAGS], argv, {})).toBeUndefined();
    expect(restartArgs(['--heap-growing-percent=30'], argv, { NODE_OPTIONS: '--max-semi-space-size=16' })).toBeUndefined();
  });

  it('is undefined in a process that is already a restart, so that it never loops', () => {
    expect(restartArgs([], argv, { [RESTARTED_ENV]: '1' })).toBeUndefined();
  });

  it('is undefined when asked for help only', () => {
    expect(restartArgs([], ['/usr/bin/node', '/app/node/src/main.ts', '--help'], {})).toBeUndefined();
    expect(restartArgs([], ['/usr/bin/node', '/app/packages/cli/bin/mutual.js', 'node', '-h'], {})).toBeUndefined();
  });

  it('is undefined without a script file to run again', () => {
    expect(restartArgs([], ['/usr/bin/node'], {})).toBeUndefined();
    expect(restartArgs(['-e', 'main()'], ['/usr/bin/node'], {})).toBeUndefined();
    expect(restartArgs(['--eval', 'main()'], ['/usr/bin/node', 'x'], {})).toBeUndefined();
  });
});
