import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { population, transfers, freshBank, drive } from './apply.ts';
import { VerifierPool, measureVerifyRate } from '@mutual/verifier';

const runs = Number(process.env.RUNS ?? 3);
const count = Number(process.env.COUNT ?? 60000);
const p = population(1000);
const signed = transfers(p, count);
const pool = new VerifierPool({ threads: 2 });
const rates: number[] = [];
for (let r = -1; r < runs; r++) {
  const dir = mkdtempSync(join(tmpdir(), 'applyrate-'));
  const store = await freshBank(dir, p, pool);
  const c0 = process.threadCpuUsage();
  const rate = await drive(store, signed);
  const c1 = process.threadCpuUsage(c0);
  console.log(`  main cpu ${((c1.user + c1.system) / count).toFixed(1)} us/transfer`);
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  if (r >= 0) rates.push(rate);
  console.log(`run ${r}: ${Math.round(rate)}/s`);
}
await pool.close();
rates.sort((a, b) => a - b);
const med = rates[Math.floor(rates.length / 2)]!;
let ceil = 0;
if (!process.env.NOCEIL) ceil = (await measureVerifyRate({ threads: 2, durationMs: 2000 })).perSecond;
console.log(`median ${Math.round(med)}/s ceiling ${Math.round(ceil)}/s ratio ${(med / ceil).toFixed(3)}`);
