import { isAbsolute, join, resolve } from 'node:path';
import type { Io } from './io.ts';

/** `MUTUAL_HOME`, or `~/.mutual`: where the CLI remembers heads and finds local nodes. */
export function mutualHome(io: Io): string {
  const home = io.env.MUTUAL_HOME;
  return home ? resolve(io.cwd, home) : join(io.home, '.mutual');
}

/** A path from the command line, relative to the CLI's working directory. */
export function fromCwd(io: Io, path: string): string {
  return isAbsolute(path) ? path : resolve(io.cwd, path);
}
