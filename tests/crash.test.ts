// Crash safety: a writer process is killed with SIGKILL at random moments while it appends;
// after each kill the ledger must open, verify completely, and hold every acknowledged
// transfer with its original result.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { verifyStore } from '@mutual/store';
import { afterAll, describe, expect, it } from 'vitest';
import { memberIds, openBank } from './support/bank-fixture.ts';

const here = dirname(fileURLToPath(import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'mutual-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ROUNDS = 20;
const TOTAL_MILLI = BigInt(memberIds.length) * 24_000n;

interface Ack {
  signed: string;
  entryIndex: number;
}

/** Runs the writer until it has acknowledged something, then kills it after `delayMs`. */
function runAndKill(round: number, delayMs: number): Promise<{ acks: Ack[]; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(here, 'support', 'crash-writer.ts'), dir, String(round + 1)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const acks: Ack[] = [];
    let buffer = '';
    let stderr = '';
    let killTimer: NodeJS.Timeout | undefined;
    const deadline = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop()!;
      for (const line of lines) {
        const msg = JSON.parse(line) as Ack | { ready: true };
        if ('ready' in msg) killTimer ??= setTimeout(() => child.kill('SIGKILL'), delayMs);
        else acks.push(msg);
      }
    });
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(deadline);
      clearTimeout(killTimer);
      if (signal !== 'SIGKILL') reject(new Error(`writer exited by itself (${code}): ${stderr}`));
      else resolve({ acks, stderr });
    });
  });
}

describe('a ledger killed with SIGKILL under load', () => {
  it(`keeps every acknowledged transfer across ${ROUNDS} kills, and verifies after each`, async () => {
    const acked: Ack[] = [];
    let seed = 7;
    for (let round = 0; round < ROUNDS; round++) {
      seed = (seed * 48271) % 2147483647;
      const { acks } = await runAndKill(round, 20 + (seed % 400));
      acked.push(...acks);

      const store = await openBank(dir);
      try {
        const report = await verifyStore(store);
        expect(report.problems, `round ${round}`).toEqual([]);
        // Notes only moved between members: the total is what was issued.
        let sum = 0n;
        for (const id of memberIds) sum += (await store.getAccount(id))!.balance;
        expect(sum).toBe(TOTAL_MILLI);
        // Every acknowledged transfer is there, with its original result.
        const resent = await store.submitSigned(acks.map((a) => Buffer.from(a.signed, 'base64')));
        resent.forEach((r, i) => expect(r, `round ${round} ack ${i}`).toMatchObject({ code: 'APPLIED', duplicate: true, entryIndex: acks[i]!.entryIndex }));
        expect(store.size).toBeGreaterThan(acks.length === 0 ? 0 : Math.max(...acks.map((a) => a.entryIndex)));
      } finally {
        await store.close();
      }
    }
    expect(acked.length).toBeGreaterThan(ROUNDS);

    // Finally, everything acknowledged in any round is still there.
    const store = await openBank(dir);
    try {
      for (let i = 0; i < acked.length; i += 1000) {
        const chunk = acked.slice(i, i + 1000);
        const results = await store.submitSigned(chunk.map((a) => Buffer.from(a.signed, 'base64')));
        results.forEach((r, j) => expect(r).toMatchObject({ code: 'APPLIED', duplicate: true, entryIndex: chunk[j]!.entryIndex }));
      }
    } finally {
      await store.close();
    }
  });
});
