import { chmodSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatBankId } from '@mutual/codec';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDataDir, readBankKey } from '../src/index.ts';
import { tempDir } from './fixture.ts';

let root: string;
let cleanup: () => void;
let dir: string;
beforeEach(() => {
  ({ dir: root, cleanup } = tempDir('mutual-datadir-'));
  dir = join(root, 'data');
});
afterEach(() => cleanup());

const mode = (p: string) => statSync(p).mode & 0o777;

function refusal(): { code: string; message: string } {
  try {
    openDataDir(dir);
  } catch (err) {
    return { code: (err as { code: string }).code, message: (err as Error).message };
  }
  throw new Error('the data directory was accepted');
}

describe('first start', () => {
  it('creates the directory 0700 and the key and token files 0600', () => {
    const d = openDataDir(dir);
    expect(mode(dir)).toBe(0o700);
    expect(mode(join(dir, 'bank.key'))).toBe(0o600);
    expect(mode(join(dir, 'admin.token'))).toBe(0o600);
    expect(d.created).toEqual({ bankKey: true, adminToken: true });
    expect(d.adminToken).toMatch(/^[0-9a-f]{64}$/);
    expect(d.ledgerDir).toBe(join(dir, 'ledger'));
    // No temporary files are left behind.
    expect(readdirSync(dir).sort()).toEqual(['admin.token', 'bank.key']);
  });

  it('writes the bank key as JSON naming the bank, with a 32-byte base64 seed', () => {
    const d = openDataDir(dir);
    const json = JSON.parse(readFileSync(join(dir, 'bank.key'), 'utf8'));
    expect(Object.keys(json).sort()).toEqual(['bank', 'kind', 'seed']);
    expect(json.kind).toBe('mutual-bank-key');
    expect(json.bank).toBe(formatBankId(d.bankKeys.publicKey));
    expect(Buffer.from(json.seed, 'base64')).toHaveLength(32);
    expect(readFileSync(join(dir, 'admin.token'), 'utf8')).toBe(d.adminToken);
  });

  it('gives every bank its own key and token', () => {
    const a = openDataDir(dir);
    const b = openDataDir(join(root, 'other'));
    expect(formatBankId(a.bankKeys.publicKey)).not.toBe(formatBankId(b.bankKeys.publicKey));
    expect(a.adminToken).not.toBe(b.adminToken);
  });
});

describe('later starts', () => {
  it('read the same key and token and rewrite nothing', () => {
    const a = openDataDir(dir);
    const keyBefore = readFileSync(join(dir, 'bank.key'));
    const mtime = statSync(join(dir, 'bank.key')).mtimeMs;
    const b = openDataDir(dir);
    expect(b.created).toEqual({ bankKey: false, adminToken: false });
    expect(b.bankKeys.publicKey).toEqual(a.bankKeys.publicKey);
    expect(b.adminToken).toBe(a.adminToken);
    expect(readFileSync(join(dir, 'bank.key'))).toEqual(keyBefore);
    expect(statSync(join(dir, 'bank.key')).mtimeMs).toBe(mtime);
  });

  it('accept a token file with a trailing newline (written by hand)', () => {
    const a = openDataDir(dir);
    writeFileSync(join(dir, 'admin.token'), `${a.adminToken}\n`);
    expect(openDataDir(dir).adminToken).toBe(a.adminToken);
  });
});

describe('refusals (KEY_FILE_INVALID)', () => {
  it('a key file readable by group or others, naming the file and the fix', () => {
    openDataDir(dir);
    chmodSync(join(dir, 'bank.key'), 0o640);
    const r = refusal();
    expect(r.code).toBe('KEY_FILE_INVALID');
    expect(r.message).toContain(join(dir, 'bank.key'));
    expect(r.message).toMatch(/mode 640.*chmod 600/);
    chmodSync(join(dir, 'bank.key'), 0o604);
    expect(refusal().code).toBe('KEY_FILE_INVALID');
  });

  it('a token file readable by others', () => {
    openDataDir(dir);
    chmodSync(join(dir, 'admin.token'), 0o644);
    const r = refusal();
    expect(r.code).toBe('KEY_FILE_INVALID');
    expect(r.message).toContain('admin.token');
  });

  it('malformed key files', () => {
    openDataDir(dir);
    const keyPath = join(dir, 'bank.key');
    const good = JSON.parse(readFileSync(keyPath, 'utf8'));
    const cases: Array<[unknown, RegExp]> = [
      ['not json', /is not JSON/],
      [[1], /not a JSON object/],
      [{ ...good, kind: 'other' }, /"kind"/],
      [{ ...good, seed: 'AAAA' }, /"seed"/],
      [{ ...good, extra: 1 }, /unknown fields \(extra\)/],
      [{ ...good, bank: formatBankId(new Uint8Array(32)) }, /"bank" that is not the bank ID of its seed/],
    ];
    for (const [content, why] of cases) {
      writeFileSync(keyPath, typeof content === 'string' ? content : JSON.stringify(content), { mode: 0o600 });
      const r = refusal();
      expect(r.code).toBe('KEY_FILE_INVALID');
      expect(r.message).toMatch(why);
    }
    // And the refusals left the file as it was: nothing is rewritten.
    expect(JSON.parse(readFileSync(keyPath, 'utf8')).bank).toBe(formatBankId(new Uint8Array(32)));
  });

  it('malformed token files', () => {
    openDataDir(dir);
    for (const bad of ['', 'abc', 'G'.repeat(64), 'A'.repeat(64)]) {
      writeFileSync(join(dir, 'admin.token'), bad, { mode: 0o600 });
      const r = refusal();
      expect(r.code).toBe('KEY_FILE_INVALID');
      expect(r.message).toMatch(/64 lower-case hex/);
    }
  });

  it('a data path that is a file is CONFIG_INVALID', () => {
    writeFileSync(dir, 'x');
    expect(refusal().code).toBe('CONFIG_INVALID');
  });

  it('readBankKey never puts the seed in its error messages', () => {
    openDataDir(dir);
    const keyPath = join(dir, 'bank.key');
    const good = JSON.parse(readFileSync(keyPath, 'utf8'));
    writeFileSync(keyPath, JSON.stringify({ ...good, bank: 'mbank1wrong' }), { mode: 0o600 });
    try {
      readBankKey(keyPath);
      throw new Error('accepted');
    } catch (err) {
      expect((err as Error).message).not.toContain(good.seed);
    }
    expect(existsSync(keyPath)).toBe(true);
  });
});
