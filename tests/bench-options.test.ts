// The interbank benchmark's size overrides (bench/src/interbank.ts): read strictly, and only
// the banks, the offered rate and the processes the banks run in change.
import { describe, expect, it } from 'vitest';
import { withOverrides } from '../bench/src/interbank.ts';

const base = { banks: 10, processes: 10, payers: 100, rate: 500, warmUpMs: 30_000, runMs: 10_000, window: 2000, maxWarmUpMs: 5000, maxRunMs: 10_000, floorRate: 20, floorMs: 5000 };

describe('interbank benchmark overrides', () => {
  it('keeps the standard sizes when nothing is set', () => {
    expect(withOverrides(base, {})).toEqual(base);
    expect(withOverrides(base, { MUTUAL_BENCH_INTERBANK_BANKS: '', MUTUAL_BENCH_INTERBANK_RATE: '' })).toEqual(base);
  });

  it('changes the number of banks and the offered rate', () => {
    expect(withOverrides(base, { MUTUAL_BENCH_INTERBANK_BANKS: '2', MUTUAL_BENCH_INTERBANK_RATE: '250' })).toEqual({ ...base, banks: 2, processes: 2, rate: 250 });
  });

  it('runs the banks in fewer processes, one each unless asked', () => {
    expect(withOverrides(base, { MUTUAL_BENCH_INTERBANK_PROCESSES: '2' })).toEqual({ ...base, processes: 2 });
    expect(withOverrides(base, { MUTUAL_BENCH_INTERBANK_BANKS: '4', MUTUAL_BENCH_INTERBANK_PROCESSES: '1' })).toEqual({ ...base, banks: 4, processes: 1 });
    expect(() => withOverrides(base, { MUTUAL_BENCH_INTERBANK_BANKS: '4', MUTUAL_BENCH_INTERBANK_PROCESSES: '5' })).toThrow('MUTUAL_BENCH_INTERBANK_PROCESSES');
  });

  it.each([
    ['MUTUAL_BENCH_INTERBANK_BANKS', '1'],
    ['MUTUAL_BENCH_INTERBANK_BANKS', '31'],
    ['MUTUAL_BENCH_INTERBANK_BANKS', '2.5'],
    ['MUTUAL_BENCH_INTERBANK_BANKS', 'ten'],
    ['MUTUAL_BENCH_INTERBANK_RATE', '0'],
    ['MUTUAL_BENCH_INTERBANK_RATE', '-5'],
    ['MUTUAL_BENCH_INTERBANK_RATE', '1e9'],
    ['MUTUAL_BENCH_INTERBANK_PROCESSES', '0'],
    ['MUTUAL_BENCH_INTERBANK_PROCESSES', '11'],
  ])('refuses %s=%s, naming the variable', (name, value) => {
    expect(() => withOverrides(base, { [name]: value })).toThrow(name);
  });
});
