// `npm run bench`: runs the suite (suite.ts) in a child process whose temporary directory
// is one directory made for this run, and removes that directory when the suite ends, however
// it ends. A full run's logs and bank directories come to gigabytes.
//
// The removal is done here, after the suite has exited, because a signal can stop the suite
// while work it started is still in flight off its main thread (LevelDB creating or writing a
// database, a child process shutting down); removing the data from inside the suite could
// race with that work and leave a directory behind.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = mkdtempSync(join(tmpdir(), 'mutual-bench-'));
const suite = spawn(process.execPath, [...process.execArgv, join(import.meta.dirname, 'suite.ts'), ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: { ...process.env, TMPDIR: root },
});

let stoppedBy: NodeJS.Signals | undefined;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stoppedBy) return;
    stoppedBy = signal;
    process.stderr.write(`${signal}: removing the benchmarks' temporary data\n`);
    // Ctrl-C reaches the whole process group; a SIGTERM sent to this process alone is passed on.
    suite.kill(signal);
  });
}

const code = await new Promise<number>((resolve) => {
  suite.once('error', (err) => {
    process.stderr.write(`cannot start the benchmark suite: ${err.message}\n`);
    resolve(1);
  });
  suite.once('exit', (exitCode, signal) => resolve(exitCode ?? (signal === 'SIGINT' ? 130 : signal === 'SIGTERM' ? 143 : 1)));
});
await removeSettled(root);
process.exit(stoppedBy === 'SIGINT' ? 130 : stoppedBy === 'SIGTERM' ? 143 : code);

/**
 * Removes `dir`, then keeps it removed until it has stayed gone for a second (a process the
 * suite started may still be writing as it shuts down), for at most ten seconds.
 */
async function removeSettled(dir: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  let goneSince = Date.now();
  rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  while (Date.now() - goneSince < 1000 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    if (existsSync(dir)) {
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
      goneSince = Date.now();
    }
  }
  if (existsSync(dir)) process.stderr.write(`could not remove ${dir}: something is still writing to it\n`);
}
