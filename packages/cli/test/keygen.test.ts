import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseKeyFile } from '@mutual/client';
import { formatPublicKey } from '@mutual/codec';
import { describe, expect, it } from 'vitest';
import { mutual, tempDir } from './io.ts';

describe('mutual keygen and key files', () => {
  it('writes a key file readable only by its owner and prints its public key', async () => {
    const cwd = tempDir();
    const r = await mutual(['keygen', '--out', 'alice.key'], { cwd });
    expect(r.code).toBe(0);
    const path = join(cwd, 'alice.key');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const key = parseKeyFile(readFileSync(path, 'utf8'));
    expect(r.stdout).toContain(`public key: ${formatPublicKey(key.publicKey)}`);
    expect(r.stdout).toContain('depends on the bank');
    const j = await mutual(['keygen', '--out', 'bob.key', '--json'], { cwd });
    expect(JSON.parse(j.stdout)).toEqual({ publicKey: formatPublicKey(parseKeyFile(readFileSync(join(cwd, 'bob.key'), 'utf8')).publicKey), file: join(cwd, 'bob.key') });
  });

  it('never overwrites a file', async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'alice.key'), 'precious');
    const r = await mutual(['keygen', '--out', 'alice.key'], { cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/already exists/);
    expect(readFileSync(join(cwd, 'alice.key'), 'utf8')).toBe('precious');
  });

  it('refuses key files that others can read, or that are not key files, with exit 2', async () => {
    const cwd = tempDir();
    await mutual(['keygen', '--out', 'k.key'], { cwd });
    const open = join(cwd, 'open.key');
    writeFileSync(open, readFileSync(join(cwd, 'k.key')), { mode: 0o644 });
    const r = await mutual(['balance', '--key', 'open.key'], { cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: KEY_FILE_INVALID: .*readable or writable by group or others/);
    writeFileSync(join(cwd, 'bad.key'), '{"kind":"mutual-key"}', { mode: 0o600 });
    expect((await mutual(['balance', '--key', 'bad.key'], { cwd })).stderr).toMatch(/^error: KEY_FILE_INVALID: key file bad.key: not a Mutual key file/);
    expect((await mutual(['balance', '--key', 'missing.key'], { cwd })).code).toBe(2);
  });
});
