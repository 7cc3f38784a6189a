import { describe, expect, it } from 'vitest';
import { mutual } from './io.ts';

describe('mutual: arguments, help and exit statuses', () => {
  it('documents the exit statuses in --help and exits 0', async () => {
    const r = await mutual(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Exit status:');
    expect(r.stdout).toMatch(/5 {2}the node is unreachable/);
    for (const c of ['keygen', 'account', 'labor', 'transfer', 'retire', 'balance', 'history', 'status', 'head', 'verify', 'audit', 'node']) {
      expect(r.stdout).toContain(`  ${c}`);
    }
    const sub = await mutual(['labor', 'record', '--help']);
    expect(sub.code).toBe(0);
    expect(sub.stdout).toContain('--hours <hours>');
    expect(sub.stdout).toContain('--json'); // global options shown everywhere
  });

  it('exits 2 with a USAGE error for unknown commands, options and missing arguments', async () => {
    for (const args of [['bogus'], ['status', '--bogus'], ['transfer', '1'], ['account', 'open', '--public-key', 'x'], []]) {
      const r = await mutual(args);
      expect(r.code, args.join(' ')).toBe(2);
      if (args.length > 0) expect(r.stderr, args.join(' ')).toMatch(/^error: USAGE: /);
    }
  });

  it('refuses a bad ID, amount or day from the command line with its codec code and exit 2, before any request', async () => {
    let requests = 0;
    const fetch = async () => {
      requests++;
      return new Response('{}');
    };
    const cases: Array<[string[], string]> = [
      [['balance', 'macct1notanaccount'], 'INVALID_ID'],
      [['transfer', '1.0001', '--key', 'k', '--to', 'macct1x'], 'INVALID_AMOUNT'],
      [['history', 'macct1x', '--limit', '0'], 'VALIDATION_FAILED'],
      [['verify', '--bank', 'mbank1typo'], 'INVALID_ID'],
      [['verify', '--entry', '-3'], 'VALIDATION_FAILED'],
    ];
    for (const [args, code] of cases) {
      const r = await mutual(args, { fetch });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toContain(`error: ${code}: `);
    }
    expect(requests).toBe(0);
  });

  it('exits 5 when the node cannot be reached, naming the URL', async () => {
    const fetch = () => Promise.reject(new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED') }));
    const r = await mutual(['status', '--rpc', 'http://10.9.8.7:8547'], { fetch });
    expect(r.code).toBe(5);
    expect(r.stderr).toBe('error: NODE_UNREACHABLE: cannot reach the node at http://10.9.8.7:8547: connect ECONNREFUSED\n');
  });

  it('prints errors as JSON on stderr with --json', async () => {
    const fetch = async () => new Response(JSON.stringify({ error: { code: 'NOT_FOUND', message: 'no such account' } }), { status: 404 });
    const r = await mutual(['--json', 'head'], { fetch });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stderr)).toEqual({ error: { code: 'NOT_FOUND', message: 'no such account' } });
    expect(r.stdout).toBe('');
  });

  it('takes --rpc from MUTUAL_RPC, and the flag over it', async () => {
    const urls: string[] = [];
    const fetch = async (url: string) => {
      urls.push(url);
      return new Response(JSON.stringify({ error: { code: 'NOT_READY', message: 'starting' } }), { status: 503 });
    };
    await mutual(['head'], { fetch, env: { MUTUAL_RPC: 'http://env.test:1' } });
    await mutual(['head', '--rpc', 'http://flag.test:2'], { fetch, env: { MUTUAL_RPC: 'http://env.test:1' } });
    await mutual(['head'], { fetch });
    expect(urls).toEqual(['http://env.test:1/v1/head', 'http://flag.test:2/v1/head', 'http://127.0.0.1:8547/v1/head']);
  });

  it('hands `mutual node` arguments to the daemon untouched', async () => {
    const seen: string[][] = [];
    const loadNode = async () => ({ main: async (args: string[]) => void seen.push(args) });
    const r = await mutual(['node', '--data', 'd', '--rpc', '127.0.0.1:0', '--json'], { loadNode });
    expect(r.code).toBe(0);
    expect(seen).toEqual([['--data', 'd', '--rpc', '127.0.0.1:0', '--json']]);
  });
});

describe('--rpc', () => {
  it('takes a URL, or HOST:PORT as the daemon does', async () => {
    const { rpcUrl } = await import('../src/context.ts');
    expect(rpcUrl('127.0.0.1:8547')).toBe('http://127.0.0.1:8547');
    expect(rpcUrl('http://127.0.0.1:9000')).toBe('http://127.0.0.1:9000');
    expect(rpcUrl('https://bank.example:443')).toBe('https://bank.example:443');
  });
});
