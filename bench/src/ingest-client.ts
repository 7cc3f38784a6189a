// A separate client process: posts signed transfers to a node in batches, several requests in
// flight, and prints the rate. Usage: node ingest-client.ts URL FILE BATCH IN_FLIGHT
// FILE holds one base64 SignedInstruction per line.
import { readFileSync } from 'node:fs';

const [url, file, batchArg, inFlightArg] = process.argv.slice(2);
if (!url || !file) throw new Error('usage: ingest-client.ts URL FILE BATCH IN_FLIGHT');
const batch = Number(batchArg ?? 1000);
const inFlight = Number(inFlightArg ?? 8);
const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.length > 0);

let next = 0;
let rejected = 0;
const started = performance.now();
async function lane(): Promise<void> {
  for (;;) {
    const i = next;
    next += batch;
    if (i >= lines.length) return;
    const res = await fetch(`${url}/v1/transfers`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ instructions: lines.slice(i, i + batch) }),
    });
    if (!res.ok) throw new Error(`POST /v1/transfers: ${res.status} ${await res.text()}`);
    const body = (await res.json()) as { results: Array<{ code: string }> };
    rejected += body.results.filter((r) => r.code !== 'APPLIED').length;
  }
}
await Promise.all(Array.from({ length: inFlight }, lane));
const seconds = (performance.now() - started) / 1000;
console.log(JSON.stringify({ perSecond: lines.length / seconds, rejected }));
