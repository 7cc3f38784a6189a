// A bank node whose ledger write fails (a full disk): the RPC answers STORE_CLOSED (503, never
// a 500), /readyz says so, the owner is told once, and the node shows its last durable state.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatPublicKey } from '@mutual/codec';
import { keyPairFromSeed } from '@mutual/verifier';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { failWrites } from '../../packages/store/test/fixture.ts';
import { BankNode, loadOptions } from '../src/index.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const holderKey = () => formatPublicKey(keyPairFromSeed(crypto.getRandomValues(new Uint8Array(32))).publicKey);

describe('a bank node whose ledger write fails', () => {
  it('answers STORE_CLOSED, is not ready, tells its owner once and shows its last durable state', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mutual-write-failure-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const options = loadOptions(['--data', join(dir, 'data'), '--rpc', '127.0.0.1:0', '--listen', '/ip4/127.0.0.1/tcp/0', '--name', 'Full Disk Bank', '--bioregion', 'test'], { MUTUAL_HOME: join(dir, 'home') });
    const fatal: Error[] = [];
    const node = await BankNode.start(options, pino({ level: 'silent' }), { onFatal: (err) => void fatal.push(err) });
    cleanups.push(() => node.stop());
    const token = readFileSync(join(dir, 'data', 'admin.token'), 'utf8').trim();
    const open = () =>
      fetch(`${node.url}/v1/accounts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ publicKey: holderKey(), kind: 'member' }),
      });
    expect((await open()).status).toBe(201);
    const status = async () => (await (await fetch(`${node.url}/v1/status`)).json()) as { log: { size: number }; totals: { accounts: number | string } };
    const before = await status();
    expect((await fetch(`${node.url}/readyz`)).status).toBe(200);

    failWrites(node.store.db);
    const refused = await open();
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('STORE_CLOSED');
    expect(fatal).toHaveLength(1);

    const ready = await fetch(`${node.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { error: { code: string } }).error.code).toBe('STORE_CLOSED');
    expect((await fetch(`${node.url}/healthz`)).status).toBe(200);
    expect(await status()).toEqual(before);

    const again = await open();
    expect(again.status).toBe(503);
    expect(fatal).toHaveLength(1);
  }, 30_000);
});
