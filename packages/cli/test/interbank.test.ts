import type { InterbankTransfer } from '@mutual/client';
import { formatAccountId } from '@mutual/codec';
import { describe, expect, it } from 'vitest';
import { mutual } from './io.ts';

const PENDING: InterbankTransfer = {
  index: 12,
  state: 'pending',
  payer: 'macct1payer',
  payeeBank: 'mbank1payee',
  payee: 'macct1payee',
  amount: '2.5',
};
const SETTLED: InterbankTransfer = { ...PENDING, state: 'settled', credit: { bank: 'mbank1payee', index: 40, leafHash: 'ab'.repeat(32) } };
const REFUNDED: InterbankTransfer = { ...PENDING, state: 'refunded', refundIndex: 15 };

/** A node answering GET /v1/interbank/12 with each body in turn (the last one again), and the list. */
function node(...bodies: InterbankTransfer[]) {
  let n = 0;
  const paths: string[] = [];
  const fetch = async (url: string) => {
    const u = new URL(url);
    paths.push(`${u.pathname}${u.search}`);
    if (u.pathname === '/v1/interbank/12') return Response.json(bodies[Math.min(n++, bodies.length - 1)]);
    if (u.pathname === '/v1/interbank') return Response.json({ transfers: bodies });
    return Response.json({ error: { code: 'NOT_FOUND', message: u.pathname } }, { status: 404 });
  };
  return { fetch, paths };
}

describe('mutual interbank', () => {
  it('show: the state of one transfer, in words', async () => {
    const r = await mutual(['interbank', 'show', '12'], { fetch: node(SETTLED).fetch });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('entry 12: 2.5 notes to macct1payee at mbank1payee');
    expect(r.stdout).toContain("settled: credited by the payee's bank (its log entry 40)");
  });

  it('show --wait: polls while pending, then exits 0 when settled', async () => {
    const n = node(PENDING, PENDING, SETTLED);
    const r = await mutual(['interbank', 'show', '12', '--wait', '10', '--json'], { fetch: n.fetch });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(SETTLED);
    expect(n.paths.filter((p) => p === '/v1/interbank/12').length).toBe(3);
  });

  it('show --wait: a refund is an answer too', async () => {
    const r = await mutual(['interbank', 'show', '12', '--wait', '10'], { fetch: node(PENDING, REFUNDED).fetch });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("refunded: the payee's bank rejected it; the payer got 2.5 notes back (log entry 15)");
  });

  it('show --wait: still pending when the wait ends is exit 1, STILL_PENDING', async () => {
    const r = await mutual(['interbank', 'show', '12', '--wait', '0.2', '--json'], { fetch: node(PENDING).fetch });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stderr).error.code).toBe('STILL_PENDING');
  });

  it('list: a table, filtered by state through the query', async () => {
    const n = node(PENDING, SETTLED);
    const r = await mutual(['interbank', 'list', '--state', 'pending', '--limit', '5'], { fetch: n.fetch });
    expect(r.code).toBe(0);
    expect(n.paths).toEqual(['/v1/interbank?state=pending&limit=5']);
    expect(r.stdout).toContain('macct1payee');
  });

  // The transfer's key file does not exist: --wait must be refused before it is read.
  it.each<[string[], string]>([
    [['interbank', 'show', '12', '--wait', 'soon'], '--wait'],
    [['interbank', 'show', 'twelve'], 'entry'],
    [['interbank', 'list', '--state', 'lost'], '--state'],
    [['interbank', 'list', '--limit', '0'], '--limit'],
    [['transfer', '2.5', '--key', 'nowhere.key', '--to', formatAccountId(new Uint8Array(20)), '--wait', '-1'], '--wait'],
    [['transfer', '2.5', '--key', 'nowhere.key', '--to', formatAccountId(new Uint8Array(20)), '--wait', 'soon'], '--wait'],
  ])('a bad argument is a usage error before any request: %j', async (args, named) => {
    const n = node(PENDING);
    const r = await mutual(args, { fetch: n.fetch });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(named);
    expect(n.paths).toEqual([]);
  });
});
