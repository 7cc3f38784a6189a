import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { accountIdOf, parseKeyFile, type Entry } from '@mutual/client';
import { formatBankId, fromBase64, parseDay } from '@mutual/codec';
import { generateSeed, publicKeyFromSeed } from '@mutual/crypto';
import { pb, u64 } from '@mutual/protocol';
import { describe, expect, it } from 'vitest';
import { mutual, tempDir } from './io.ts';

const BANK = formatBankId(publicKeyFromSeed(generateSeed()));
const OTHER = accountIdOf(BANK, { publicKey: publicKeyFromSeed(generateSeed()) });

/** A node that knows one account (the key file's), accepts or rejects what is submitted, and records it. */
async function setup(answer: unknown = { code: 'APPLIED', entryIndex: 12, duplicate: false, amount: '7.5' }) {
  const cwd = tempDir();
  await mutual(['keygen', '--out', 'me.key'], { cwd });
  const me = accountIdOf(BANK, parseKeyFile(readFileSync(join(cwd, 'me.key'), 'utf8')));
  const posts: Array<{ url: string; instruction: ReturnType<typeof pb.Instruction.decode> }> = [];
  const fetch = async (url: string, init: RequestInit) => {
    const path = new URL(url).pathname;
    if (path === '/v1/status') return Response.json({ bank: { id: BANK } });
    if (path === `/v1/accounts/${me}`) {
      return Response.json({ account: me, kind: 'cooperative', label: 'Bakery', publicKey: 'mpub1…', balance: '12.5', sequence: '4', nextSequence: '5', openedIndex: 3 });
    }
    if (init.method === 'POST') {
      const [b64] = (JSON.parse(init.body as string) as { instructions: string[] }).instructions;
      posts.push({ url: path, instruction: pb.Instruction.decode(pb.SignedInstruction.decode(fromBase64(b64!)).body) });
      return Response.json({ results: [answer] });
    }
    return Response.json({ error: { code: 'NOT_FOUND', message: path } }, { status: 404 });
  };
  return { cwd, me, fetch, posts };
}

describe('mutual instructions', () => {
  it('labor record: signs with the next sequence, today by default, and reports the notes issued', async () => {
    const s = await setup();
    const r = await mutual(['labor', 'record', '--key', 'me.key', '--worker', OTHER, '--hours', '7.5', '--category', 'standard'], s);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`recorded 7.5 hours of standard work by ${OTHER} on 2026-11-25: 7.5 notes issued (log entry 12)\n`);
    const [post] = s.posts;
    expect(post!.url).toBe('/v1/labor');
    expect(u64(post!.instruction.sequence)).toBe(5n);
    expect(post!.instruction.labor!.day).toBe(parseDay('2026-11-25'));
    expect(u64(post!.instruction.labor!.milliHours)).toBe(7500n);
  });

  it('transfer: --json prints the result; a rejection exits 3 with the bank code', async () => {
    const ok = await setup();
    const r = await mutual(['transfer', '2.5', '--key', 'me.key', '--to', OTHER, '--memo', 'bread', '--json'], ok);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ code: 'APPLIED', entryIndex: 12, duplicate: false, amount: '7.5' });
    expect(ok.posts[0]!.url).toBe('/v1/transfers');
    expect(u64(ok.posts[0]!.instruction.transfer!.amount)).toBe(2500n);
    expect(ok.posts[0]!.instruction.transfer!.memo).toBe('bread');

    const no = await setup({ code: 'INSUFFICIENT_FUNDS', message: 'the balance is lower than the amount' });
    const rej = await mutual(['transfer', '100', '--key', 'me.key', '--to', OTHER], no);
    expect(rej.code).toBe(3);
    expect(rej.stdout).toBe('');
    expect(rej.stderr).toBe('error: INSUFFICIENT_FUNDS: the bank rejected the instruction: the balance is lower than the amount\n');
    const rejJson = await mutual(['retire', '100', '--key', 'me.key', '--json'], no);
    expect(rejJson.code).toBe(3);
    expect(JSON.parse(rejJson.stdout)).toMatchObject({ code: 'INSUFFICIENT_FUNDS' });
    expect(JSON.parse(rejJson.stderr)).toMatchObject({ error: { code: 'INSUFFICIENT_FUNDS' } });
  });

  it("transfer --to-bank: the node's own bank, in either case, is a transfer within the bank", async () => {
    const s = await setup();
    const r = await mutual(['transfer', '2.5', '--key', 'me.key', '--to', OTHER, '--to-bank', BANK.toUpperCase(), '--wait', '5'], s);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`transferred 2.5 notes to ${OTHER} (log entry 12)\n`);
    expect(s.posts[0]!.instruction.transfer!.payeeBank ?? new Uint8Array()).toHaveLength(0);
  });

  it('balance --key: derives the account at the node bank; table for people, JSON for scripts', async () => {
    const s = await setup();
    const human = await mutual(['balance', '--key', 'me.key'], s);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/│ balance\s+│ 12\.5\s+│/);
    expect(human.stdout).toContain(s.me);
    const j = await mutual(['balance', s.me, '--json'], s);
    expect(JSON.parse(j.stdout)).toMatchObject({ account: s.me, balance: '12.5', nextSequence: '5' });
    expect((await mutual(['balance', s.me, '--key', 'me.key'], s)).code).toBe(2);
  });
});

describe('mutual history', () => {
  it('shows amounts as they change the account, and how to get the next page', async () => {
    const me = OTHER;
    const entries: Partial<Entry>[] = [
      { index: 9, timeMs: Date.UTC(2026, 10, 25, 10), kind: 'transfer', account: me, payee: 'macct1payee', amount: '2', memo: 'bread' },
      { index: 7, timeMs: Date.UTC(2026, 10, 24, 10), kind: 'labor', account: 'macct1coop', worker: me, amount: '11.25', hours: '7.5', category: 'care', rate: '1.5', day: '2026-11-24' },
    ];
    const urls: string[] = [];
    const fetch = async (url: string) => {
      urls.push(url);
      return Response.json({ entries, next: 7 });
    };
    const r = await mutual(['history', me, '--limit', '2', '--before', '10'], { fetch });
    expect(r.code).toBe(0);
    expect(urls).toEqual([`http://127.0.0.1:8547/v1/accounts/${me}/entries?limit=2&before=10`]);
    expect(r.stdout).toMatch(/│ 9 .*│ -2 .*│ to macct1payee .*│ bread/);
    expect(r.stdout).toMatch(/│ 7 .*│ \+11\.25 .*│ by macct1coop .*│ 7\.5 h care x 1\.5 on 2026-11-24/);
    expect(r.stdout).toContain(`more: mutual history ${me} --before 7`);
    const j = await mutual(['history', me, '--json'], { fetch });
    expect(JSON.parse(j.stdout)).toEqual({ account: me, entries, next: 7 });
    // The account in upper case is the same account.
    const upper = await mutual(['history', me.toUpperCase(), '--limit', '2', '--before', '10'], { fetch });
    expect(upper.stdout).toBe(r.stdout);
    expect(urls.at(-1)).toBe(urls[0]);
  });
});
