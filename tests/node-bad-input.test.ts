// Every class of bad input, sent over real HTTP to a real node: each gets its 4xx and stable
// code, none is a 500, and none changes the ledger.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deriveAccountId, formatAccountId, formatPublicKey, parseBankId } from '@mutual/codec';
import { DOMAIN, pb, signedMessage, toU64 } from '@mutual/protocol';
import { keyPairFromSeed, signDetached } from '@mutual/verifier';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, type Daemon } from './support/daemon.ts';

const dir = mkdtempSync(join(tmpdir(), 'mutual-bad-input-'));
let d: Daemon;
let goodTransfer: string;

beforeAll(async () => {
  d = await startDaemon(dir, ['--rate-limit', '100000']);
  const status = (await (await fetch(`${d.url}/v1/status`)).json()) as { bank: { id: string } };
  const bank = parseBankId(status.bank.id);
  const payer = keyPairFromSeed(new Uint8Array(32).fill(5));
  const payee = keyPairFromSeed(new Uint8Array(32).fill(6));
  for (const k of [payer, payee]) {
    const r = await fetch(`${d.url}/v1/accounts`, { method: 'POST', headers: admin(), body: JSON.stringify({ publicKey: formatPublicKey(k.publicKey), kind: 'member' }) });
    expect(r.status).toBe(201);
  }
  const body = pb.Instruction.encode({
    bank,
    account: deriveAccountId(bank, payer.publicKey),
    sequence: toU64(1n),
    transfer: { payee: deriveAccountId(bank, payee.publicKey), amount: toU64(1000n) },
  }).finish();
  goodTransfer = Buffer.from(pb.SignedInstruction.encode({ body, signature: signDetached(signedMessage(DOMAIN.instruction, body), payer.secretKey) }).finish()).toString('base64');
});
afterAll(async () => {
  await d.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function logSize(): Promise<number> {
  return ((await (await fetch(`${d.url}/v1/status`)).json()) as { log: { size: number } }).log.size;
}

async function send(method: string, path: string, body?: string, headers: Record<string, string> = { 'content-type': 'application/json' }) {
  const res = await fetch(`${d.url}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
  const text = await res.text();
  let code: string | undefined;
  try {
    code = (JSON.parse(text) as { error?: { code?: string } }).error?.code;
  } catch {
    code = undefined;
  }
  return { status: res.status, code };
}

const admin = () => ({ 'content-type': 'application/json', authorization: `Bearer ${d.token}` });
const typo = () => {
  const id = formatAccountId(new Uint8Array(20).fill(9));
  return id.slice(0, -1) + (id.endsWith('q') ? 'p' : 'q');
};

describe('bad input over HTTP', () => {
  const cases: Array<[string, () => Promise<{ status: number; code: string | undefined }>, number, string]> = [
    ['malformed JSON', () => send('POST', '/v1/transfers', '{"instructions": ['), 400, 'MALFORMED_JSON'],
    ['wrong type', () => send('POST', '/v1/transfers', JSON.stringify({ instructions: 'x' })), 400, 'VALIDATION_FAILED'],
    ['unknown field', () => send('POST', '/v1/transfers', JSON.stringify({ instructions: [goodTransfer], extra: 1 })), 400, 'VALIDATION_FAILED'],
    ['oversized body', () => send('POST', '/v1/transfers', JSON.stringify({ instructions: [goodTransfer], pad: 'x'.repeat(3 * 1024 * 1024) })), 413, 'BODY_TOO_LARGE'],
    ['not JSON', () => send('POST', '/v1/transfers', 'hello', { 'content-type': 'text/plain' }), 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['too many instructions', () => send('POST', '/v1/transfers', JSON.stringify({ instructions: Array(1001).fill(goodTransfer) })), 413, 'TOO_MANY_INSTRUCTIONS'],
    ['bad base64', () => send('POST', '/v1/transfers', JSON.stringify({ instructions: ['!!!!'] })), 400, 'INVALID_ENCODING'],
    ['account ID with a typo', () => send('GET', `/v1/accounts/${typo()}`), 400, 'INVALID_ID'],
    ['bank ID where an account ID goes', () => send('GET', `/v1/accounts/mbank1qqqq`), 400, 'INVALID_ID'],
    ['bad public key', () => send('POST', '/v1/accounts', JSON.stringify({ publicKey: 'mpub1xyz', kind: 'member' }), admin()), 400, 'INVALID_ID'],
    ['unknown account kind', () => send('POST', '/v1/accounts', JSON.stringify({ publicKey: 'mpub1xyz', kind: 'boss' }), admin()), 400, 'VALIDATION_FAILED'],
    ['no admin token', () => send('POST', '/v1/accounts', JSON.stringify({ publicKey: 'mpub1xyz', kind: 'member' })), 401, 'UNAUTHORIZED'],
    ['wrong admin token', () => send('POST', '/v1/accounts', JSON.stringify({ publicKey: 'mpub1xyz', kind: 'member' }), { 'content-type': 'application/json', authorization: 'Bearer nope' }), 401, 'UNAUTHORIZED'],
    ['negative statement limit', () => send('GET', `/v1/accounts/${formatAccountId(new Uint8Array(20))}/entries?limit=-1`), 400, 'VALIDATION_FAILED'],
    ['limit above 200', () => send('GET', `/v1/accounts/${formatAccountId(new Uint8Array(20))}/entries?limit=201`), 400, 'VALIDATION_FAILED'],
    ['consistency outside the log', () => send('GET', '/v1/consistency?from=1&to=999999'), 400, 'INVALID_RANGE'],
    ['entry index not a number', () => send('GET', '/v1/entries/abc'), 400, 'VALIDATION_FAILED'],
    ['unknown route', () => send('GET', '/v1/nothing'), 404, 'NOT_FOUND'],
  ];

  it.each(cases)('%s is refused with its code and changes nothing', async (_name, run, status, code) => {
    const before = await logSize();
    const r = await run();
    expect(r).toEqual({ status, code });
    expect(await logSize()).toBe(before);
  });

  it('rejects an instruction with a bad signature or amount per item, changing nothing', async () => {
    const before = await logSize();
    const tampered = Buffer.from(goodTransfer, 'base64');
    tampered[tampered.length - 1] = tampered[tampered.length - 1]! ^ 1;
    const res = await fetch(`${d.url}/v1/transfers`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ instructions: [tampered.toString('base64'), goodTransfer] }) });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { results: Array<{ code: string }> };
    // the payer has no notes yet: a good signature gets as far as the balance
    expect(body.results.map((r) => r.code)).toEqual(['BAD_SIGNATURE', 'INSUFFICIENT_FUNDS']);
    expect(await logSize()).toBe(before);
  });
});
