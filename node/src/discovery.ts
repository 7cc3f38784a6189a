import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * What a local client reads from `<home>/run/<port>.json` to find a node running on this
 * machine and, through `data`, its admin token.
 */
export interface DiscoveryRecord {
  /** URL a client on this machine uses for the RPC. */
  readonly rpc: string;
  /** Absolute path of the node's data directory. */
  readonly data: string;
  readonly pid: number;
}

/** Path of the discovery file of the node whose RPC listens on `port`. */
export function discoveryPath(home: string, port: number): string {
  return join(home, 'run', `${port}.json`);
}

/**
 * Writes the discovery file (directory 0700, file 0600). A file left by a node that died on the
 * same port is replaced: the port is ours now. Renamed into place so a reader never sees half.
 */
export function writeDiscovery(home: string, port: number, record: DiscoveryRecord): string {
  const dir = join(home, 'run');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = discoveryPath(home, port);
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(record)}\n`, { mode: 0o600, flag: 'wx' });
  renameSync(tmp, path);
  return path;
}

/** Removes the discovery file if it is still this process's (another node may have taken the port since). */
export function removeDiscovery(path: string, pid = process.pid): void {
  try {
    const rec = JSON.parse(readFileSync(path, 'utf8')) as Partial<DiscoveryRecord>;
    if (rec.pid !== pid) return;
    unlinkSync(path);
  } catch {
    // Already gone or unreadable: nothing of ours to remove.
  }
}

/** The URL a client on this machine uses to reach an RPC bound to `host:port`. */
export function localRpcUrl(host: string, port: number): string {
  // A wildcard bind is reachable through the loopback address.
  if (host === '0.0.0.0' || host === '') return `http://127.0.0.1:${port}`;
  if (host === '::') return `http://[::1]:${port}`;
  return host.includes(':') ? `http://[${host}]:${port}` : `http://${host}:${port}`;
}
