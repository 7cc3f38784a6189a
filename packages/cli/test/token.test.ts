import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findAdminToken } from '../src/index.ts';
import { captureIo, mutual, tempDir } from './io.ts';

function put(path: string, text: string): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text, { mode: 0o600 });
}

/** A layout where every source of a token exists, each with its own token. */
function everywhere() {
  const root = tempDir();
  const cwd = join(root, 'cwd');
  const home = join(root, 'home');
  const flagData = join(root, 'flag-data');
  const discovered = join(root, 'discovered-data');
  put(join(flagData, 'admin.token'), 'from-data\n');
  put(join(home, 'run', '9999.json'), JSON.stringify({ rpc: 'http://127.0.0.1:9999', data: discovered, pid: 1 }));
  put(join(discovered, 'admin.token'), 'from-discovery\n');
  put(join(cwd, 'data', 'admin.token'), 'from-cwd\n');
  return { cwd, home, flagData, discovered };
}

describe('admin token discovery', () => {
  it('takes the first of --token, MUTUAL_ADMIN_TOKEN, --data/MUTUAL_DATA, the discovery file, ./data', () => {
    const l = everywhere();
    const rpc = 'http://127.0.0.1:9999';
    const find = (env: Record<string, string>, o: { flag?: string; data?: string }) =>
      findAdminToken(captureIo({ cwd: l.cwd, env: { MUTUAL_HOME: l.home, ...env } }).io, { rpc, ...o });
    expect(find({ MUTUAL_ADMIN_TOKEN: 'from-env' }, { flag: 'from-flag', data: l.flagData })).toMatchObject({ token: 'from-flag' });
    expect(find({ MUTUAL_ADMIN_TOKEN: 'from-env' }, { data: l.flagData })).toMatchObject({ token: 'from-env' });
    expect(find({}, { data: l.flagData })).toMatchObject({ token: 'from-data' });
    expect(find({ MUTUAL_DATA: l.flagData }, {})).toMatchObject({ token: 'from-data' });
    expect(find({}, {})).toMatchObject({ token: 'from-discovery', source: join(l.discovered, 'admin.token') });
    // The discovery file is per port: another port falls through to ./data.
    expect(findAdminToken(captureIo({ cwd: l.cwd, env: { MUTUAL_HOME: l.home } }).io, { rpc: 'http://127.0.0.1:8547' })).toMatchObject({ token: 'from-cwd' });
    // Nothing anywhere: the places looked at, for the message.
    const empty = tempDir();
    const none = findAdminToken(captureIo({ cwd: empty, home: empty }).io, { rpc });
    expect(none).toEqual({ looked: ['--token', 'MUTUAL_ADMIN_TOKEN', join(empty, '.mutual', 'run', '9999.json'), join(empty, 'data', 'admin.token')] });
  });

  it('sends the discovered token with account open, and nothing when there is none', async () => {
    const l = everywhere();
    const auth: Array<string | undefined> = [];
    const fetch = async (_url: string, init: RequestInit) => {
      auth.push((init.headers as Record<string, string>).authorization);
      return new Response(JSON.stringify({ account: 'macct1a', kind: 'member', entryIndex: 4 }), { status: 201 });
    };
    // a valid public key, from a generated key file
    const keygen = await mutual(['keygen'], { cwd: l.cwd });
    const mpub = (JSON.parse(keygen.stdout) as { publicKey: string }).publicKey;
    const r = await mutual(['account', 'open', '--public-key', mpub, '--kind', 'member', '--rpc', 'http://127.0.0.1:9999'], { fetch, cwd: l.cwd, env: { MUTUAL_HOME: l.home } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('opened member account macct1a (log entry 4)\n');
    expect(auth).toEqual(['Bearer from-discovery']);
    const empty = tempDir();
    const none = await mutual(['account', 'open', '--public-key', mpub, '--kind', 'member'], { fetch, cwd: empty, home: empty });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^error: UNAUTHORIZED: this command needs the node's admin token/);
    expect(auth).toHaveLength(1);
  });
});
