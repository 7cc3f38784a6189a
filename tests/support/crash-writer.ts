// Appends transfers as fast as it can and prints one JSON line per acknowledged one, until it
// is killed. Usage: node crash-writer.ts DATA_DIR SEED
import { MEMBERS, memberIds, openBank, setUp, transfer } from './bank-fixture.ts';

const [dir, seedArg] = process.argv.slice(2);
if (!dir) throw new Error('usage: crash-writer.ts DATA_DIR SEED');
let seed = Number(seedArg ?? 1) >>> 0 || 1;
const random = (n: number) => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return seed % n;
};

const store = await openBank(dir);
await setUp(store);
const next = await Promise.all(memberIds.map(async (id) => (await store.getAccount(id))!.sequence + 1n));
process.stdout.write('{"ready":true}\n');

// Several submissions in flight at once, so that kills land in every phase of a commit.
const IN_FLIGHT = 4;
async function worker(): Promise<never> {
  for (;;) {
    const n = 1 + random(64);
    const batch: Uint8Array[] = [];
    for (let i = 0; i < n; i++) {
      const from = random(MEMBERS);
      const to = (from + 1 + random(MEMBERS - 1)) % MEMBERS;
      batch.push(transfer(from, to, next[from]!++, 1n));
    }
    const results = await store.submitSigned(batch);
    const lines: string[] = [];
    results.forEach((r, i) => {
      if (r.code === 'APPLIED') lines.push(JSON.stringify({ signed: Buffer.from(batch[i]!).toString('base64'), entryIndex: r.entryIndex }));
      else throw new Error(`unexpected rejection ${r.code}`);
    });
    process.stdout.write(lines.join('\n') + '\n');
  }
}
await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
