import { homedir } from 'node:os';
import type { FetchFn } from '@mutual/client';

/** The daemon's entry point, as `@mutual/node` exports it. */
export interface NodeModule {
  main(args: string[]): unknown;
}

/**
 * Everything the CLI takes from its process, so that tests run it in-process with captured
 * output, a fake node and temporary directories.
 */
export interface Io {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** the directory relative paths are read from */
  readonly cwd: string;
  /** the user's home directory (for `~/.mutual`) */
  readonly home: string;
  /** `fetch` to reach the node; the global one by default */
  readonly fetch?: FetchFn;
  /** whether to draw progress bars on `stderrStream` */
  readonly stderrIsTTY: boolean;
  readonly stderrStream?: NodeJS.WritableStream;
  /** the clock: ms since the epoch */
  readonly now: () => number;
  /** loads the daemon for `mutual node` */
  readonly loadNode: () => Promise<NodeModule>;
}

/** The Io of the running process. */
export function processIo(): Io {
  return {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    env: process.env,
    cwd: process.cwd(),
    home: homedir(),
    stderrIsTTY: process.stderr.isTTY === true,
    stderrStream: process.stderr,
    now: Date.now,
    // A specifier in a variable: the daemon is loaded only for `mutual node`, and the CLI's
    // other commands do not pay for (or depend on) fastify, LevelDB and libp2p.
    loadNode: () => {
      const specifier = '@mutual/node';
      return import(specifier) as Promise<NodeModule>;
    },
  };
}
