import { MutualError } from '@mutual/interface';

/** Maps a LevelDB open failure to a Mutual error with a stable code. */
export function openError(dir: string, err: unknown): MutualError {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  const code = cause?.code ?? (err as { code?: string }).code;
  if (code === 'LEVEL_LOCKED') {
    return new MutualError('DATA_DIR_IN_USE', `data directory ${dir} is in use by another process`, { cause: err });
  }
  const detail = cause?.message ?? (err as Error).message;
  return new MutualError('DB_CORRUPT', `cannot open the database in ${dir}: ${detail}`, { cause: err });
}

export function corrupt(what: string, cause?: unknown): MutualError {
  return new MutualError('DB_CORRUPT', `database is damaged: ${what}`, cause === undefined ? undefined : { cause });
}
