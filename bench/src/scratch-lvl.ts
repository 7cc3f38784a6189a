import { Level } from 'level';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
const db = new Level<Uint8Array, Uint8Array>(mkdtempSync(join(tmpdir(), 'lvl-')), { keyEncoding: 'view', valueEncoding: 'view' });
await db.open();
const N = 32000;
const mk = (b: number) => { const ops = []; for (let i = 0; i < N; i++) { const k = new Uint8Array(21); k[0]=b; new DataView(k.buffer).setUint32(1, i); ops.push({ type: 'put' as const, key: k, value: new Uint8Array(100) }); } return ops; };
for (let r = 0; r < 3; r++) {
  let ops = mk(1); let t = performance.now(); const p = db.batch(ops, { sync: true }); const t1 = performance.now(); await p; console.log('array', ((t1 - t) * 1000 / N).toFixed(2), 'us/op sync-part');
  ops = mk(2); t = performance.now(); const b = db.batch(); for (const o of ops) b.put(o.key, o.value); const p2 = b.write({ sync: true }); const t2 = performance.now(); await p2; console.log('chained', ((t2 - t) * 1000 / N).toFixed(2), 'us/op');
}
await db.close();
