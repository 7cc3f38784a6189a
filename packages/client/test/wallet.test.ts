import { deriveAccountId, formatAccountId, formatBankId, fromBase64, parseDay } from '@mutual/codec';
import { generateSeed, publicKeyFromSeed } from '@mutual/crypto';
import { pb, u64 } from '@mutual/protocol';
import { describe, expect, it } from 'vitest';
import { MutualClient, Wallet, newKey } from '../src/index.ts';
import { fakeFetch, json } from './fake-fetch.ts';

const bankKey = publicKeyFromSeed(generateSeed());
const bank = formatBankId(bankKey);
const key = newKey();
const me = formatAccountId(deriveAccountId(bankKey, key.publicKey));
const other = formatAccountId(deriveAccountId(bankKey, publicKeyFromSeed(generateSeed())));

function node() {
  return fakeFetch((req) => {
    if (req.url.endsWith('/v1/status')) return json({ bank: { id: bank, name: 'B', bioregion: 'R' } });
    if (req.url.endsWith(`/v1/accounts/${me}`)) return json({ account: me, nextSequence: '8', sequence: '7' });
    if (req.method === 'POST') return json({ results: [{ code: 'APPLIED', entryIndex: 12, duplicate: false, amount: '2' }] });
    return json({ error: { code: 'NOT_FOUND', message: req.url } }, 404);
  });
}

function submitted(body: unknown) {
  const [b64] = (body as { instructions: string[] }).instructions;
  return pb.Instruction.decode(pb.SignedInstruction.decode(fromBase64(b64!)).body);
}

describe('Wallet', () => {
  it('signs with the next sequence number of its account at the bank of the node', async () => {
    const { fetch, requests } = node();
    const w = new Wallet({ client: new MutualClient({ url: 'http://n', fetch }), key });
    expect(await w.accountId()).toBe(me);
    const r = await w.transfer({ to: other, amount: '2' });
    expect(r).toMatchObject({ code: 'APPLIED', entryIndex: 12 });
    const post = requests.find((q) => q.method === 'POST')!;
    expect(post.url).toBe('http://n/v1/transfers');
    const ins = submitted(post.body);
    expect(u64(ins.sequence)).toBe(8n);
    expect(formatAccountId(ins.transfer!.payee!)).toBe(other);
    // the bank is read once
    expect(requests.filter((q) => q.url.endsWith('/v1/status'))).toHaveLength(1);
  });

  it('names the payee bank only when it is another bank, however its ID is written', async () => {
    const { fetch, requests } = node();
    const w = new Wallet({ client: new MutualClient({ url: 'http://n', fetch }), key, bank: bank.toUpperCase() });
    const elsewhere = formatBankId(publicKeyFromSeed(generateSeed()));
    await w.transfer({ to: other, amount: '1', toBank: bank.toUpperCase() });
    await w.transfer({ to: other, amount: '1', toBank: bank });
    await w.transfer({ to: other, amount: '1', toBank: elsewhere.toUpperCase() });
    const payeeBanks = requests.filter((q) => q.method === 'POST').map((q) => submitted(q.body).transfer!.payeeBank ?? new Uint8Array());
    expect(payeeBanks.map((b) => (b.length === 0 ? '' : formatBankId(b)))).toEqual(['', '', elsewhere]);
  });

  it('dates labor records today (UTC) by its clock and sends them to /v1/labor', async () => {
    const { fetch, requests } = node();
    const now = () => Date.UTC(2026, 10, 25, 23, 59);
    const w = new Wallet({ client: new MutualClient({ url: 'http://n', fetch }), key: key.seed, now });
    await w.recordLabor({ worker: other, hours: '7.5', category: 'standard' });
    const post = requests.find((q) => q.method === 'POST')!;
    expect(post.url).toBe('http://n/v1/labor');
    const ins = submitted(post.body);
    expect(ins.labor!.day).toBe(parseDay('2026-11-25'));
    expect(u64(ins.labor!.milliHours)).toBe(7500n);
  });

  it('submits retirements with the transfers', async () => {
    const { fetch, requests } = node();
    await new Wallet({ client: new MutualClient({ url: 'http://n', fetch }), key, bank }).retire({ amount: '0.5' });
    expect(requests.map((q) => q.url)).toEqual([`http://n/v1/accounts/${me}`, 'http://n/v1/transfers']);
    expect(u64(submitted(requests[1]!.body).retirement!.amount)).toBe(500n);
  });
});
