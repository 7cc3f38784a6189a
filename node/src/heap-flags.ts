import { wantsHelp } from './options.ts';

/**
 * The V8 flags a bank node runs with. Every way this project starts one passes them: `npm start`,
 * the image's CMD, `mutual demo`, the benchmarks and the tests' daemons (a test checks the first
 * two against this list). A node started without them (`mutual node`, or `node node/src/main.ts`
 * by hand) restarts itself with them: {@link restartWithV8Flags}.
 *
 * Under a burst of submissions, V8's defaults let the young generation grow to 64 MB per
 * semi-space and the old generation grow to several times what is live before a full
 * collection: a node applying 100,000 transfers 8,000 at a time peaked at about 475 MB, while
 * its live heap stayed under 50 MB. With these two flags the same run peaks at about 280 MB at
 * the same apply rate (docs/BENCHMARKS.md, `scale`). Under RPC ingest the daemon peaks at about
 * 295 MB instead of 550 MB, at about a tenth fewer transfers per second (`ingest`).
 * - `--max-semi-space-size=8`: a young generation of at most 8 MB per semi-space.
 * - `--heap-growing-percent=20`: the next full collection when the old generation has grown by
 *   a fifth over what the last one left, instead of a factor V8 chooses between 1.1 and 4.
 */
export const NODE_V8_FLAGS: readonly string[] = ['--max-semi-space-size=8', '--heap-growing-percent=20'];

const nameOf = (flag: string): string => flag.replace(/^--/, '').split('=')[0]!.replaceAll('_', '-');

/**
 * The flags of {@link NODE_V8_FLAGS} that this process was not started with, by name: a flag
 * given with another value counts as given (the operator's choice). `NODE_OPTIONS` is looked at
 * too, though Node.js accepts only some V8 flags there (`--max-semi-space-size`, not
 * `--heap-growing-percent`).
 */
export function missingV8Flags(execArgv: readonly string[] = process.execArgv, nodeOptions = process.env.NODE_OPTIONS ?? ''): string[] {
  const given = new Set([...execArgv, ...nodeOptions.split(/\s+/)].filter((a) => a.startsWith('--')).map(nameOf));
  return NODE_V8_FLAGS.filter((f) => !given.has(nameOf(f)));
}

/**
 * Set in the environment of the process that {@link restartWithV8Flags} becomes, so that it does
 * not try again.
 */
export const RESTARTED_ENV = 'MUTUAL_NODE_RESTARTED_WITH_V8_FLAGS';

/**
 * The arguments (after the node executable) that run this process's script again with the
 * missing flags of {@link NODE_V8_FLAGS} added after its own options; undefined when none is
 * missing, when this process is already such a restart, when it runs no script file, or when it
 * was asked for help (`--help`, `-h`).
 */
export function restartArgs(
  execArgv: readonly string[] = process.execArgv,
  argv: readonly string[] = process.argv,
  env: NodeJS.ProcessEnv = process.env,
): string[] | undefined {
  if (env[RESTARTED_ENV] !== undefined) return undefined;
  // Asked for help only: nothing to run for long.
  if (wantsHelp(argv.slice(2))) return undefined;
  const script = argv[1];
  if (script === undefined || script === '' || execArgv.some((a) => a === '-e' || a === '--eval' || a === '-p' || a === '--print')) return undefined;
  const missing = missingV8Flags(execArgv, env.NODE_OPTIONS ?? '');
  if (missing.length === 0) return undefined;
  return [...execArgv, ...missing, script, ...argv.slice(2)];
}

/**
 * Replaces this process by the same command with the missing V8 flags (`process.execve`: the
 * same PID, environment, standard streams and arguments, so a supervisor notices nothing).
 * Returns, and the process goes on without the flags, when none is missing, when it was already
 * restarted, when it has an IPC channel (which it would lose), or when Node.js cannot replace a
 * process (22 before 22.15, 23 before 23.11, Windows); the node then names the missing flags in its
 * log. Only the standard streams pass to the new program: a process handed other file
 * descriptors should be started with the flags. Call it first thing in an entry point, before any
 * thread, file or socket is opened.
 */
export function restartWithV8Flags(): void {
  // A process started with an IPC channel (child_process.fork) would lose it.
  if (process.channel !== undefined) return;
  const args = restartArgs();
  if (args === undefined || typeof process.execve !== 'function') return;
  try {
    process.execve(process.execPath, [process.execPath, ...args], { ...process.env, [RESTARTED_ENV]: '1' });
  } catch {
    // Not replaced (an odd file system, a sandbox refusing execve): run on without the flags.
  }
}
