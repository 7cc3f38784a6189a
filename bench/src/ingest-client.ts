// A separate client process: posts signed transfers to a node in batches, several requests in
// flight, and prints the rate. Usage: node ingest-client.ts URL FILE BATCH IN_FLIGHT
// FILE holds one `LANE<TAB>base64 SignedInstruction` per line. Each lane is sent in order, one
// request at a time, as a payer's own instructions must be (HTTP keeps no order between
// concurrent requests); the lanes run concurrently.
import { readFileSync } from 'node:fs';

const [url, file, batchArg, inFlightArg] = process.argv.slice(2);
if (!url || !file) throw new Error('usage: ingest-client.ts URL FILE BATCH IN_FLIGHT');
const batch = Number(batchArg ?? 1000);
const inFlight = Number(inFlightArg ?? 8);
const lanes = new Map<string, string[]>();
let total = 0;
for (const line of readFileSync(file, 'utf8').split('\n')) {
  if (line.length === 0) continue;
  const [lane, b64] = line.split('\t') as [string, string];
  const list = lanes.get(lane) ?? [];
  list.push(b64);
  lanes.set(lane, list);
  total++;
}

let rejected = 0;
const started = performance.now();
async function lane(lines: string[]): Promise<void> {
  for (let i = 0; i < lines.length; i += batch) {
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
if (lanes.size > inFlight) throw new Error(`${lanes.size} lanes for ${inFlight} requests in flight`);
await Promise.all([...lanes.values()].map(lane));
const seconds = (performance.now() - started) / 1000;
console.log(JSON.stringify({ perSecond: total / seconds, rejected }));
