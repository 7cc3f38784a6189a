import { writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULTS, loadOptions, parseHostPort, parseTcpMultiaddr } from '../src/index.ts';
import { tempDir } from './fixture.ts';

let dir: string;
let cleanup: () => void;
beforeEach(() => {
  ({ dir, cleanup } = tempDir('mutual-options-'));
});
afterEach(() => cleanup());

const config = (obj: unknown, name = 'mutual.json') => {
  const p = join(dir, name);
  writeFileSync(p, typeof obj === 'string' ? obj : JSON.stringify(obj));
  return p;
};

/** The CONFIG_INVALID message of loading these options. */
function refusal(argv: string[], env: Record<string, string> = {}): string {
  try {
    loadOptions(argv, env, dir);
  } catch (err) {
    expect((err as { code?: string }).code).toBe('CONFIG_INVALID');
    return (err as Error).message;
  }
  throw new Error('options were accepted');
}

describe('defaults', () => {
  it('are those of the product brief', () => {
    const o = loadOptions([], {}, dir);
    expect(o).toMatchObject({
      data: join(dir, 'data'),
      rpc: { host: '127.0.0.1', port: 8547 },
      bootstrap: [],
      bioregion: 'default',
      name: 'Mutual Bank',
      logLevel: 'info',
      rateLimit: DEFAULTS.rateLimit,
      home: join(homedir(), '.mutual'),
    });
    expect(o.listen).toMatchObject({ protocol: 'ip4', host: '0.0.0.0', port: 4001 });
  });
});

describe('precedence', () => {
  it('flag > environment > config file > default, option by option', () => {
    const file = config({ data: 'from-config', rpc: '127.0.0.1:1000', name: 'Config Bank', bioregion: 'Config', logLevel: 'warn' });
    const o = loadOptions(['--data', 'from-flag', '--config', file], { MUTUAL_DATA: 'from-env', MUTUAL_RPC: '127.0.0.1:2000', MUTUAL_NAME: 'Env Bank' }, dir);
    expect(o.data).toBe(join(dir, 'from-flag'));
    expect(o.rpc.port).toBe(2000);
    expect(o.name).toBe('Env Bank');
    expect(o.bioregion).toBe('Config');
    expect(o.logLevel).toBe('warn');
    expect(o.listen.port).toBe(4001);
  });

  it('MUTUAL_CONFIG names the config file; a relative data dir in it is relative to the file', () => {
    const file = config({ data: 'bank-a', bootstrap: ['/dns4/peer.example/tcp/4001'] });
    const o = loadOptions([], { MUTUAL_CONFIG: file }, '/');
    expect(o.data).toBe(join(dir, 'bank-a'));
    expect(o.bootstrap.map((b) => b.text)).toEqual(['/dns4/peer.example/tcp/4001']);
  });

  it('--bootstrap is repeatable; MUTUAL_BOOTSTRAP is comma-separated; the flag wins', () => {
    const a = '/ip4/10.0.0.1/tcp/4001';
    const b = '/ip6/::1/tcp/4002';
    expect(loadOptions([], { MUTUAL_BOOTSTRAP: `${a}, ${b}` }, dir).bootstrap.map((m) => m.text)).toEqual([a, b]);
    expect(loadOptions(['--bootstrap', b, '--bootstrap', a], { MUTUAL_BOOTSTRAP: a }, dir).bootstrap.map((m) => m.text)).toEqual([b, a]);
  });

  it('MUTUAL_HOME moves the discovery directory; port 0 is allowed', () => {
    const o = loadOptions(['--rpc', '127.0.0.1:0'], { MUTUAL_HOME: 'home' }, dir);
    expect(o.home).toBe(join(dir, 'home'));
    expect(o.rpc.port).toBe(0);
  });

  it('--rate-limit, MUTUAL_RATE_LIMIT and rateLimit in the config set requests per minute', () => {
    expect(loadOptions(['--rate-limit', '5'], {}, dir).rateLimit).toBe(5);
    expect(loadOptions([], { MUTUAL_RATE_LIMIT: '7' }, dir).rateLimit).toBe(7);
    expect(loadOptions(['--config', config({ rateLimit: 9 })], {}, dir).rateLimit).toBe(9);
  });
});

describe('validation', () => {
  it('names the option as it was given and says why', () => {
    expect(refusal(['--rpc', 'localhost'])).toMatch(/^--rpc: "localhost" must be HOST:PORT/);
    expect(refusal([], { MUTUAL_RPC: '127.0.0.1:70000' })).toMatch(/^MUTUAL_RPC: .*not from 0 to 65535/);
    expect(refusal(['--listen', '/ip4/300.1.1.1/tcp/4001'])).toMatch(/^--listen: .*not an IPv4 address/);
    expect(refusal(['--listen', '/ip4/1.2.3.4/udp/4001'])).toMatch(/^--listen: .*\/tcp\/<port>/);
    expect(refusal(['--bootstrap', '/ip4/1.2.3.4/tcp/4001', '--bootstrap', 'peer:4001'])).toMatch(/^--bootstrap: "peer:4001" must start with "\/"/);
    expect(refusal([], { MUTUAL_LOG_LEVEL: 'loud' })).toMatch(/^MUTUAL_LOG_LEVEL: "loud" is not one of/);
    expect(refusal(['--name', ''])).toMatch(/^--name: must not be empty/);
    expect(refusal(['--bioregion', 'x'.repeat(65)])).toMatch(/^--bioregion: is longer than 64 bytes/);
    expect(refusal(['--name', 'tab\there'])).toMatch(/control characters/);
    expect(refusal(['--name', 'Alder \uD83C'])).toMatch(/well-formed/);
    expect(refusal(['--rate-limit', '0'])).toMatch(/^--rate-limit: .*requests per minute/);
    expect(refusal(['--rate-limit', '2.5'])).toMatch(/^--rate-limit/);
  });

  it('refuses unknown flags and positional arguments', () => {
    expect(refusal(['--port', '8547'])).toMatch(/command line: .*--port/);
    expect(refusal(['serve'])).toMatch(/command line/);
  });

  it('refuses a config file that is missing, not JSON, not an object, or has unknown keys', () => {
    expect(refusal(['--config', join(dir, 'nope.json')])).toMatch(/^--config: cannot read .*ENOENT/);
    expect(refusal(['--config', config('{ data: 1 }')])).toMatch(/^--config: .* is not valid JSON/);
    expect(refusal(['--config', config([1, 2])])).toMatch(/must hold a JSON object/);
    expect(refusal(['--config', config({ data: 'd', port: 1 })])).toMatch(/unknown key "port"/);
    expect(refusal([], { MUTUAL_CONFIG: config({ 'log-level': 'info' }) })).toMatch(/^MUTUAL_CONFIG: unknown key "log-level"/);
  });

  it('names the config key and file when a value in the file is wrong', () => {
    const file = config({ rpc: 8547 });
    expect(refusal(['--config', file])).toBe(`rpc (in ${file}): must be a string`);
    const file2 = config({ bootstrap: '/ip4/1.2.3.4/tcp/1' }, 'b.json');
    expect(loadOptions(['--config', file2], {}, dir).bootstrap).toHaveLength(1);
    const file3 = config({ bootstrap: [1] }, 'c.json');
    expect(refusal(['--config', file3])).toMatch(/^bootstrap \(in .*\): must be a list of multiaddr strings/);
  });
});

describe('address parsers', () => {
  it('parseHostPort takes IPv4, host names and bracketed IPv6', () => {
    expect(parseHostPort('0.0.0.0:8547')).toEqual({ host: '0.0.0.0', port: 8547 });
    expect(parseHostPort('bank.local:1')).toEqual({ host: 'bank.local', port: 1 });
    expect(parseHostPort('[::1]:0')).toEqual({ host: '::1', port: 0 });
    expect(typeof parseHostPort('::1:8547')).toBe('string');
    expect(typeof parseHostPort('[zz]:1')).toBe('string');
    expect(typeof parseHostPort(':8547')).toBe('string');
    // the URL form the CLI takes
    expect(parseHostPort('http://127.0.0.1:8547')).toEqual({ host: '127.0.0.1', port: 8547 });
    expect(parseHostPort('http://[::1]:9/')).toEqual({ host: '::1', port: 9 });
    expect(typeof parseHostPort('https://127.0.0.1:8547')).toBe('string');
    expect(typeof parseHostPort('http://127.0.0.1:8547/v1')).toBe('string');
  });

  it('parseTcpMultiaddr takes ip4/ip6/dns addresses with a TCP port and an optional peer ID', () => {
    const peer = '12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo';
    expect(parseTcpMultiaddr(`/dns/bank-b/tcp/4001/p2p/${peer}`)).toMatchObject({ protocol: 'dns', host: 'bank-b', port: 4001, peerId: peer });
    expect(typeof parseTcpMultiaddr('/ip4/1.2.3.4/tcp/4001/p2p/0OIl')).toBe('string');
    expect(typeof parseTcpMultiaddr('/ip4/1.2.3.4/tcp/65536')).toBe('string');
    expect(typeof parseTcpMultiaddr('/ip4/1.2.3.4')).toBe('string');
    expect(typeof parseTcpMultiaddr(`/ip4/1.2.3.4/tcp/1/p2p/${peer}/extra`)).toBe('string');
  });
});
