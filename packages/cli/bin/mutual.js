#!/usr/bin/env node
// The `mutual` command. Node.js 24 runs the TypeScript sources directly.
// `mutual node` runs the daemon in this process: first give it the V8 flags that bound its heap
// (the process restarts itself with them, keeping its PID).
if (process.argv[2] === 'node') (await import('@mutual/node/heap-flags')).restartWithV8Flags();
const { main } = await import('../src/main.ts');

await main();
