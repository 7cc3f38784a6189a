import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findAdminToken } from '../src/index.ts';
import { captureIo, mutual, tempDir } from './io.ts';

function put(path: string, text: string): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text, { mode: 0o600 });
}

/** A layout where every source of a token exists, each with its own token; a node runs on port 9999. */
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
    const find = (rpc: string, env: Record<string, string>, o: { flag?: string; data?: string }) =>
      findAdminToken(captureIo({ cwd: l.cwd, env: { MUTUAL_HOME: l.home, ...env } }).io, { rpc, ...o });
    const node = 'http://127.0.0.1:9999';
    // No node has written a discovery file for port 8547.
    const unknown = 'http://127.0.0.1:8547';
    expect(find(node, { MUTUAL_ADMIN_TOKEN: 'from-env' }, { flag: 'from-flag', data: l.flagData })).toMatchObject({ token: 'from-flag' });
    expect(find(node, { MUTUAL_ADMIN_TOKEN: 'from-env' }, { data: l.flagData })).toMatchObject({ token: 'from-env' });
    expect(find(unknown, {}, { data: l.flagData })).toMatchObject({ token: 'from-data' });
    expect(find(unknown, { MUTUAL_DATA: l.flagData }, {})).toMatchObject({ token: 'from-data' });
    expect(find(node, {}, { data: l.discovered })).toMatchObject({ token: 'from-discovery', source: join(l.discovered, 'admin.token') });
    expect(find(node, {}, {})).toMatchObject({ token: 'from-discovery', source: join(l.discovered, 'admin.token') });
    // The discovery file is per port: another port falls through to ./data.
    expect(find(unknown, {}, {})).toMatchObject({ token: 'from-cwd' });
    // Nothing anywhere: the places looked at, for the message.
    const empty = tempDir();
    const none = findAdminToken(captureIo({ cwd: empty, home: empty }).io, { rpc: node });
    expect(none).toEqual({ looked: ['--token', 'MUTUAL_ADMIN_TOKEN', join(empty, '.mutual', 'run', '9999.json'), join(empty, 'data', 'admin.token')] });
  });

  it('sends a token found on this machine only to the node it belongs to', () => {
    const l = everywhere();
    const find = (rpc: string, o: { flag?: string; data?: string } = {}, env: Record<string, string> = {}) =>
      findAdminToken(captureIo({ cwd: l.cwd, env: { MUTUAL_HOME: l.home, MUTUAL_DATA: l.flagData, ...env } }).io, { rpc, ...o });
    // Another host on the node's port, or on a port no node of this machine uses: no file is read.
    for (const rpc of ['http://evil.example.org:9999', 'http://evil.example.org:8547', 'http://192.168.1.5:9999', 'http://0.0.0.1:9999', 'not a url']) {
      const r = find(rpc, { data: l.flagData });
      expect(r, rpc).toEqual({ looked: ['--token', 'MUTUAL_ADMIN_TOKEN'], refused: expect.stringContaining('is not an address of this machine') });
    }
    // The user's own token goes where the user says.
    expect(find('http://evil.example.org:9999', { flag: 'mine' })).toMatchObject({ token: 'mine' });
    expect(find('http://evil.example.org:9999', {}, { MUTUAL_ADMIN_TOKEN: 'mine' })).toMatchObject({ token: 'mine' });
    // The node on 9999 is at 127.0.0.1: localhost reaches it; [::1], another loopback address or https does not.
    expect(find('http://localhost:9999', { data: l.discovered })).toMatchObject({ token: 'from-discovery' });
    expect(find('http://127.1:9999/', { data: l.discovered })).toMatchObject({ token: 'from-discovery' });
    // The unspecified address, as a node's own MUTUAL_RPC bind address reads beside it, reaches this machine.
    expect(find('http://0.0.0.0:9999', { data: l.discovered })).toMatchObject({ token: 'from-discovery' });
    expect(find('http://[::]:9999', { data: l.discovered })).toMatchObject({ token: 'from-discovery' });
    for (const rpc of ['http://[::1]:9999', 'http://127.0.0.2:9999', 'https://127.0.0.1:9999']) {
      expect(find(rpc), rpc).toMatchObject({ refused: expect.stringContaining('is at http://127.0.0.1:9999') });
    }
    // The data directory given is not that of the node on 9999: its token is not sent there.
    const other = find('http://127.0.0.1:9999', { data: l.flagData });
    expect(other).toMatchObject({ token: 'from-discovery' });
    const onlyOther = findAdminToken(captureIo({ cwd: l.cwd, env: { MUTUAL_HOME: tempDir() } }).io, { rpc: 'http://127.0.0.1:9999', data: l.flagData });
    expect(onlyOther).toMatchObject({ token: 'from-data' });
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
    expect(none.stderr).toMatch(/^error: UNAUTHORIZED: this command needs the node's admin token; none found in: .*give it with --token TOKEN or MUTUAL_ADMIN_TOKEN/);
    expect(auth).toHaveLength(1);
  });

  it("never sends this machine's token to another host on the node's port", async () => {
    const l = everywhere();
    const sent: Array<{ url: string; auth: string | null }> = [];
    const fetch = async (url: string, init: RequestInit) => {
      sent.push({ url, auth: new Headers(init.headers).get('authorization') });
      return Response.json({ error: { code: 'UNAUTHORIZED', message: 'no' } }, { status: 401 });
    };
    const keygen = await mutual(['keygen'], { cwd: l.cwd });
    const mpub = (JSON.parse(keygen.stdout) as { publicKey: string }).publicKey;
    const o = { fetch, cwd: l.cwd, env: { MUTUAL_HOME: l.home, MUTUAL_DATA: l.discovered } };
    const evil = 'http://evil.example.org:9999';
    for (const args of [
      ['account', 'open', '--public-key', mpub, '--kind', 'member'],
      ['agreement', 'propose', '--member', 'mbank1qurswpc8qurswpc8qurswpc8qurswpc8qurswpc8qurswpc8qurs8cdr87', '--clearing-limit', '1'],
      ['agreement', 'sign', 'ab'.repeat(32)],
    ]) {
      const r = await mutual(['--rpc', evil, ...args, '--data', l.discovered], o);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^error: UNAUTHORIZED: this command needs the node's admin token; give it with --token TOKEN or MUTUAL_ADMIN_TOKEN: http:\/\/evil\.example\.org:9999 is not an address of this machine/);
    }
    expect(sent).toEqual([]);
    // Given by the user, it is sent.
    await mutual(['--rpc', evil, '--token', 'mine', 'agreement', 'sign', 'ab'.repeat(32)], o);
    expect(sent).toEqual([{ url: `${evil}/v1/agreements/${'ab'.repeat(32)}/sign`, auth: 'Bearer mine' }]);
  });
});
