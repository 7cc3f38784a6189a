import { readFileSync, statSync } from 'node:fs';
import { MAX_KEY_FILE_CHARS, parseKeyFile, type HolderKey } from '@mutual/client';
import { parsingArg, usageError } from './failure.ts';
import type { Io } from './io.ts';
import { fromCwd } from './paths.ts';

/**
 * Reads a holder's key file given on the command line. Refused (exit 2) when missing,
 * malformed, or readable by group or others: a secret key that others can read is no
 * longer only the holder's.
 */
export function readKeyFile(io: Io, path: string): HolderKey {
  const full = fromCwd(io, path);
  let mode: number;
  let size: number;
  try {
    ({ mode, size } = statSync(full));
  } catch (err) {
    throw usageError(`cannot read the key file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'KEY_FILE_INVALID');
  }
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw usageError(`the key file ${path} is readable or writable by group or others (mode ${(mode & 0o777).toString(8)}); run: chmod 600 ${path}`, 'KEY_FILE_INVALID');
  }
  if (size > MAX_KEY_FILE_CHARS) throw usageError(`the key file ${path} is larger than ${MAX_KEY_FILE_CHARS} bytes`, 'KEY_FILE_INVALID');
  return parsingArg(`key file ${path}`, () => parseKeyFile(readFileSync(full, 'utf8')));
}
