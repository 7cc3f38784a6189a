#!/usr/bin/env node
// The `mutual` command. Node.js 24 runs the TypeScript sources directly.
import { main } from '../src/main.ts';

await main();
