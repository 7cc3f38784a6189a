// Three real daemons started with --found-federation 3 (through MUTUAL_FOUND_FEDERATION, as
// the Docker setup does) form their founding agreement with no admin call at all, and keep it,
// without a second one, across a restart.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bankDirs, killAll, logLines, setDaemonEnv, startBioregion, startMeshDaemon, stopMeshDaemon, waitFor, type MeshDaemon } from './support/mesh-daemon.ts';

interface AgreementRow {
  id: string;
  clearingLimit: string;
  previous: string | null;
  members: Array<{ bank: string; name: string; signed: boolean }>;
  complete: boolean;
  inForce: boolean;
}

let tmp: string;
const daemons: Record<'a' | 'b' | 'c', MeshDaemon> = {} as never;
let restoreEnv: (() => void) | undefined;

const agreements = async (d: MeshDaemon): Promise<AgreementRow[]> => {
  const r = await fetch(`${d.url}/v1/agreements`);
  if (r.status !== 200) throw new Error(`GET /v1/agreements: ${r.status}`);
  return ((await r.json()) as { agreements: AgreementRow[] }).agreements;
};

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'mutual-founding-daemons-'));
  // The daemons are children of this process and inherit its environment.
  restoreEnv = setDaemonEnv({ MUTUAL_FOUND_FEDERATION: '3', MUTUAL_CLEARING_LIMIT: '750' });
  Object.assign(daemons, await startBioregion(tmp));
}, 120_000);

afterAll(async () => {
  await killAll();
  restoreEnv?.();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('a federation founded by the banks themselves', () => {
  it('is proposed by the lowest key, signed by the other two and in force at all three', async () => {
    const { a, b, c } = daemons;
    const banks = [a.bank, b.bank, c.bank];
    const rows: AgreementRow[] = [];
    for (const x of [a, b, c]) {
      rows.push(await waitFor(`${x.bank} has an agreement in force`, async () => (await agreements(x)).find((r) => r.inForce), 60_000));
    }
    const [row] = rows;
    for (const r of rows) expect(r.id).toBe(row!.id);
    expect(row).toMatchObject({ complete: true, previous: null, clearingLimit: '750' });
    expect(row!.members.map((m) => m.bank).sort()).toEqual([...banks].sort());
    for (const x of [a, b, c]) expect((await agreements(x)).length).toBe(1);
    // Exactly one bank proposed: the one with the lowest key.
    const proposers = [a, b, c].filter((x) => logLines(x.output()).some((l) => l.msg === 'proposed a founding agreement'));
    expect(proposers.length).toBe(1);
  }, 90_000);

  it('is kept across a restart, and no second agreement is made', async () => {
    const { a, c } = daemons;
    const [before] = (await agreements(c)).filter((r) => r.inForce);
    expect(await stopMeshDaemon(c)).toBe(0);
    daemons.c = await startMeshDaemon({ ...bankDirs(tmp, 'c'), name: 'Cedar', bioregion: 'test', bootstrap: [...a.listen] });
    const rows = await agreements(daemons.c);
    expect(rows.filter((r) => r.inForce).map((r) => r.id)).toEqual([before!.id]);
    // Give it the time of several founding steps: still nothing new, anywhere.
    await new Promise((r) => setTimeout(r, 3000));
    for (const x of [daemons.a, daemons.b, daemons.c]) expect((await agreements(x)).map((r) => r.id)).toEqual([before!.id]);
    expect(logLines(daemons.c.output()).some((l) => l.msg === 'an agreement is in force: founding is over')).toBe(true);
  }, 60_000);
});
