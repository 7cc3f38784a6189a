import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const protocolDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = mkdtempSync(join(tmpdir(), 'mutual-proto-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('generated protocol code', () => {
  it('is what the .proto files generate (run `npm run proto` after editing them)', () => {
    execFileSync(process.execPath, [join(protocolDir, 'scripts', 'generate.ts'), out], { stdio: 'pipe' });
    for (const f of ['mutual.js', 'mutual.d.ts']) {
      const fresh = readFileSync(join(out, f), 'utf8');
      const checkedIn = readFileSync(join(protocolDir, 'src', 'gen', f), 'utf8');
      expect(checkedIn, `protocol/src/gen/${f} is stale`).toBe(fresh);
    }
  });
});
