import { describe, expect, it } from 'vitest';
import { MutualClient, type BankView, type Peer } from '../src/index.ts';
import { fakeFetch, json } from './fake-fetch.ts';

const URL = 'http://node.test:8547';

const PEERS: Peer[] = [
  { peerId: '12D3KooWA', bank: 'mbank1a', name: 'A', bioregion: 'Cascadia', addresses: ['/ip4/10.0.0.1/tcp/4001'], latencyMs: 3, gossip: ['heads'] },
  { peerId: '12D3KooWB', addresses: ['/ip4/10.0.0.2/tcp/4001'], gossip: [] },
];

const HEAD = { bank: 'mbank1b', size: 9, root: 'ab'.repeat(32), timeMs: 1, signature: 'c2ln', signed: 'aGVhZA==' };
const BANKS: BankView[] = [
  { id: 'mbank1a', name: 'A', bioregion: 'Cascadia', self: true, head: { ...HEAD, bank: 'mbank1a' }, replicated: 4, behind: 0, replicating: true, forked: false },
  { id: 'mbank1b', name: 'B', bioregion: 'Cascadia', self: false, head: HEAD, replicated: 6, behind: 3, replicating: true, forked: false },
  { id: 'mbank1c', name: '', bioregion: '', self: false, head: null, replicated: 0, behind: 0, replicating: false, forked: true, forkProof: 'AQID' },
];

describe('MutualClient mesh views', () => {
  it('peers(): GET /v1/peers, the rows unwrapped', async () => {
    const { fetch, requests } = fakeFetch(() => json({ peers: PEERS }));
    const peers = await new MutualClient({ url: URL, token: 'secret', fetch }).peers();
    expect(peers).toEqual(PEERS);
    expect(requests.map((r) => `${r.method} ${r.url}`)).toEqual([`GET ${URL}/v1/peers`]);
    expect(requests[0]!.headers.authorization).toBeUndefined();
  });

  it('banks(): GET /v1/banks, the rows unwrapped, a bank without a head as null', async () => {
    const { fetch, requests } = fakeFetch(() => json({ banks: BANKS }));
    const banks = await new MutualClient({ url: URL, token: 'secret', fetch }).banks();
    expect(banks).toEqual(BANKS);
    expect(banks[2]!.head).toBeNull();
    expect(requests.map((r) => `${r.method} ${r.url}`)).toEqual([`GET ${URL}/v1/banks`]);
    expect(requests[0]!.headers.authorization).toBeUndefined();
  });

  it('rejects with the node code when the node refuses', async () => {
    const { fetch } = fakeFetch(() => json({ error: { code: 'RATE_LIMITED', message: 'slow down' } }, 429));
    const c = new MutualClient({ url: URL, fetch });
    await expect(c.peers()).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    await expect(c.banks()).rejects.toMatchObject({ code: 'RATE_LIMITED' });
  });
});
