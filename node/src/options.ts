import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import { parseAmount } from '@mutual/codec';
import { LIMITS, MutualError } from '@mutual/interface';
import { isWellFormedText } from '@mutual/ledger';
import { parsePort, parseTcpMultiaddr, type TcpMultiaddr } from './multiaddr.ts';

/** Log levels of the node's logger. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The node's validated options: the only place where argv, environment and config meet. */
export interface NodeOptions {
  /** Absolute path of the data directory. */
  readonly data: string;
  /** Where the RPC listens; port 0 picks a free port. */
  readonly rpc: { readonly host: string; readonly port: number };
  /** libp2p listen address (checked now, used once federation is wired). */
  readonly listen: TcpMultiaddr;
  /** Peers to dial first (checked now, used once federation is wired). */
  readonly bootstrap: readonly TcpMultiaddr[];
  /** Bioregion written in the genesis entry of a new ledger. */
  readonly bioregion: string;
  /** Bank name written in the genesis entry of a new ledger. */
  readonly name: string;
  readonly logLevel: LogLevel;
  /** RPC requests per minute from one client address. */
  readonly rateLimit: number;
  /** `MUTUAL_HOME`, or `~/.mutual`: where the discovery file for local clients goes. */
  readonly home: string;
  /**
   * Demo setting: found a federation of this many banks (this one included) by itself, and
   * the clearing limit (milli-notes) of the agreement it proposes. See node/src/founding.ts.
   */
  readonly founding: { readonly members: number; readonly clearingLimit: bigint } | undefined;
}

/** Defaults, each with its unit. */
export const DEFAULTS = {
  data: './data',
  rpc: '127.0.0.1:8547',
  listen: '/ip4/0.0.0.0/tcp/4001',
  bootstrap: [] as readonly string[],
  bioregion: 'default',
  name: 'Mutual Bank',
  logLevel: 'info' as LogLevel,
  /** requests per minute per client address: generous for people and scripts, a brake on floods */
  rateLimit: 600,
  /** notes: clearing limit of a founding agreement proposed with --found-federation */
  clearingLimit: '1000',
} as const;

/** Highest accepted --rate-limit (requests per minute). */
export const MAX_RATE_LIMIT = 1_000_000;

type Key = 'data' | 'rpc' | 'listen' | 'bootstrap' | 'bioregion' | 'name' | 'logLevel' | 'rateLimit' | 'foundFederation' | 'clearingLimit';
const KEYS: readonly Key[] = ['data', 'rpc', 'listen', 'bootstrap', 'bioregion', 'name', 'logLevel', 'rateLimit', 'foundFederation', 'clearingLimit'];

const FLAG: Record<Key, string> = {
  data: 'data',
  rpc: 'rpc',
  listen: 'listen',
  bootstrap: 'bootstrap',
  bioregion: 'bioregion',
  name: 'name',
  logLevel: 'log-level',
  rateLimit: 'rate-limit',
  foundFederation: 'found-federation',
  clearingLimit: 'clearing-limit',
};
const ENV: Record<Key, string> = {
  data: 'MUTUAL_DATA',
  rpc: 'MUTUAL_RPC',
  listen: 'MUTUAL_LISTEN',
  bootstrap: 'MUTUAL_BOOTSTRAP',
  bioregion: 'MUTUAL_BIOREGION',
  name: 'MUTUAL_NAME',
  logLevel: 'MUTUAL_LOG_LEVEL',
  rateLimit: 'MUTUAL_RATE_LIMIT',
  foundFederation: 'MUTUAL_FOUND_FEDERATION',
  clearingLimit: 'MUTUAL_CLEARING_LIMIT',
};

/** Usage text for `--help`. */
export const USAGE = `Usage: mutual node [options]

Runs one bank: its ledger in the data directory and its RPC.
Each option can also be set by environment variable or in a JSON config file
(same names in camelCase). Precedence: flag > environment > config file > default.

  --data DIR            data directory (MUTUAL_DATA, default ${DEFAULTS.data})
  --rpc HOST:PORT       RPC address, also as http://HOST:PORT (MUTUAL_RPC, default ${DEFAULTS.rpc}; port 0: any free port)
  --listen MULTIADDR    peer-to-peer listen address (MUTUAL_LISTEN, default ${DEFAULTS.listen})
  --bootstrap MULTIADDR peer to dial first, repeatable (MUTUAL_BOOTSTRAP, comma-separated)
  --bioregion NAME      bioregion of a new ledger (MUTUAL_BIOREGION, default ${DEFAULTS.bioregion})
  --name BANK_NAME      name of a new bank (MUTUAL_NAME, default "${DEFAULTS.name}")
  --log-level LEVEL     ${LOG_LEVELS.join('|')} (MUTUAL_LOG_LEVEL, default ${DEFAULTS.logLevel})
  --rate-limit N        RPC requests per minute per client address (MUTUAL_RATE_LIMIT, default ${DEFAULTS.rateLimit})
  --found-federation N  demo setting: once N-1 other banks of the bioregion are met, found a federation
                        of these N banks without an operator (MUTUAL_FOUND_FEDERATION; off by default)
  --clearing-limit NOTES clearing limit of that founding agreement (MUTUAL_CLEARING_LIMIT, default ${DEFAULTS.clearingLimit})
  --config FILE         JSON config file (MUTUAL_CONFIG)
  --help                this text

Environment only: MUTUAL_HOME, where the discovery file for local clients goes (default ~/.mutual).

Exit codes: 0 stopped cleanly (SIGTERM or SIGINT); 1 could not start (data directory in use,
damaged database, bad key file) or stopped after a failure (a failed ledger write, a stop past
its deadline); 2 an option is wrong (also one the start finds wrong: an address in use).
`;

/** Where a raw value came from, to name it in an error message. */
interface Raw {
  readonly value: unknown;
  readonly label: string;
  /** directory relative paths are resolved against */
  readonly base: string;
}

function invalid(label: string, why: string): MutualError {
  return new MutualError('CONFIG_INVALID', `${label}: ${why}`);
}

/** Whether argv asks for the usage text. */
export function wantsHelp(argv: readonly string[]): boolean {
  return argv.includes('--help') || argv.includes('-h');
}

/**
 * Reads the node's options from argv (without the program name), the environment and the
 * config file they name, and validates all of them once. Throws MutualError CONFIG_INVALID
 * naming the option (as it was given: flag, variable or config key) and saying why.
 */
export function loadOptions(argv: readonly string[], env: Readonly<Record<string, string | undefined>>, cwd = process.cwd()): NodeOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        data: { type: 'string' },
        rpc: { type: 'string' },
        listen: { type: 'string' },
        bootstrap: { type: 'string', multiple: true },
        bioregion: { type: 'string' },
        name: { type: 'string' },
        'log-level': { type: 'string' },
        'rate-limit': { type: 'string' },
        'found-federation': { type: 'string' },
        'clearing-limit': { type: 'string' },
        config: { type: 'string' },
      },
    });
  } catch (err) {
    throw new MutualError('CONFIG_INVALID', `command line: ${(err as Error).message.split('\n')[0]}`);
  }
  const flags = parsed.values as Record<string, string | string[] | undefined>;

  const fromFlags = new Map<Key, Raw>();
  for (const k of KEYS) {
    const v = flags[FLAG[k]];
    if (v !== undefined) fromFlags.set(k, { value: v, label: `--${FLAG[k]}`, base: cwd });
  }
  const fromEnv = new Map<Key, Raw>();
  for (const k of KEYS) {
    const v = env[ENV[k]];
    if (v === undefined || v === '') continue;
    fromEnv.set(k, { value: k === 'bootstrap' ? v.split(',').map((s) => s.trim()).filter((s) => s !== '') : v, label: ENV[k], base: cwd });
  }

  const configPath = (flags.config as string | undefined) ?? (env.MUTUAL_CONFIG || undefined);
  const configLabel = flags.config !== undefined ? '--config' : 'MUTUAL_CONFIG';
  const fromConfig = configPath === undefined ? new Map<Key, Raw>() : readConfig(resolve(cwd, configPath), configLabel);

  const pick = (k: Key): Raw | undefined => fromFlags.get(k) ?? fromEnv.get(k) ?? fromConfig.get(k);
  const str = (k: Key, dflt: string): { value: string; label: string; base: string } => {
    const raw = pick(k);
    if (raw === undefined) return { value: dflt, label: `--${FLAG[k]}`, base: cwd };
    if (typeof raw.value !== 'string') throw invalid(raw.label, 'must be a string');
    return { value: raw.value, label: raw.label, base: raw.base };
  };

  const data = str('data', DEFAULTS.data);
  if (data.value.trim() === '') throw invalid(data.label, 'must name a directory');

  const rpcRaw = str('rpc', DEFAULTS.rpc);
  const rpc = parseHostPort(rpcRaw.value);
  if (typeof rpc === 'string') throw invalid(rpcRaw.label, `"${rpcRaw.value}" ${rpc}`);

  const listenRaw = str('listen', DEFAULTS.listen);
  const listen = parseTcpMultiaddr(listenRaw.value);
  if (typeof listen === 'string') throw invalid(listenRaw.label, `"${listenRaw.value}" ${listen}`);

  const bootRaw = pick('bootstrap');
  const bootstrap: TcpMultiaddr[] = [];
  if (bootRaw !== undefined) {
    const list = typeof bootRaw.value === 'string' ? [bootRaw.value] : bootRaw.value;
    if (!Array.isArray(list) || !list.every((s) => typeof s === 'string')) throw invalid(bootRaw.label, 'must be a list of multiaddr strings');
    if (list.length > 64) throw invalid(bootRaw.label, 'at most 64 bootstrap addresses');
    for (const s of list as string[]) {
      const m = parseTcpMultiaddr(s);
      if (typeof m === 'string') throw invalid(bootRaw.label, `"${s}" ${m}`);
      bootstrap.push(m);
    }
  }

  const bioregion = str('bioregion', DEFAULTS.bioregion);
  const bioProblem = nameProblem(bioregion.value);
  if (bioProblem) throw invalid(bioregion.label, bioProblem);
  const name = str('name', DEFAULTS.name);
  const nameProb = nameProblem(name.value);
  if (nameProb) throw invalid(name.label, nameProb);

  const level = str('logLevel', DEFAULTS.logLevel);
  if (!(LOG_LEVELS as readonly string[]).includes(level.value)) {
    throw invalid(level.label, `"${level.value}" is not one of ${LOG_LEVELS.join(', ')}`);
  }

  const rateRaw = pick('rateLimit');
  let rateLimit: number = DEFAULTS.rateLimit;
  if (rateRaw !== undefined) {
    const v = rateRaw.value;
    const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d{1,10}$/.test(v) ? Number(v) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < 1 || n > MAX_RATE_LIMIT) {
      throw invalid(rateRaw.label, `${JSON.stringify(v)} is not a whole number of requests per minute from 1 to ${MAX_RATE_LIMIT}`);
    }
    rateLimit = n;
  }

  const foundRaw = pick('foundFederation');
  let founding: NodeOptions['founding'];
  if (foundRaw !== undefined) {
    const v = foundRaw.value;
    const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d{1,3}$/.test(v) ? Number(v) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < 2 || n > LIMITS.MAX_AGREEMENT_MEMBERS) {
      throw invalid(foundRaw.label, `${JSON.stringify(v)} is not a number of banks from 2 to ${LIMITS.MAX_AGREEMENT_MEMBERS}`);
    }
    const limitRaw = pick('clearingLimit');
    const limit = limitRaw === undefined ? DEFAULTS.clearingLimit : typeof limitRaw.value === 'number' ? String(limitRaw.value) : limitRaw.value;
    let clearingLimit: bigint;
    try {
      if (typeof limit !== 'string') throw new Error('must be a decimal number of notes');
      clearingLimit = parseAmount(limit, { allowZero: true });
    } catch (err) {
      throw invalid(limitRaw?.label ?? '--clearing-limit', (err as Error).message);
    }
    founding = { members: n, clearingLimit };
  }

  const home = env.MUTUAL_HOME ? resolve(cwd, env.MUTUAL_HOME) : join(homedir(), '.mutual');

  return {
    data: resolve(data.base, data.value),
    rpc,
    listen,
    bootstrap,
    bioregion: bioregion.value,
    name: name.value,
    logLevel: level.value as LogLevel,
    rateLimit,
    home,
    founding,
  };
}

function readConfig(path: string, label: string): Map<Key, Raw> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw invalid(label, `cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw invalid(label, `${path} is not valid JSON (${(err as Error).message})`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw invalid(label, `${path} must hold a JSON object`);
  const out = new Map<Key, Raw>();
  for (const [k, value] of Object.entries(json)) {
    if (!(KEYS as readonly string[]).includes(k)) {
      throw invalid(label, `unknown key "${k}" in ${path} (known: ${KEYS.join(', ')})`);
    }
    out.set(k as Key, { value, label: `${k} (in ${path})`, base: dirname(path) });
  }
  return out;
}

/** Parses `HOST:PORT` (IPv6 hosts in brackets); returns the reason when it is not. */
export function parseHostPort(text: string): { host: string; port: number } | string {
  // http://HOST:PORT is accepted too, so that one MUTUAL_RPC serves the node and the CLI.
  const m = /^(?:http:\/\/)?(?:\[([0-9a-fA-F:.]+)\]|([^:[\]/]+)):(\d+)\/?$/.exec(text);
  if (!m) return 'must be HOST:PORT or http://HOST:PORT (for example 127.0.0.1:8547, or [::1]:8547)';
  const host = m[1] ?? m[2] ?? '';
  if (m[1] !== undefined && isIP(host) !== 6) return `has "${host}", which is not an IPv6 address`;
  if (m[2] !== undefined && isIP(host) === 0 && !/^[a-zA-Z0-9]([a-zA-Z0-9.-]{0,252})$/.test(host)) {
    return `has "${host}", which is not an IP address or host name`;
  }
  const port = parsePort(m[3] ?? '');
  if (port === undefined) return `has port ${m[3] ?? ''}, which is not from 0 to 65535`;
  return { host, port };
}

/** Why a bank or bioregion name is refused, or undefined (the ledger's own limit, checked early). */
function nameProblem(s: string): string | undefined {
  if (s.trim() === '') return 'must not be empty';
  if (Buffer.byteLength(s, 'utf8') > LIMITS.MAX_NAME_BYTES) return `is longer than ${LIMITS.MAX_NAME_BYTES} bytes of UTF-8`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\uFFFD]/.test(s)) return 'must not contain control characters';
  if (!isWellFormedText(s)) return 'is not well-formed text (a surrogate without its pair)';
  return undefined;
}
