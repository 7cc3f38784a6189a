import type { Reconciliation, ReconciliationBank, ReconciliationPair } from '@mutual/client';
import { describe, expect, it } from 'vitest';
import { mutual } from './io.ts';

const conservation = { ok: true, replayed: 9, balances: '18', issued: '20', retired: '0', sent: '5', refunded: '0', received: '3', net: '-2', problem: null };
const BANKS: ReconciliationBank[] = [
  { bank: 'mbank1aaaaaaaaaaaaaaa', name: 'Alder', self: true, replicated: 9, net: '-2', positions: [{ bank: 'mbank1bbbbbbbbbbbbbbb', sent: '5', refunded: '0', received: '3', net: '-2' }], conservation, problems: [] },
  {
    bank: 'mbank1bbbbbbbbbbbbbbb',
    name: 'Birch',
    self: false,
    replicated: 7,
    net: '2',
    positions: [{ bank: 'mbank1aaaaaaaaaaaaaaa', sent: '3', refunded: '0', received: '5', net: '2' }],
    conservation: { ...conservation, replayed: 7, balances: '22', sent: '3', received: '5', net: '2' },
    problems: [],
  },
];
const MATCHED: ReconciliationPair = { banks: ['mbank1aaaaaaaaaaaaaaa', 'mbank1bbbbbbbbbbbbbbb'], state: 'matched', net: ['-2', '2'], inFlight: [], inFlightCount: 0, problems: [], problemCount: 0 };
const OK: Reconciliation = { ok: true, self: 'mbank1aaaaaaaaaaaaaaa', banks: BANKS, pairs: [MATCHED], federation: { ok: true, positionsSum: '0', inFlight: '0', inFlightCount: 0, problems: [] } };
const IN_FLIGHT: Reconciliation = {
  ...OK,
  ok: false,
  pairs: [{ ...MATCHED, state: 'in-flight', net: ['-4.5', '2'], inFlight: [{ kind: 'unanswered', entry: { bank: 'mbank1aaaaaaaaaaaaaaa', index: 12 }, amount: '2.5', pending: '2.5' }], inFlightCount: 1 }],
  federation: { ok: true, positionsSum: '-2.5', inFlight: '2.5', inFlightCount: 1, problems: [] },
};
const MISMATCHED: Reconciliation = {
  ...OK,
  ok: false,
  pairs: [
    {
      ...MATCHED,
      state: 'mismatched',
      problems: [{ kind: 'amount-differs', message: 'the credit … is of 3000 milli-notes; … sent 2500', entries: [{ bank: 'mbank1aaaaaaaaaaaaaaa', index: 12 }, { bank: 'mbank1bbbbbbbbbbbbbbb', index: 8 }] }],
      problemCount: 1,
    },
  ],
  federation: { ok: false, positionsSum: '0.5', inFlight: '0', inFlightCount: 0, problems: ['… 0.5 unaccounted for'] },
};

/** A node answering GET /v1/reconciliation with each body in turn (the last one again). */
function node(...bodies: Reconciliation[]) {
  let n = 0;
  const fetch = async (url: string) => {
    const path = new URL(url).pathname;
    if (path !== '/v1/reconciliation') return Response.json({ error: { code: 'NOT_FOUND', message: path } }, { status: 404 });
    return Response.json(bodies[Math.min(n++, bodies.length - 1)]);
  };
  return { fetch, calls: () => n };
}

function row(table: string, first: string): string[] | undefined {
  const line = table.split('\n').find((l) => l.startsWith(`│ ${first} `));
  return line?.split('│').slice(1, -1).map((c) => c.trim());
}

describe('mutual reconcile', () => {
  it('every pair matched: a table of pairs and banks, exit 0', async () => {
    const r = await mutual(['reconcile'], { fetch: node(OK).fetch });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('reconciliation of 2 banks, as Alder holds their logs: OK');
    expect(row(r.stdout, 'pair')).toEqual(['pair', 'state', 'net of first', 'net of second', 'in flight', 'problems']);
    expect(row(r.stdout, 'Alder – Birch')).toEqual(['Alder – Birch', 'matched', '-2', '2', '0', '0']);
    expect(row(r.stdout, 'Birch')).toEqual(['Birch', '7', '2', '22', '20', '0', 'holds']);
    expect(r.stdout).toContain('federation: net positions sum to 0, in flight 0 (0 items): balanced');
  });

  it('--json prints the response as is', async () => {
    const r = await mutual(['reconcile', '--json'], { fetch: node(OK).fetch });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(OK);
  });

  it('transfers in flight: listed, exit 1 with NOT_RECONCILED', async () => {
    const r = await mutual(['reconcile'], { fetch: node(IN_FLIGHT).fetch });
    expect(r.code).toBe(1);
    expect(row(r.stdout, 'Alder – Birch')).toEqual(['Alder – Birch', 'in-flight', '-4.5', '2', '1', '0']);
    expect(r.stdout).toContain('in flight: Alder – Birch: unanswered Alder#12 (2.5)');
    expect(r.stderr).toMatch(/^error: NOT_RECONCILED: 1 interbank transfer item is still in flight/);
    const j = await mutual(['reconcile', '--json'], { fetch: node(IN_FLIGHT).fetch });
    expect(j.code).toBe(1);
    expect(JSON.parse(j.stdout)).toEqual(IN_FLIGHT);
    expect(JSON.parse(j.stderr).error.code).toBe('NOT_RECONCILED');
  });

  it('a mismatch: the problem and its entries, exit 4 with VERIFICATION_FAILED', async () => {
    const r = await mutual(['reconcile'], { fetch: node(MISMATCHED).fetch });
    expect(r.code).toBe(4);
    expect(r.stdout).toContain('problem: Alder – Birch: amount-differs: the credit … is of 3000 milli-notes; … sent 2500 [Alder#12, Birch#8]');
    expect(r.stdout).toContain('problem: federation: … 0.5 unaccounted for');
    expect(r.stderr).toMatch(/^error: VERIFICATION_FAILED: /);
  });

  it('--wait polls until every pair matches', async () => {
    const n = node(IN_FLIGHT, IN_FLIGHT, OK);
    const r = await mutual(['reconcile', '--wait', '30'], { fetch: n.fetch });
    expect(r.code).toBe(0);
    expect(n.calls()).toBe(3);
    expect(r.stdout).toContain(': OK');
  });
});
