import type { BankView, Peer } from '@mutual/client';
import { describe, expect, it } from 'vitest';
import { mutual } from './io.ts';

const HEAD = { bank: 'mbank1bbb', size: 9, root: 'ab'.repeat(32), timeMs: 1, signature: 'c2ln', signed: 'aGVhZA==' };
const BANKS: BankView[] = [
  { id: 'mbank1aaa', name: 'Alder', bioregion: 'Cascadia', self: true, head: { ...HEAD, bank: 'mbank1aaa', size: 4 }, replicated: 4, behind: 0, replicating: true, forked: false },
  { id: 'mbank1bbb', name: 'Birch', bioregion: 'Cascadia', self: false, head: HEAD, replicated: 6, behind: 3, replicating: true, forked: false },
  { id: 'mbank1ccc', name: '', bioregion: '', self: false, head: null, replicated: 0, behind: 0, replicating: false, forked: true, forkProof: 'AQID' },
];
const PEERS: Peer[] = [
  { peerId: '12D3KooWBirch', bank: 'mbank1bbb', name: 'Birch', bioregion: 'Cascadia', addresses: ['/ip4/10.0.0.2/tcp/4001'], latencyMs: 3, gossip: ['heads', 'agreements'] },
  { peerId: '12D3KooWNew', addresses: ['/ip4/10.0.0.3/tcp/4001'], gossip: [] },
];

/** A node answering the two mesh routes (and counting the requests). */
function node(body: { peers?: Peer[]; banks?: BankView[] }) {
  const paths: string[] = [];
  const fetch = async (url: string) => {
    const path = new URL(url).pathname;
    paths.push(path);
    if (path === '/v1/peers' && body.peers) return Response.json({ peers: body.peers });
    if (path === '/v1/banks' && body.banks) return Response.json({ banks: body.banks });
    return Response.json({ error: { code: 'NOT_FOUND', message: path } }, { status: 404 });
  };
  return { fetch, paths };
}

/** The cells of the table row whose first cell is `first`. */
function row(table: string, first: string): string[] | undefined {
  const line = table.split('\n').find((l) => l.startsWith(`│ ${first} `));
  return line?.split('│').slice(1, -1).map((c) => c.trim());
}

describe('mutual banks', () => {
  it('a table for people: id, name, bioregion, self, head size, replicated, behind, forked', async () => {
    const n = node({ banks: BANKS });
    const r = await mutual(['banks'], { fetch: n.fetch });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(n.paths).toEqual(['/v1/banks']);
    expect(row(r.stdout, 'bank')).toEqual(['bank', 'name', 'bioregion', 'self', 'head size', 'replicated', 'behind', 'forked']);
    expect(row(r.stdout, 'mbank1aaa')).toEqual(['mbank1aaa', 'Alder', 'Cascadia', 'yes', '4', '4', '0', '']);
    expect(row(r.stdout, 'mbank1bbb')).toEqual(['mbank1bbb', 'Birch', 'Cascadia', '', '9', '6', '3', '']);
    expect(row(r.stdout, 'mbank1ccc')).toEqual(['mbank1ccc', '', '', '', '-', '-', '-', 'FORKED']);
    expect(r.stdout).toContain('mbank1ccc signed two inconsistent tree heads');
  });

  it('--json: the route body as is', async () => {
    const r = await mutual(['banks', '--json'], { fetch: node({ banks: BANKS }).fetch });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ banks: BANKS });
  });

  it('a refusal exits 1 with the node code', async () => {
    const r = await mutual(['banks'], { fetch: node({}).fetch });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('NOT_FOUND');
  });
});

describe('mutual peers', () => {
  it('a table for people; a peer whose hello is pending says so', async () => {
    const n = node({ peers: PEERS });
    const r = await mutual(['peers'], { fetch: n.fetch });
    expect(r.code).toBe(0);
    expect(n.paths).toEqual(['/v1/peers']);
    expect(row(r.stdout, 'peer')).toEqual(['peer', 'bank', 'name', 'bioregion', 'addresses', 'latency (ms)']);
    expect(row(r.stdout, '12D3KooWBirch')).toEqual(['12D3KooWBirch', 'mbank1bbb', 'Birch', 'Cascadia', '/ip4/10.0.0.2/tcp/4001', '3']);
    expect(row(r.stdout, '12D3KooWNew')).toEqual(['12D3KooWNew', '(hello pending)', '', '', '/ip4/10.0.0.3/tcp/4001', '']);
  });

  it('no peers: a sentence, not an empty table; --json: the route body', async () => {
    const none = await mutual(['peers'], { fetch: node({ peers: [] }).fetch });
    expect(none.stdout).toBe('no peers\n');
    const j = await mutual(['peers', '--json'], { fetch: node({ peers: PEERS }).fetch });
    expect(JSON.parse(j.stdout)).toEqual({ peers: PEERS });
  });
});
