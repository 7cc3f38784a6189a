import { readFileSync, realpathSync } from 'node:fs';
import { isIPv4 } from 'node:net';
import { join } from 'node:path';
import type { Io } from './io.ts';
import { fromCwd, mutualHome } from './paths.ts';

/** Where the admin token was found, for messages. */
export interface FoundToken {
  readonly token: string;
  readonly source: string;
}

/** No token applies: the places looked at and, when no token found on this machine may go to `--rpc`, why. */
export interface NoToken {
  readonly looked: string[];
  readonly refused?: string;
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

function parseUrl(url: string): URL | undefined {
  try {
    return new URL(url);
  } catch {
    return undefined;
  }
}

/** The port of a URL, with the scheme's default. */
function portOf(u: URL): string {
  return u.port || (u.protocol === 'https:' ? '443' : '80');
}

/**
 * Hosts that stand for this machine as a whole: a connection to `localhost`, or to an
 * unspecified address (`0.0.0.0`, `[::]`, as a node's own MUTUAL_RPC bind address reads when
 * the CLI runs beside it), reaches the loopback interface.
 */
const THIS_MACHINE = new Set(['localhost', '0.0.0.0', '[::]']);

/**
 * Whether a URL's host is this machine. Only names that cannot be anything else count: a
 * token read here must not leave the machine, whatever the network or DNS says.
 */
function isLoopback(u: URL): boolean {
  // URL has already made the host canonical: lower case, IPv4 in dotted decimal, IPv6 compressed in brackets.
  return THIS_MACHINE.has(u.hostname) || u.hostname === '[::1]' || (isIPv4(u.hostname) && u.hostname.startsWith('127.'));
}

/**
 * Whether `u` reaches the node that wrote `recordRpc`: same scheme and port, and the same
 * loopback host, where `localhost` and the unspecified addresses stand for any loopback address.
 */
function sameNode(u: URL, recordRpc: string): boolean {
  const r = parseUrl(recordRpc);
  if (!r || !isLoopback(r) || r.protocol !== u.protocol || portOf(r) !== portOf(u)) return false;
  return r.hostname === u.hostname || THIS_MACHINE.has(r.hostname) || THIS_MACHINE.has(u.hostname);
}

function sameDir(a: string, b: string): boolean {
  const real = (p: string) => {
    try {
      return realpathSync(p);
    } catch {
      return p;
    }
  };
  return real(a) === real(b);
}

/** The discovery record a node writes at start, when it is well formed. */
function readRecord(path: string): { rpc: string; data: string } | undefined {
  const text = readIfPresent(path);
  if (!text) return undefined;
  let record: { rpc?: unknown; data?: unknown };
  try {
    record = JSON.parse(text) as { rpc?: unknown; data?: unknown };
  } catch {
    return undefined;
  }
  if (typeof record?.rpc !== 'string' || typeof record.data !== 'string' || record.data === '') return undefined;
  return { rpc: record.rpc, data: record.data };
}

/**
 * Finds the node's admin token, first found wins:
 * 1. `--token`;
 * 2. `MUTUAL_ADMIN_TOKEN`;
 * 3. `<--data or MUTUAL_DATA>/admin.token`;
 * 4. the discovery file a node writes at start, `<MUTUAL_HOME or ~/.mutual>/run/<port of --rpc>.json`
 *    (`{ rpc, data, pid }`), then `<data>/admin.token`;
 * 5. `./data/admin.token` (the daemon's default data directory).
 *
 * 1 and 2 are the user's own choice and go to any `--rpc`. A token found on this machine (3 to
 * 5) is the key of a node on this machine, so it is sent only there: `--rpc` must be a loopback
 * address, and when a node's discovery file names that port, `--rpc` must be that node's URL
 * and the token must be from that node's data directory.
 * Returns the places looked at when none has a token.
 */
export function findAdminToken(io: Io, o: { flag?: string; data?: string; rpc: string }): FoundToken | NoToken {
  const looked: string[] = [];
  if (o.flag) return { token: o.flag, source: '--token' };
  looked.push('--token');
  const fromEnv = io.env.MUTUAL_ADMIN_TOKEN;
  if (fromEnv) return { token: fromEnv, source: 'MUTUAL_ADMIN_TOKEN' };
  looked.push('MUTUAL_ADMIN_TOKEN');

  const target = parseUrl(o.rpc);
  if (!target || !isLoopback(target)) {
    return { looked, refused: `${o.rpc} is not an address of this machine (localhost, 127.0.0.1, [::1], 0.0.0.0), and a token found on this machine is sent only to a node on this machine` };
  }
  const discovery = join(mutualHome(io), 'run', `${portOf(target)}.json`);
  const record = readRecord(discovery);
  if (record && !sameNode(target, record.rpc)) {
    return { looked, refused: `the node on port ${portOf(target)} of this machine is at ${record.rpc} (${discovery}), not at ${o.rpc}` };
  }
  // With a discovery record, the port is that node's: another data directory's token is not its token.
  const belongs = (dir: string) => !record || sameDir(dir, fromCwd(io, record.data));

  const data = o.data ?? io.env.MUTUAL_DATA;
  if (data) {
    const dir = fromCwd(io, data);
    const path = join(dir, 'admin.token');
    if (belongs(dir)) {
      const token = readIfPresent(path);
      if (token) return { token, source: path };
      looked.push(path);
    } else {
      looked.push(`${path} (not the data directory of the node at ${record!.rpc})`);
    }
  }

  looked.push(discovery);
  if (record) {
    const path = join(fromCwd(io, record.data), 'admin.token');
    const token = readIfPresent(path);
    if (token) return { token, source: path };
    looked.push(path);
    // ./data is either the directory just read or not this node's.
    return { looked };
  }

  const local = join(io.cwd, 'data', 'admin.token');
  const token = readIfPresent(local);
  if (token) return { token, source: local };
  looked.push(local);
  return { looked };
}
