import { describe, expect, it } from 'vitest';
import { missingV8Flags, NODE_V8_FLAGS } from '../src/heap-flags.ts';

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
