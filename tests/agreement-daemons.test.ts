// Three real daemons of one bioregion agree on a federation agreement through their admin
// routes: A proposes, B and C sign, and every daemon records the adoption in its own log by
// itself; the agreement stays in force across a restart.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bankDirs, killAll, startBioregion, startMeshDaemon, stopMeshDaemon, waitFor, type MeshDaemon } from './support/mesh-daemon.ts';

interface AgreementRow {
  id: string;
  members: Array<{ bank: string; name: string; signed: boolean }>;
  complete: boolean;
  adopted: boolean;
  inForce: boolean;
}

let tmp: string;
const dirs = (name: string) => bankDirs(tmp, name);
const daemons: Record<'a' | 'b' | 'c', MeshDaemon> = {} as never;

async function call<T>(d: MeshDaemon, method: string, path: string, body?: unknown): Promise<T> {
  const r = await fetch(`${d.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${d.token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
  return (await r.json()) as T;
}
const agreements = async (d: MeshDaemon) => (await call<{ agreements: AgreementRow[] }>(d, 'GET', '/v1/agreements')).agreements;
const lastKinds = async (d: MeshDaemon) => {
  const { size } = await call<{ size: number }>(d, 'GET', '/v1/head');
  const kinds: string[] = [];
  for (const i of [size - 2, size - 1]) kinds.push((await call<{ entry: { kind: string } }>(d, 'GET', `/v1/entries/${i}`)).entry.kind);
  return kinds;
};

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'mutual-agreement-daemons-'));
  Object.assign(daemons, await startBioregion(tmp));
}, 120_000);

afterAll(async () => {
  await killAll();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('a federation agreement between three daemons', () => {
  it('is proposed by A, signed by B and C, and adopted by all three without another step', async () => {
    const { a, b, c } = daemons;
    // A must know B and C (their hellos) to fill in their names.
    await waitFor('a meets b and c', async () => {
      const banks = (await call<{ banks: Array<{ id: string }> }>(a, 'GET', '/v1/banks')).banks;
      return [b, c].every((x) => banks.some((r) => r.id === x.bank));
    });
    // Gossip reaches a peer only once the publisher's gossipsub sees it subscribed.
    for (const x of [a, b, c]) {
      await waitFor(`${x.bank} hears the others on the agreements topic`, async () => {
        const peers = (await call<{ peers: Array<{ bank?: string; gossip: string[] }> }>(x, 'GET', '/v1/peers')).peers;
        return [a, b, c].filter((y) => y !== x).every((y) => peers.some((p) => p.bank === y.bank && p.gossip.includes('agreements')));
      });
    }
    const { id } = await call<{ id: string }>(a, 'POST', '/v1/agreements', { members: [a.bank, b.bank, c.bank], clearingLimit: '500' });
    for (const x of [b, c]) await waitFor(`${x.bank} sees the proposal`, async () => (await agreements(x)).some((r) => r.id === id));
    await call(b, 'POST', `/v1/agreements/${id}/sign`);
    await waitFor('c sees b sign', async () => (await agreements(c)).find((r) => r.id === id)?.members.every((m) => m.bank === c.bank || m.signed));
    await call(c, 'POST', `/v1/agreements/${id}/sign`);
    for (const x of [a, b, c]) {
      const row = await waitFor(`${x.bank} adopts`, async () => (await agreements(x)).find((r) => r.id === id && r.inForce));
      expect(row).toMatchObject({ complete: true, adopted: true, inForce: true });
      expect(row.members.map((m) => m.name)).toEqual(['Alder', 'Birch', 'Cedar']);
      expect(await lastKinds(x)).toEqual(['agreement-adopted', 'rate-schedule']);
    }
  }, 90_000);

  it('stays in force after a restart', async () => {
    const c = daemons.c;
    const [row] = (await agreements(c)).filter((r) => r.inForce);
    expect(await stopMeshDaemon(c)).toBe(0);
    daemons.c = await startMeshDaemon({ ...dirs('c'), name: 'Cedar', bioregion: 'test', bootstrap: [...daemons.a.listen] });
    expect((await agreements(daemons.c)).filter((r) => r.inForce).map((r) => r.id)).toEqual([row!.id]);
  }, 60_000);
});
