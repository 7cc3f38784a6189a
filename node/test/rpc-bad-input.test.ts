// Every class of bad input gets its 4xx code, names what to fix, and changes nothing.
import { formatBankId, formatPublicKey } from '@mutual/codec';
import { LIMITS } from '@mutual/interface';
import { BODY_LIMIT_BYTES } from '../src/index.ts';
import type { InjectOptions } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { b64, funded, newHolder, signInstruction, testBank, type Acct, type TestBank } from './fixture.ts';

let t: TestBank;
let alice: Acct;
let bob: Acct;
let good: string;
beforeEach(async () => {
  t = await testBank();
  ({ alice, bob } = await funded(t));
  good = b64(signInstruction(t.bank.publicKey, alice, 1n, { transfer: { payee: bob.id, amount: 1000n } }));
});
afterEach(async () => {
  await t.close();
});

/** Sends the request and checks the refusal: status, code, and that the log did not move. */
async function refused(req: InjectOptions, status: number, code: string, messageMatch?: RegExp): Promise<string> {
  const size = t.store.size;
  const r = await t.app.inject(req);
  expect(r.statusCode, r.body).toBe(status);
  const body = r.json();
  expect(body.error.code).toBe(code);
  expect(typeof body.error.message).toBe('string');
  if (messageMatch) expect(body.error.message).toMatch(messageMatch);
  expect(t.store.size).toBe(size);
  return body.error.message;
}

const admin = () => ({ authorization: `Bearer ${t.token}` });
const json = { 'content-type': 'application/json' };

/** A character swapped for another of the bech32 alphabet: the checksum must catch it. */
function typo(id: string): string {
  const i = id.length - 8;
  const c = id[i] === 'q' ? 'p' : 'q';
  return id.slice(0, i) + c + id.slice(i + 1);
}

describe('request bodies', () => {
  it('malformed JSON is MALFORMED_JSON', async () => {
    await refused({ method: 'POST', url: '/v1/transfers', headers: json, payload: '{"instructions": [' }, 400, 'MALFORMED_JSON');
    await refused({ method: 'POST', url: '/v1/transfers', headers: json, payload: '' }, 400, 'MALFORMED_JSON');
  });

  it('prototype-poisoning JSON is refused, not merged', async () => {
    await refused({ method: 'POST', url: '/v1/transfers', headers: json, payload: `{"instructions":["${good}"],"__proto__":{"x":1}}` }, 400, 'MALFORMED_JSON');
  });

  it('wrong types are VALIDATION_FAILED naming the field', async () => {
    await refused({ method: 'POST', url: '/v1/transfers', payload: { instructions: good } }, 400, 'VALIDATION_FAILED', /body\.instructions/);
    await refused({ method: 'POST', url: '/v1/transfers', payload: { instructions: [good, 5] } }, 400, 'VALIDATION_FAILED', /body\.instructions\[1\]/);
    await refused({ method: 'POST', url: '/v1/transfers', headers: json, payload: '[]' }, 400, 'VALIDATION_FAILED', /body/);
    await refused(
      { method: 'POST', url: '/v1/accounts', headers: admin(), payload: { publicKey: newHolder().key, kind: 'member', label: 7 } },
      400,
      'VALIDATION_FAILED',
      /body\.label/,
    );
    await refused({ method: 'POST', url: '/v1/accounts', headers: admin(), payload: { publicKey: newHolder().key, kind: 'bank' } }, 400, 'VALIDATION_FAILED', /body\.kind/);
    await refused({ method: 'POST', url: '/v1/accounts', headers: admin(), payload: { kind: 'member' } }, 400, 'VALIDATION_FAILED', /publicKey/);
  });

  it('unknown fields are VALIDATION_FAILED naming the field', async () => {
    await refused({ method: 'POST', url: '/v1/transfers', payload: { instructions: [good], fee: '1' } }, 400, 'VALIDATION_FAILED', /"fee"/);
    await refused(
      { method: 'POST', url: '/v1/accounts', headers: admin(), payload: { publicKey: newHolder().key, kind: 'member', balance: '100' } },
      400,
      'VALIDATION_FAILED',
      /"balance"/,
    );
  });

  it('a label with a surrogate without its pair is VALIDATION_FAILED, and nothing is written', async () => {
    const payload = `{"publicKey":"${newHolder().key}","kind":"member","label":"bike \\ud83d"}`;
    expect(JSON.parse(payload).label).toBe('bike \uD83D');
    await refused({ method: 'POST', url: '/v1/accounts', headers: { ...json, ...admin() }, payload }, 400, 'VALIDATION_FAILED', /label/);
  });

  it('an empty batch is VALIDATION_FAILED', async () => {
    await refused({ method: 'POST', url: '/v1/labor', payload: { instructions: [] } }, 400, 'VALIDATION_FAILED', /body\.instructions/);
  });

  it('a body over BODY_LIMIT_BYTES is BODY_TOO_LARGE (413)', async () => {
    const big = JSON.stringify({ instructions: [good], pad: 'x'.repeat(BODY_LIMIT_BYTES) });
    await refused({ method: 'POST', url: '/v1/transfers', headers: json, payload: big }, 413, 'BODY_TOO_LARGE', new RegExp(`larger than ${BODY_LIMIT_BYTES / (1024 * 1024)} MiB`));
  });

  it('a body that is not JSON is UNSUPPORTED_MEDIA_TYPE (415)', async () => {
    await refused({ method: 'POST', url: '/v1/transfers', headers: { 'content-type': 'text/plain' }, payload: good }, 415, 'UNSUPPORTED_MEDIA_TYPE');
    await refused({ method: 'POST', url: '/v1/transfers', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'a=b' }, 415, 'UNSUPPORTED_MEDIA_TYPE');
  });
});

describe('instructions', () => {
  it('more than MAX_INSTRUCTIONS_PER_REQUEST is TOO_MANY_INSTRUCTIONS (413)', async () => {
    const many = Array.from({ length: LIMITS.MAX_INSTRUCTIONS_PER_REQUEST + 1 }, () => good);
    await refused({ method: 'POST', url: '/v1/transfers', payload: { instructions: many } }, 413, 'TOO_MANY_INSTRUCTIONS');
  });

  it('bad base64 refuses the whole request (INVALID_ENCODING), applying none of it', async () => {
    for (const bad of ['not base64!', 'QUJD', 'QUJDRA', 'QUJDRA=']) {
      // 'QUJD' is valid base64 but not of a SignedInstruction: that one is a per-item result.
      if (bad === 'QUJD') continue;
      await refused({ method: 'POST', url: '/v1/transfers', payload: { instructions: [good, bad] } }, 400, 'INVALID_ENCODING', /instructions\[1\]/);
    }
    const r = await t.app.inject({ method: 'GET', url: `/v1/accounts/${alice.account}` });
    expect(r.json().sequence).toBe('0');
  });

  it('amounts out of range are per-item AMOUNT_INVALID results and change nothing', async () => {
    const zero = b64(signInstruction(t.bank.publicKey, alice, 1n, { transfer: { payee: bob.id, amount: 0n } }));
    const huge = b64(signInstruction(t.bank.publicKey, alice, 1n, { transfer: { payee: bob.id, amount: LIMITS.MAX_AMOUNT_MILLI + 1n } }));
    const size = t.store.size;
    const r = await t.app.inject({ method: 'POST', url: '/v1/transfers', payload: { instructions: [zero, huge] } });
    expect(r.statusCode).toBe(200);
    expect(r.json().results.map((x: { code: string }) => x.code)).toEqual(['AMOUNT_INVALID', 'AMOUNT_INVALID']);
    expect(t.store.size).toBe(size);
  });

  it('amounts come back as exact decimals, never floats', async () => {
    const milli = b64(signInstruction(t.bank.publicKey, alice, 1n, { transfer: { payee: bob.id, amount: 1n } }));
    const r = await t.app.inject({ method: 'POST', url: '/v1/transfers', payload: { instructions: [milli] } });
    expect(r.json().results[0].amount).toBe('0.001');
    const a = await t.app.inject({ method: 'GET', url: `/v1/accounts/${alice.account}` });
    expect(a.json().balance).toBe('7.999');
  });

  it('a bad signature is a BAD_SIGNATURE result', async () => {
    const forged = signInstruction(t.bank.publicKey, { ...alice, secretKey: newHolder().secretKey }, 1n, { transfer: { payee: bob.id, amount: 1000n } });
    const size = t.store.size;
    const r = await t.app.inject({ method: 'POST', url: '/v1/transfers', payload: { instructions: [b64(forged)] } });
    expect(r.json().results[0].code).toBe('BAD_SIGNATURE');
    expect(t.store.size).toBe(size);
  });
});

describe('IDs', () => {
  it('an account ID with a typo is INVALID_ID, not NOT_FOUND', async () => {
    await refused({ method: 'GET', url: `/v1/accounts/${typo(alice.account)}` }, 400, 'INVALID_ID');
    await refused({ method: 'GET', url: `/v1/accounts/${typo(alice.account)}/entries` }, 400, 'INVALID_ID');
  });

  it('a bank ID or a key where an account ID goes is INVALID_ID', async () => {
    await refused({ method: 'GET', url: `/v1/accounts/${formatBankId(t.bank.publicKey)}` }, 400, 'INVALID_ID');
    await refused({ method: 'GET', url: `/v1/accounts/${alice.key}` }, 400, 'INVALID_ID');
  });

  it('a public key with a typo is INVALID_ID and opens nothing', async () => {
    const key = formatPublicKey(newHolder().publicKey);
    await refused({ method: 'POST', url: '/v1/accounts', headers: admin(), payload: { publicKey: typo(key), kind: 'member' } }, 400, 'INVALID_ID');
    await refused({ method: 'POST', url: '/v1/accounts', headers: admin(), payload: { publicKey: alice.account, kind: 'member' } }, 400, 'INVALID_ID');
  });
});

describe('query strings and paths', () => {
  it('limits outside their range, non-numbers and unknown parameters are VALIDATION_FAILED', async () => {
    const base = `/v1/accounts/${alice.account}/entries`;
    await refused({ method: 'GET', url: `${base}?limit=0` }, 400, 'VALIDATION_FAILED', /limit/);
    await refused({ method: 'GET', url: `${base}?limit=201` }, 400, 'VALIDATION_FAILED', /limit/);
    await refused({ method: 'GET', url: `${base}?limit=ten` }, 400, 'VALIDATION_FAILED', /limit/);
    await refused({ method: 'GET', url: `${base}?limit=5&limit=6` }, 400, 'VALIDATION_FAILED', /limit/);
    await refused({ method: 'GET', url: `${base}?sort=asc` }, 400, 'VALIDATION_FAILED', /"sort"/);
    await refused({ method: 'GET', url: '/v1/entries?limit=1001' }, 400, 'VALIDATION_FAILED', /limit/);
    await refused({ method: 'GET', url: '/v1/entries/-1' }, 400, 'VALIDATION_FAILED', /index/);
    await refused({ method: 'GET', url: '/v1/heads/1e3' }, 400, 'VALIDATION_FAILED', /size/);
    await refused({ method: 'GET', url: '/v1/consistency?from=1' }, 400, 'VALIDATION_FAILED', /"to"/);
  });

  it('an event stream resumed from a bad or future point is refused before it starts', async () => {
    await refused({ method: 'GET', url: '/v1/events', headers: { 'last-event-id': 'abc' } }, 400, 'VALIDATION_FAILED', /last-event-id/);
    await refused({ method: 'GET', url: '/v1/events?from=99' }, 400, 'INVALID_RANGE');
    await refused({ method: 'GET', url: '/v1/events', headers: { 'last-event-id': '99' } }, 400, 'INVALID_RANGE');
  });

  it('an unknown route is NOT_FOUND (404)', async () => {
    await refused({ method: 'GET', url: '/v1/nothing' }, 404, 'NOT_FOUND');
    await refused({ method: 'DELETE', url: `/v1/accounts/${alice.account}` }, 404, 'NOT_FOUND');
  });
});

describe('admin token', () => {
  const open = (headers: Record<string, string>) => ({
    method: 'POST' as const,
    url: '/v1/accounts',
    headers,
    payload: { publicKey: newHolder().key, kind: 'member' },
  });

  it('is required to open an account (401 UNAUTHORIZED)', async () => {
    await refused(open({}), 401, 'UNAUTHORIZED');
  });

  it('must be this node’s token, as a Bearer token', async () => {
    await refused(open({ authorization: `Bearer ${'0'.repeat(64)}` }), 401, 'UNAUTHORIZED');
    await refused(open({ authorization: `Bearer ${t.token.slice(0, 63)}` }), 401, 'UNAUTHORIZED');
    await refused(open({ authorization: `Basic ${t.token}` }), 401, 'UNAUTHORIZED');
    await refused(open({ authorization: t.token }), 401, 'UNAUTHORIZED');
  });

  it('is checked before the body is read or judged', async () => {
    await refused({ method: 'POST', url: '/v1/accounts', payload: { nonsense: true } }, 401, 'UNAUTHORIZED');
    await refused({ method: 'POST', url: '/v1/accounts', headers: json, payload: '{"broken' }, 401, 'UNAUTHORIZED');
  });
});

describe('rate limit', () => {
  it('answers 429 RATE_LIMITED with Retry-After past the limit; health checks are not limited', async () => {
    const t2 = await testBank({ rateLimit: { max: 3, timeWindowMs: 60_000 } });
    try {
      for (let i = 0; i < 3; i++) expect((await t2.app.inject({ method: 'GET', url: '/v1/head' })).statusCode).toBe(200);
      const size = t2.store.size;
      const r = await t2.app.inject({ method: 'GET', url: '/v1/head' });
      expect(r.statusCode).toBe(429);
      expect(r.json().error.code).toBe('RATE_LIMITED');
      expect(Number(r.headers['retry-after'])).toBeGreaterThan(0);
      const post = await t2.app.inject({ method: 'POST', url: '/v1/transfers', payload: { instructions: ['AAAA'] } });
      expect(post.statusCode).toBe(429);
      expect((await t2.app.inject({ method: 'GET', url: '/nowhere' })).statusCode).toBe(429);
      expect(t2.store.size).toBe(size);
      expect((await t2.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
      expect((await t2.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
      // Another address has its own allowance.
      expect((await t2.app.inject({ method: 'GET', url: '/v1/head', remoteAddress: '10.0.0.2' })).statusCode).toBe(200);
    } finally {
      await t2.close();
    }
  });
});
