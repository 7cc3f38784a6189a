// Append rate of the frontier: `node packages/merkle/test/perf.ts [leaves]`.
// Appending costs about one nodeHash per leaf (one per completed parent), so the rate of
// bare nodeHash calls is printed first as the floor. The leaves cycle through 4096
// precomputed leaf hashes, so that holding a million of them does not turn the figure into
// a measure of the garbage collector; the last line adds hashing each entry.
import { Frontier, leafHash, nodeHash } from '../src/index.ts';

const count = Number(process.argv[2] ?? 1_000_000);
const entry = (i: number) => new TextEncoder().encode(`entry ${i}`);
const ring = Array.from({ length: 4096 }, (_, i) => leafHash(entry(i)));
const rate = (ms: number) => `${Math.round(count / (ms / 1000)).toLocaleString('en')}/s`;
const report = (what: string, ms: number) => console.log(`${what}: ${ms.toFixed(0)} ms, ${rate(ms)}`);

let start = performance.now();
for (let i = 0; i < count; i++) nodeHash(ring[i % 4096]!, ring[(i + 1) % 4096]!);
report(`${count.toLocaleString('en')} bare nodeHash calls`, performance.now() - start);

let frontier = new Frontier();
let stored = 0;
start = performance.now();
for (let i = 0; i < count; i++) stored += frontier.append(ring[i % 4096]!).length;
frontier.root();
const appendMs = performance.now() - start;
report(`${count.toLocaleString('en')} appends (${stored.toLocaleString('en')} nodes to store)`, appendMs);

frontier = new Frontier();
start = performance.now();
for (let i = 0; i < count; i++) frontier.append(leafHash(entry(i)));
frontier.root();
report(`${count.toLocaleString('en')} entry encoding + leafHash + append`, performance.now() - start);
