// Three real daemons of one bioregion in a mesh on 127.0.0.1, each later one bootstrapped to
// every earlier one, founding a federation by themselves: peers, replication of a bank's log
// at every node, catch-up of a node restarted after downtime, a bank outside the federation
// met but not replicated, and a daemon of another bioregion kept out.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newHolder } from '../node/test/fixture.ts';
import { bankDirs, FEDERATE, killAll, logLines, startBioregion, startMeshDaemon, stopMeshDaemon, waitFederated, waitFor, type MeshDaemon } from './support/mesh-daemon.ts';

interface PeerRow {
  peerId: string;
  bank?: string;
  name?: string;
  bioregion?: string;
  addresses: string[];
}
interface BankRow {
  id: string;
  name: string;
  bioregion: string;
  self: boolean;
  head: { size: number; root: string } | null;
  replicated: number;
  behind: number;
  replicating: boolean;
}

let tmp: string;
const dirs = (name: string) => bankDirs(tmp, name);
const daemons: Record<'a' | 'b' | 'c', MeshDaemon> = {} as never;

async function getJson<T>(url: string): Promise<T> {
  const r = await fetch(url);
  if (r.status !== 200) throw new Error(`GET ${url}: ${r.status} ${await r.text()}`);
  return (await r.json()) as T;
}
const peers = async (d: MeshDaemon) => (await getJson<{ peers: PeerRow[] }>(`${d.url}/v1/peers`)).peers;
const banks = async (d: MeshDaemon) => (await getJson<{ banks: BankRow[] }>(`${d.url}/v1/banks`)).banks;
const sizeOf = async (d: MeshDaemon) => (await getJson<{ size: number }>(`${d.url}/v1/head`)).size;

/** Opens `n` accounts at `d`, one commit each; returns the log size after them. */
async function commit(d: MeshDaemon, n: number): Promise<number> {
  for (let i = 0; i < n; i++) {
    const r = await fetch(`${d.url}/v1/accounts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${d.token}` },
      body: JSON.stringify({ publicKey: newHolder().key, kind: 'member' }),
    });
    if (r.status !== 201) throw new Error(`opening an account failed: ${r.status} ${await r.text()}`);
  }
  return sizeOf(d);
}

/** `at`'s row of `of`'s bank once it holds exactly `size` entries of it, verified, none behind. */
const caughtUp = (at: MeshDaemon, of: MeshDaemon, size: number) => async () => {
  const row = (await banks(at)).find((b) => b.id === of.bank);
  return row && row.replicated === size && row.behind === 0 && row.head?.size === size ? row : undefined;
};

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'mutual-mesh-daemons-'));
  Object.assign(daemons, await startBioregion(tmp, FEDERATE));
  await waitFederated(Object.values(daemons));
}, 120_000);

afterAll(async () => {
  await killAll();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('three daemons of one bioregion', () => {
  it('each lists the two others as peers, with bank, name and bioregion from their hellos', async () => {
    const { a, b, c } = daemons;
    for (const d of [a, b, c]) {
      const others = [a, b, c].filter((x) => x !== d);
      const rows = await waitFor(`the peers of ${d.bank}`, async () => {
        const p = await peers(d);
        return others.every((o) => p.some((r) => r.bank === o.bank)) ? p : undefined;
      });
      expect(rows.map((r) => r.bank).sort()).toEqual(others.map((o) => o.bank).sort());
      for (const o of others) {
        expect(rows.find((r) => r.bank === o.bank)).toMatchObject({ peerId: o.peerId, bioregion: 'test' });
      }
      expect(rows.flatMap((r) => r.addresses).every((x) => x.startsWith('/ip4/127.0.0.1/'))).toBe(true);
    }
    expect((await peers(b)).find((r) => r.bank === a.bank)?.name).toBe('Alder');
  });

  it("replicates bank A's log at every node after commits at A", async () => {
    const { a, b, c } = daemons;
    const size = await commit(a, 3);
    for (const d of [b, c]) {
      const row = await waitFor(`${d.bank} to hold A's ${size} entries`, caughtUp(d, a, size));
      expect(row).toMatchObject({ name: 'Alder', bioregion: 'test', self: false });
    }
    const own = (await banks(a)).find((r) => r.self);
    expect(own).toMatchObject({ id: a.bank, replicated: size, behind: 0 });
    expect(own?.head?.size).toBe(size);
    const rootAtA = own!.head!.root;
    for (const d of [b, c]) expect((await banks(d)).find((r) => r.id === a.bank)?.head?.root).toBe(rootAtA);
  });

  it('a node stopped while A commits catches up when it comes back with the same data and bootstrap', async () => {
    const { a, b } = daemons;
    expect(await stopMeshDaemon(daemons.c)).toBe(0);
    const before = (await banks(a)).find((r) => r.self)!.replicated;
    const size = await commit(a, 4);
    expect(size).toBe(before + 4);
    await waitFor('B to hold the new entries', caughtUp(b, a, size));
    daemons.c = await startMeshDaemon({ ...dirs('c'), name: 'Cedar', bioregion: 'test', bootstrap: [...a.listen, ...b.listen], args: FEDERATE });
    const row = await waitFor("C to catch up on A's log", caughtUp(daemons.c, a, size));
    expect(row.name).toBe('Alder');
  });

  it('a bank of the bioregion outside the federation is met and its heads are shown, but its log is not replicated', async () => {
    const { a } = daemons;
    const outsider = await startMeshDaemon({ ...dirs('outsider'), name: 'Douglas', bioregion: 'test', bootstrap: a.listen });
    const size = await commit(outsider, 3);
    const row = await waitFor("A to show the outsider's latest head", async () => {
      const r = (await banks(a)).find((x) => x.id === outsider.bank);
      return r?.head?.size === size ? r : undefined;
    });
    expect(row).toMatchObject({ name: 'Douglas', self: false, replicating: false, replicated: 0 });
    // Had A replicated it, the entries would follow their head within a catch-up round (2 s).
    await new Promise((r) => setTimeout(r, 3_000));
    expect((await banks(a)).find((x) => x.id === outsider.bank)).toMatchObject({ replicating: false, replicated: 0, behind: size });
    for (const r of (await banks(a)).filter((x) => !x.self && x.id !== outsider.bank)) expect(r.replicating).toBe(true);
    expect(await stopMeshDaemon(outsider)).toBe(0);
    await waitFor('A to see the outsider gone', async () => (await peers(a)).every((p) => p.bank !== outsider.bank));
  });

  it('a daemon of another bioregion bootstrapped to A is hung up on and never listed', async () => {
    const { a } = daemons;
    const other = await startMeshDaemon({ ...dirs('other'), name: 'Saguaro', bioregion: 'elsewhere', bootstrap: a.listen });
    // A says when it hangs up; until then the test would prove nothing.
    await waitFor('A to refuse the other bioregion', async () =>
      logLines(a.output()).some((r) => r.peer === other.peerId && r.bioregion === 'elsewhere'),
    );
    await waitFor('the connection to close on both sides', async () => {
      const [p, q] = [await peers(a), await peers(other)];
      return p.every((r) => r.peerId !== other.peerId) && q.length === 0;
    });
    expect((await banks(a)).map((r) => r.id)).not.toContain(other.bank);
    expect((await banks(other)).map((r) => r.id)).toEqual([other.bank]);
    expect((await peers(a)).map((r) => r.bank).sort()).toEqual([daemons.b.bank, daemons.c.bank].sort());
  });
});
