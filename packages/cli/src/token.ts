import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Io } from './io.ts';
import { fromCwd, mutualHome } from './paths.ts';

/** Where the admin token was found, for messages. */
export interface FoundToken {
  readonly token: string;
  readonly source: string;
}

/** Longest token file read; a node's token is 64 characters. */
const MAX_TOKEN_FILE_BYTES = 4096;

function readIfPresent(path: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    // Missing: look in the next place. Unreadable (permissions): also the next place, since a
    // token we cannot read is no token to us.
    if ((err as NodeJS.ErrnoException).code) return undefined;
    throw err;
  }
  const token = text.slice(0, MAX_TOKEN_FILE_BYTES).trim();
  return token === '' ? undefined : token;
}

/** The port of an http(s) URL, with the scheme's default. */
function portOf(url: string): string | undefined {
  try {
    const u = new URL(url);
    return u.port || (u.protocol === 'https:' ? '443' : '80');
  } catch {
    return undefined;
  }
}

/**
 * Finds the node's admin token, first found wins:
 * 1. `--token`;
 * 2. `MUTUAL_ADMIN_TOKEN`;
 * 3. `<--data or MUTUAL_DATA>/admin.token`;
 * 4. the discovery file a node writes at start, `<MUTUAL_HOME or ~/.mutual>/run/<port of --rpc>.json`
 *    (`{ rpc, data, pid }`), then `<data>/admin.token`;
 * 5. `./data/admin.token` (the daemon's default data directory).
 * Returns the places looked at when none has a token.
 */
export function findAdminToken(io: Io, o: { flag?: string; data?: string; rpc: string }): FoundToken | { looked: string[] } {
  const looked: string[] = [];
  if (o.flag) return { token: o.flag, source: '--token' };
  looked.push('--token');
  const fromEnv = io.env.MUTUAL_ADMIN_TOKEN;
  if (fromEnv) return { token: fromEnv, source: 'MUTUAL_ADMIN_TOKEN' };
  looked.push('MUTUAL_ADMIN_TOKEN');

  const data = o.data ?? io.env.MUTUAL_DATA;
  if (data) {
    const path = join(fromCwd(io, data), 'admin.token');
    const token = readIfPresent(path);
    if (token) return { token, source: path };
    looked.push(path);
  }

  const port = portOf(o.rpc);
  if (port) {
    const discovery = join(mutualHome(io), 'run', `${port}.json`);
    const text = readIfPresent(discovery);
    looked.push(discovery);
    if (text) {
      let record: { data?: unknown } | undefined;
      try {
        record = JSON.parse(text) as { data?: unknown };
      } catch {
        record = undefined;
      }
      if (record && typeof record.data === 'string' && record.data !== '') {
        const path = join(fromCwd(io, record.data), 'admin.token');
        const token = readIfPresent(path);
        if (token) return { token, source: path };
        looked.push(path);
      }
    }
  }

  const local = join(io.cwd, 'data', 'admin.token');
  const token = readIfPresent(local);
  if (token) return { token, source: local };
  looked.push(local);
  return { looked };
}
