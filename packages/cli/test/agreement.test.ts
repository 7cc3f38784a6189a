import type { AgreementView } from '@mutual/client';
import { describe, expect, it } from 'vitest';
import { mutual } from './io.ts';

const ID = 'ab'.repeat(32);
const A = 'mbank1qurswpc8qurswpc8qurswpc8qurswpc8qurswpc8qurswpc8qurs8cdr87';
const AGREEMENT: AgreementView = {
  id: ID,
  bioregion: 'Cascadia',
  members: [
    { bank: 'mbank1aaa', name: 'Alder', signed: true },
    { bank: 'mbank1bbb', name: 'Birch', signed: false },
  ],
  rates: [{ category: 'standard', rate: '1' }],
  clearingLimit: '1000',
  previous: null,
  createdMs: 1,
  complete: false,
  adopted: false,
  inForce: false,
};

/** A node answering the agreement routes, recording each request. */
function node() {
  const calls: Array<{ method: string; path: string; body?: unknown; auth: string | null }> = [];
  const fetch = async (url: string, init?: RequestInit) => {
    const path = new URL(url).pathname;
    const method = init?.method ?? 'GET';
    const auth = new Headers(init?.headers).get('authorization');
    calls.push({ method, path, ...(init?.body ? { body: JSON.parse(String(init.body)) } : {}), auth });
    if (method === 'GET' && path === '/v1/agreements') return Response.json({ agreements: [AGREEMENT] });
    if (method === 'POST' && path === '/v1/agreements') return Response.json({ id: ID, agreement: AGREEMENT }, { status: 201 });
    if (method === 'POST' && path === `/v1/agreements/${ID}/sign`) return Response.json({ id: ID, agreement: { ...AGREEMENT, complete: true, adopted: true, inForce: true } });
    return Response.json({ error: { code: 'NOT_FOUND', message: path } }, { status: 404 });
  };
  return { fetch, calls };
}

describe('mutual agreement', () => {
  it('propose sends members, clearing limit and rates with the admin token', async () => {
    const n = node();
    const r = await mutual(['agreement', 'propose', '--member', A, '--clearing-limit', '1000', '--rate', 'standard=1', '--rate', 'care=1.25', '--token', 't0k'], { fetch: n.fetch });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`proposed agreement ${ID} (1 of 2 members signed)\n`);
    expect(n.calls).toEqual([
      { method: 'POST', path: '/v1/agreements', auth: 'Bearer t0k', body: { members: [A], clearingLimit: '1000', rates: [{ category: 'standard', rate: '1' }, { category: 'care', rate: '1.25' }] } },
    ]);
  });

  it('propose refuses a malformed --rate or --member before asking the node', async () => {
    const n = node();
    const bad = await mutual(['agreement', 'propose', '--member', A, '--clearing-limit', '1', '--rate', 'standard', '--token', 't'], { fetch: n.fetch });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--rate takes category=rate/);
    const typo = await mutual(['agreement', 'propose', '--member', 'mbank1oops', '--clearing-limit', '1', '--token', 't'], { fetch: n.fetch });
    expect(typo.code).toBe(2);
    expect(n.calls).toEqual([]);
  });

  it('propose refuses a bad --clearing-limit, --rate or --amends as a usage error, before asking the node', async () => {
    const n = node();
    const propose = (...args: string[]) => mutual(['agreement', 'propose', '--member', A, '--token', 't', ...args], { fetch: n.fetch });
    const cases: Array<[string[], RegExp]> = [
      [['--clearing-limit', 'lots'], /^error: INVALID_AMOUNT: --clearing-limit: /],
      [['--clearing-limit', '-5'], /^error: INVALID_AMOUNT: --clearing-limit: /],
      [['--clearing-limit', '1000', '--rate', 'standard=fast'], /^error: INVALID_AMOUNT: --rate standard: /],
      [['--clearing-limit', '1000', '--rate', 'standard=0'], /^error: INVALID_AMOUNT: --rate standard: /],
      [['--clearing-limit', '1000', '--rate', 'Standard=1'], /^error: AGREEMENT_INVALID: --rate: "Standard" is not a category name/],
      [['--clearing-limit', '1000', '--rate', 'care=1', '--rate', 'care=2'], /^error: AGREEMENT_INVALID: --rate: category "care" appears twice/],
      [['--clearing-limit', '1000', '--rate', 'care=100000'], /^error: AGREEMENT_INVALID: --rate: rate of "care" must be between/],
      [['--clearing-limit', '1000', '--amends', 'nope'], /^error: INVALID_ENCODING: --amends: /],
      [['--clearing-limit', '1000', '--amends', 'ab'.repeat(31)], /^error: INVALID_ENCODING: --amends: /],
    ];
    for (const [args, message] of cases) {
      const r = await propose(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(message);
    }
    expect(n.calls).toEqual([]);
    // Zero is a clearing limit (no credit between members); an ID in upper case is sent as the node writes it.
    const ok = await propose('--clearing-limit', '0', '--amends', ID.toUpperCase());
    expect(ok.code).toBe(0);
    expect(n.calls[0]!.body).toEqual({ members: [A], clearingLimit: '0', amends: ID });
  });

  it('sign refuses an ID that is not 32 bytes of hex as a usage error, and takes upper case', async () => {
    const n = node();
    for (const bad of ['xyz', ID.slice(2), `${ID}00`]) {
      const r = await mutual(['agreement', 'sign', bad, '--token', 't'], { fetch: n.fetch });
      expect(r.code, bad).toBe(2);
      expect(r.stderr).toMatch(/^error: INVALID_ENCODING: agreement ID: /);
    }
    expect(n.calls).toEqual([]);
    const r = await mutual(['agreement', 'sign', ID.toUpperCase(), '--token', 't'], { fetch: n.fetch });
    expect(r.code).toBe(0);
    expect(n.calls.map((c) => c.path)).toEqual([`/v1/agreements/${ID}/sign`]);
  });

  it('sign posts to the agreement and says when it is in force', async () => {
    const n = node();
    const r = await mutual(['agreement', 'sign', ID, '--token', 't'], { fetch: n.fetch });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`signed agreement ${ID} (adopted, in force)\n`);
    expect(n.calls.map((c) => [c.method, c.path])).toEqual([['POST', `/v1/agreements/${ID}/sign`]]);
  });

  it('list: a table, or the route body with --json', async () => {
    const r = await mutual(['agreement', 'list'], { fetch: node().fetch });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(ID.slice(0, 16));
    expect(r.stdout).toContain('Birch (unsigned)');
    expect(r.stdout).toContain('signing');
    const j = await mutual(['agreement', 'list', '--json'], { fetch: node().fetch });
    expect(JSON.parse(j.stdout)).toEqual({ agreements: [AGREEMENT] });
  });
});
