/**
 * The V8 flags a bank node runs with. Every way this project starts one passes them: `npm start`,
 * the image's CMD, `mutual demo`, the benchmarks and the tests' daemons (a test checks the first
 * two against this list).
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
