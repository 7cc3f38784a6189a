import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatBankId, toBase64 } from '@mutual/codec';
import { agreementMessage, encodeSignedAgreement, signTreeHead } from '@mutual/ledger';
import { AccountKind, pb } from '@mutual/protocol';
import { keyPairFromSeed, signDetached } from '@mutual/verifier';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AUDIT_PAGE_ENTRIES } from '../src/audit.ts';
import { BANK_ID, bankKeys, fakeNode, forgedHead, populate, type FakeNode } from './fake-node.ts';
import { mutual, tempDir } from './io.ts';

let node: FakeNode;
let home: string;
const run = (args: string[]) => mutual(args, { fetch: node.fetch, env: { MUTUAL_HOME: home } });

beforeEach(async () => {
  node = await fakeNode();
  await populate(node.store);
  home = tempDir();
});
afterEach(() => node.close());

describe('mutual verify', () => {
  it('checks an entry against the signed head and remembers the head', async () => {
    const r = await run(['verify', '--entry', '3', '--bank', BANK_ID, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as { ok: boolean; entry: number; head: { size: number }; previousSize: number | null };
    expect(report).toMatchObject({ ok: true, entry: 3, head: { size: node.store.size }, previousSize: null });
    const remembered = JSON.parse(readFileSync(join(home, 'heads', `${BANK_ID}.json`), 'utf8')) as { size: number; signed: string };
    expect(remembered.size).toBe(node.store.size);
    expect(remembered.signed).toBe(toBase64(node.store.head.bytes));
  });

  it('fails with exit 4 when the entry bytes are not the ones in the signed log', async () => {
    const bytes = Uint8Array.from((await node.store.getEntry(3))!);
    bytes[bytes.length - 1]! ^= 1;
    node.tamper.entry = { index: 3, bytes };
    const r = await run(['verify', '--entry', '3', '--bank', BANK_ID]);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/^error: VERIFICATION_FAILED: /);
  });

  it('fails with exit 4 when the head is not signed by the pinned bank', async () => {
    const r = await run(['verify', '--bank', 'mbank1' + BANK_ID.slice(6).split('').reverse().join('')]);
    // a reversed ID fails its checksum: that is a usage error, caught before any trust decision
    expect(r.code).toBe(2);
    const stranger = formatBankId(new Uint8Array(32).fill(3));
    const s = await run(['verify', '--bank', stranger]);
    expect(s.code).toBe(4);
    expect(s.stderr).toContain(`is not signed by ${stranger}`);
  });

  it('checks a later head extends an earlier one, and catches a fork against the remembered head', async () => {
    const early = node.store.size;
    expect((await run(['verify'])).code).toBe(0);
    await populateMore(node);
    const r = await run(['verify', '--from', String(early), '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ from: { size: early }, to: { size: node.store.size }, previousSize: early });
    // The node now shows a head of the same size with another root, signed by the bank.
    node.tamper.head = forgedHead(node.store.size);
    const fork = await run(['verify']);
    expect(fork.code).toBe(4);
    expect(fork.stderr).toMatch(/different roots: the bank forked its log; both signed heads are saved as evidence/);
    expect(existsSync(join(home, 'heads', `${BANK_ID}.fork.json`))).toBe(true);
    // ...and a smaller one: a rollback.
    node.tamper.head = forgedHead(2);
    expect((await run(['verify'])).stderr).toMatch(/rolled back/);
  });

  it('remembers a bank under one name however its ID is written', async () => {
    const upper = BANK_ID.toUpperCase();
    const first = await run(['verify', '--bank', upper, '--json']);
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ bank: BANK_ID, previousSize: null });
    expect(readdirSync(join(home, 'heads'))).toEqual([`${BANK_ID}.json`]);
    // The head verified with --bank in upper case is the one a rollback is checked against.
    node.tamper.head = forgedHead(2);
    const rolledBack = await run(['verify', '--bank', BANK_ID]);
    expect(rolledBack.code).toBe(4);
    expect(rolledBack.stderr).toMatch(/rolled back/);
    delete node.tamper.head;
    await populateMore(node);
    const later = await run(['verify', '--bank', upper, '--json']);
    expect(JSON.parse(later.stdout)).toMatchObject({ bank: BANK_ID, previousSize: node.store.size - 1 });
    expect(readdirSync(join(home, 'heads')).sort()).toEqual([`${BANK_ID}.fork.json`, `${BANK_ID}.json`]);
    // audit compares the log with the same remembered head.
    writeFileSync(join(home, 'heads', `${BANK_ID}.json`), JSON.stringify({ bank: BANK_ID, size: 3, signed: toBase64(forgedHead(3).bytes) }));
    const audit = await run(['audit', '--bank', upper, '--threads', '1', '--json']);
    expect(audit.code).toBe(4);
    expect(JSON.parse(audit.stdout)).toMatchObject({ bank: BANK_ID, forked: true });
  });
});

describe('mutual audit', () => {
  it('replays the whole log and reports OK', async () => {
    const r = await run(['audit', '--bank', BANK_ID, '--json', '--threads', '1']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, entries: node.store.size, replayed: node.store.size, totals: { issued: '6', accounts: 2 }, problems: [] });
    const human = await run(['audit', '--threads', '1']);
    expect(human.stdout).toMatch(/^audit of mbank1\S+: OK\n/);
    expect(human.stdout).toContain('conservation holds');
  });

  it('replays an adoption whose two entries fall in two pages', async () => {
    // The adoption at the last index of the first page, its rates first in the second.
    const opens = (n: number) => Array.from({ length: n }, () => ({ type: 'openAccount' as const, holderKey: keyPairFromSeed(new Uint8Array(randomBytes(32))).publicKey, kind: AccountKind.member, label: '' }));
    while (node.store.size < AUDIT_PAGE_ENTRIES - 1) await node.store.submit(opens(AUDIT_PAGE_ENTRIES - 1 - node.store.size));
    const other = keyPairFromSeed(new Uint8Array(32).fill(9));
    const bytes = pb.Agreement.encode({
      bioregion: node.store.bank.bioregion,
      members: [bankKeys, other].map((k, i) => ({ bank: k.publicKey, name: `Bank ${i}` })),
      rates: [{ category: 'standard', rateMilli: 1000 }],
      clearingLimit: 1000,
      createdMs: 1_700_000_000_000,
    }).finish();
    const signed = encodeSignedAgreement(bytes, [bankKeys, other].map((k) => ({ bank: k.publicKey, signature: signDetached(agreementMessage(bytes), k.secretKey) })));
    expect((await node.store.submit([{ type: 'adoptAgreement', signed }]))[0]!.code).toBe('APPLIED');
    expect(pb.Entry.decode((await node.store.getEntry(AUDIT_PAGE_ENTRIES - 1))!).kind).toBe('agreementAdopted');
    const r = await run(['audit', '--bank', BANK_ID, '--json', '--threads', '1']);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, entries: node.store.size, replayed: node.store.size, problems: [] });
    expect(r.code).toBe(0);
  });

  it('fails when the signed head is not dated with its last entry', async () => {
    const { size, root, timeMs } = node.store.head;
    node.tamper.head = signTreeHead(bankKeys.publicKey, size, root, timeMs + 1n, (m) => signDetached(m, bankKeys.secretKey));
    const r = await run(['audit', '--threads', '1', '--json']);
    expect(r.code).toBe(4);
    const report = JSON.parse(r.stdout) as { ok: boolean; problems: string[] };
    expect(report.problems).toEqual([`the signed head of size ${size} is dated ${timeMs + 1n}, its last entry ${timeMs}`]);
  });

  it('fails with exit 4 when an entry was changed', async () => {
    const bytes = Uint8Array.from((await node.store.getEntry(4))!);
    bytes[bytes.length - 1]! ^= 1;
    node.tamper.entry = { index: 4, bytes };
    const r = await run(['audit', '--threads', '1', '--json']);
    expect(r.code).toBe(4);
    const report = JSON.parse(r.stdout) as { ok: boolean; problems: string[] };
    expect(report.ok).toBe(false);
    expect(report.problems.join('\n')).toMatch(/do not hash to the root the bank signed/);
    expect(r.stderr).toMatch(/"code":"VERIFICATION_FAILED"/);
    // A failed audit does not become the remembered history of the bank.
    expect(existsSync(join(home, 'heads', `${BANK_ID}.json`))).toBe(false);
  });

  it('fails when the node holds a valid fork proof against the bank, and says so', async () => {
    const same = forgedHead(node.store.size);
    const other = await node.store.getHead(node.store.size);
    node.tamper.forkProof = pb.ForkProof.encode({ first: same.bytes, second: other!.bytes }).finish();
    const r = await run(['audit', '--threads', '1', '--json']);
    expect(r.code).toBe(4);
    const report = JSON.parse(r.stdout) as { forked: boolean; problems: string[] };
    expect(report.forked).toBe(true);
    expect(report.problems.join('\n')).toMatch(/signed two inconsistent tree heads/);
    node.tamper.forkProof = pb.ForkProof.encode({ first: other!.bytes, second: other!.bytes }).finish();
    const bad = JSON.parse((await run(['audit', '--threads', '1', '--json'])).stdout) as { forked: boolean; problems: string[] };
    expect(bad.forked).toBe(false);
    expect(bad.problems.join('\n')).toMatch(/fork proof does not verify/);
  });

  it("finds the node's fork proof with --bank in upper case", async () => {
    const same = forgedHead(node.store.size);
    const other = await node.store.getHead(node.store.size);
    node.tamper.forkProof = pb.ForkProof.encode({ first: same.bytes, second: other!.bytes }).finish();
    const r = await run(['audit', '--bank', BANK_ID.toUpperCase(), '--threads', '1', '--json']);
    expect(r.code).toBe(4);
    expect(JSON.parse(r.stdout)).toMatchObject({ bank: BANK_ID, forked: true });
  });

  it('finds a fork itself when a remembered head is not the root of the first entries', async () => {
    const forged = forgedHead(3);
    mkdirSync(join(home, 'heads'), { recursive: true });
    writeFileSync(join(home, 'heads', `${BANK_ID}.json`), JSON.stringify({ bank: BANK_ID, size: 3, signed: toBase64(forged.bytes) }));
    const r = await run(['audit', '--threads', '1', '--json']);
    expect(r.code).toBe(4);
    const report = JSON.parse(r.stdout) as { forked: boolean; problems: string[] };
    expect(report.forked).toBe(true);
    expect(report.problems.join('\n')).toMatch(/signed a head of size 3 whose root is not that of its first 3 entries/);
  });
});

async function populateMore(n: FakeNode): Promise<void> {
  const [r] = await n.store.submit([{ type: 'openAccount', holderKey: new Uint8Array(32).fill(5), kind: AccountKind.member, label: 'late' }]);
  expect(r?.code).toBe('APPLIED');
}
