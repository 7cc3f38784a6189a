// The Docker setup, tested for real (`npm run test:docker`; needs a container engine, so not
// part of `npm test`): builds the image, brings docker-compose.yml up, waits for the banks'
// health and their founding agreement, runs the demo, checks reconciliation at all three
// banks, restarts one bank's container and checks that it lost nothing and caught up, and
// brings everything down with its volumes.
//
// Engine: `docker` with `docker compose` when it answers, else `podman` with
// `podman-compose`. Environment: MUTUAL_DOCKER_PROJECT (compose project name, default
// mutual-docker-test), MUTUAL_DOCKER_KEEP=1 to leave the containers and volumes up at the end.
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..', '..');
const PROJECT = process.env.MUTUAL_DOCKER_PROJECT || 'mutual-docker-test';
const KEEP = process.env.MUTUAL_DOCKER_KEEP === '1';
const IMAGE = 'mutual-node:latest';
const BANKS = ['bank-a', 'bank-b', 'bank-c'] as const;
type Bank = (typeof BANKS)[number];
const PORT: Record<Bank, number> = { 'bank-a': 8547, 'bank-b': 8548, 'bank-c': 8549 };
const url = (b: Bank) => `http://127.0.0.1:${PORT[b]}`;

// ---- engine ---------------------------------------------------------------------------

function works(cmd: string, args: string[]): boolean {
  return spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
}
const engine = works('docker', ['compose', 'version']) ? 'docker' : works('podman', ['--version']) ? 'podman' : undefined;
if (!engine) {
  console.error('no container engine: install Docker (with compose), or podman and podman-compose');
  process.exit(2);
}
const compose: [string, string[]] = engine === 'docker' ? ['docker', ['compose', '-p', PROJECT, '-f', 'docker-compose.yml']] : ['podman-compose', ['-p', PROJECT, '-f', 'docker-compose.yml']];

interface Run {
  status: number;
  out: string;
  err: string;
}
function run(cmd: string, args: string[], opts: { input?: string; quiet?: boolean; timeoutMs?: number } = {}): Run {
  const r = spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8', input: opts.input ?? '', timeout: opts.timeoutMs ?? 600_000, maxBuffer: 64 << 20 });
  const res = { status: r.status ?? -1, out: r.stdout ?? '', err: r.stderr ?? '' };
  if (!opts.quiet && res.status !== 0) process.stderr.write(`$ ${cmd} ${args.join(' ')}\n${res.out}${res.err}\n`);
  return res;
}
const dc = (args: string[], opts?: Parameters<typeof run>[2]) => run(compose[0], [...compose[1], ...args], opts);

/** The container of a service, by the labels both compose implementations set. */
function container(b: Bank): string {
  const r = run(engine!, ['ps', '-a', '--filter', `label=com.docker.compose.project=${PROJECT}`, '--filter', `label=com.docker.compose.service=${b}`, '--format', '{{.Names}}'], { quiet: true });
  const name = r.out.trim().split('\n')[0];
  if (!name) throw new Error(`no container for ${b}`);
  return name;
}

/** Runs a command inside a bank's container (through the engine: podman-compose prints its own lines on stdout). */
const exec = (b: Bank, args: string[]) => run(engine!, ['exec', container(b), ...args]);
const mutual = (b: Bank, args: string[]) => exec(b, ['mutual', ...args]);

// ---- steps ----------------------------------------------------------------------------

const t0 = Date.now();
const failures: string[] = [];
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

async function step(name: string, fn: () => Promise<void> | void): Promise<boolean> {
  const start = Date.now();
  process.stdout.write(`\n== ${name}\n`);
  try {
    await fn();
    process.stdout.write(`   ok (${secs(Date.now() - start)})\n`);
    return true;
  } catch (err) {
    process.stdout.write(`   FAILED (${secs(Date.now() - start)}): ${(err as Error).message}\n`);
    failures.push(`${name}: ${(err as Error).message}`);
    return false;
  }
}

function check(cond: unknown, what: string): asserts cond {
  if (!cond) throw new Error(what);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function waitFor<T>(what: string, cond: () => Promise<T | undefined | false> | T | undefined | false, deadlineMs = 120_000): Promise<T> {
  const end = Date.now() + deadlineMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await cond();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`timed out after ${secs(deadlineMs)} waiting for ${what}${last ? ` (${String(last)})` : ''}`);
    await sleep(1000);
  }
}

const tokens = new Map<Bank, string>();
async function get<T>(b: Bank, path: string): Promise<T> {
  const token = tokens.get(b);
  const r = await fetch(`${url(b)}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {}, signal: AbortSignal.timeout(10_000) });
  if (r.status !== 200) throw new Error(`GET ${path} at ${b}: ${r.status} ${(await r.text()).slice(0, 300)}`);
  return (await r.json()) as T;
}

interface Head {
  size: number;
  root: string;
}
interface AgreementRow {
  id: string;
  previous: string | null;
  members: Array<{ bank: string; name: string }>;
  inForce: boolean;
}
interface BankRow {
  id: string;
  self: boolean;
  replicated: number;
  behind: number;
}
interface Reconciliation {
  ok: boolean;
  pairs: unknown[];
}

/** Healthy as the image's HEALTHCHECK says (podman without systemd runs it only on demand). */
function healthy(b: Bank): boolean {
  const name = container(b);
  if (engine === 'podman') return run('podman', ['healthcheck', 'run', name], { quiet: true }).status === 0;
  return run('docker', ['inspect', '-f', '{{.State.Health.Status}}', name], { quiet: true }).out.trim() === 'healthy';
}

const agreementInForce = async (b: Bank) => (await get<{ agreements: AgreementRow[] }>(b, '/v1/agreements')).agreements.find((r) => r.inForce);
const bankId = async (b: Bank) => (await get<{ bank: { id: string } }>(b, '/v1/status')).bank.id;

async function reconciled(): Promise<void> {
  for (const b of BANKS) {
    const r = await get<Reconciliation>(b, '/v1/reconciliation');
    check(Array.isArray(r.pairs) && r.pairs.length > 0, `${b}: no reconciliation pairs`);
    check(r.ok === true, `${b}: reconciliation pairs do not all match: ${JSON.stringify(r.pairs).slice(0, 500)}`);
    console.log(`   ${b}: ${r.pairs.length} pairs, all match`);
  }
}

function tail(b: Bank): void {
  const r = run(engine!, ['logs', '--tail', '30', container(b)], { quiet: true });
  process.stdout.write(`--- last log lines of ${b}\n${r.out}${r.err}`);
}

// ---- the run --------------------------------------------------------------------------

console.log(`engine: ${engine}, project: ${PROJECT}`);
let up = false;
try {
  const ready = await step('preflight: host ports 8547-8549 are free', async () => {
    for (const b of BANKS) {
      const taken = await fetch(`${url(b)}/healthz`, { signal: AbortSignal.timeout(2000) }).then(() => true, () => false);
      check(!taken, `something already answers on ${url(b)}: stop it first (docker compose down?)`);
    }
  });
  if (!ready) throw new Error('preflight failed');

  if (!(await step(`build the image ${IMAGE}`, () => {
    const args = engine === 'podman' ? ['build', '--format', 'docker', '-t', IMAGE, '.'] : ['build', '-t', IMAGE, '.'];
    const r = run(engine!, args, { timeoutMs: 1_200_000 });
    check(r.status === 0, `${engine} build exited ${r.status}`);
  }))) throw new Error('no image');

  await step('bring the three banks up', () => {
    dc(['down', '-v', '-t', '20'], { quiet: true });
    up = true;
    const r = dc(['up', '-d', ...BANKS]);
    check(r.status === 0, `compose up exited ${r.status}`);
  });

  await step('wait until every bank is healthy (HEALTHCHECK on /readyz)', async () => {
    for (const b of BANKS) await waitFor(`${b} healthy`, () => healthy(b));
    for (const b of BANKS) {
      const r = exec(b, ['cat', '/data/admin.token']);
      check(r.status === 0 && /^[0-9a-f]{16,}$/.test(r.out.trim()), `cannot read ${b}'s admin token`);
      tokens.set(b, r.out.trim());
    }
  });

  await step("the image's CMD runs each node with the heap flags (NODE_V8_FLAGS: none logged missing or added by a restart)", () => {
    for (const b of BANKS) {
      const logs = run(engine!, ['logs', container(b)], { quiet: true });
      check(/"msg":"bank node started"/.test(logs.out + logs.err), `${b}: no 'bank node started' in its log`);
      check(!/started without the V8 flags|restarted with the V8 flags/.test(logs.out + logs.err), `${b} did not start with the V8 flags of NODE_V8_FLAGS`);
    }
  });

  let founding: AgreementRow | undefined;
  await step('the banks found their federation agreement by themselves', async () => {
    const ids = await Promise.all(BANKS.map((b) => bankId(b)));
    const rows: AgreementRow[] = [];
    for (const b of BANKS) rows.push(await waitFor(`${b}: an agreement in force`, () => agreementInForce(b)));
    founding = rows[0]!;
    for (const r of rows) check(r.id === founding.id, 'the banks have different agreements in force');
    check(founding.previous === null, 'the agreement in force is not a founding agreement');
    check(JSON.stringify(founding.members.map((m) => m.bank).sort()) === JSON.stringify([...ids].sort()), 'its members are not exactly the three banks');
    console.log(`   agreement ${founding.id.slice(0, 16)}… in force at all three: ${founding.members.map((m) => m.name).join(', ')}`);
  });

  await step('each bank keeps one connection to each other bank, though all three dial each other', async () => {
    type Peers = { peers: Array<{ name?: string; addresses: string[]; gossip: string[] }> };
    const settled = async (b: Bank) => {
      const { peers } = await get<Peers>(b, '/v1/peers');
      return peers.length === 2 && peers.every((p) => p.addresses.length === 1 && p.gossip.includes('heads')) ? peers : undefined;
    };
    for (const b of BANKS) {
      const peers = await waitFor(`${b}: one connection to each of the two others`, () => settled(b), 60_000);
      console.log(`   ${b}: ${peers.map((p) => `${p.name ?? '?'} by ${p.addresses.length} connection`).join(', ')}`);
    }
  });

  await step('the mutual CLI works inside a container (compose exec bank-a mutual status)', () => {
    const viaCompose = dc(['exec', '-T', 'bank-a', 'mutual', 'status']);
    check(viaCompose.status === 0, `compose exec bank-a mutual status exited ${viaCompose.status}`);
    const r = mutual('bank-a', ['status', '--json']);
    check(r.status === 0, `mutual status --json exited ${r.status}`);
    const s = JSON.parse(r.out) as { bank: { name: string } };
    check(s.bank.name === 'Bank A', `unexpected status: ${r.out.slice(0, 200)}`);
  });

  await step('run the demo (compose run demo): cooperatives, members, labor, transfers, reconciliation', () => {
    const help = mutual('bank-a', ['--help']);
    check(/^\s+demo\b/m.test(help.out), 'the image\'s mutual has no `demo` command yet');
    const r = dc(['run', '--rm', '-T', '--no-deps', 'demo'], { timeoutMs: 600_000 });
    process.stdout.write(r.out.split('\n').map((l) => `   | ${l}`).join('\n') + '\n');
    check(r.status === 0, `the demo exited ${r.status}`);
  });

  await step('every reconciliation pair matches at all three banks', reconciled);

  // ---- bank-b goes down; bank-a goes on, and pays bank-b meanwhile ----
  const ids = { a: '', b: '' };
  const who = { alice: '', bob: '' };
  await step('accounts for the restart test: a cooperative and a member at bank-a (8 hours of labor), a member at bank-b', () => {
    const must = (b: Bank, args: string[]) => {
      const r = mutual(b, args);
      check(r.status === 0, `${b}: mutual ${args.join(' ')} exited ${r.status}`);
      return r.out.trim();
    };
    must('bank-a', ['keygen', '--out', '/tmp/restart-coop.key']);
    must('bank-a', ['keygen', '--out', '/tmp/restart-alice.key']);
    must('bank-b', ['keygen', '--out', '/tmp/restart-bob.key']);
    must('bank-a', ['account', 'open', '--kind', 'cooperative', '--label', 'Restart Coop', '--key', '/tmp/restart-coop.key']);
    must('bank-a', ['account', 'open', '--kind', 'member', '--label', 'Alice', '--key', '/tmp/restart-alice.key']);
    must('bank-b', ['account', 'open', '--kind', 'member', '--label', 'Bob', '--key', '/tmp/restart-bob.key']);
    who.alice = must('bank-a', ['account', 'id', '--key', '/tmp/restart-alice.key']);
    who.bob = must('bank-b', ['account', 'id', '--key', '/tmp/restart-bob.key']);
    must('bank-a', ['labor', 'record', '--key', '/tmp/restart-coop.key', '--worker', who.alice, '--hours', '8', '--category', 'standard']);
  });

  let before: Head | undefined;
  await step('stop bank-b: a clean stop on SIGTERM', async () => {
    [ids.a, ids.b] = [await bankId('bank-a'), await bankId('bank-b')];
    before = await get<Head>('bank-b', '/v1/head');
    const name = container('bank-b');
    const stopStart = Date.now();
    const stopped = dc(['stop', '-t', '20', 'bank-b']);
    check(stopped.status === 0, `compose stop exited ${stopped.status}`);
    const code = run(engine!, ['inspect', '-f', '{{.State.ExitCode}}', name], { quiet: true }).out.trim();
    const logs = run(engine!, ['logs', '--tail', '5', name], { quiet: true });
    check(code === '0', `bank-b exited with ${code}, not 0`);
    check(/"msg":"stopped"/.test(logs.out + logs.err), 'bank-b did not log a clean stop');
    console.log(`   bank-b stopped in ${secs(Date.now() - stopStart)}, exit code 0`);
  });

  let aHead: Head | undefined;
  let pending: number | undefined;
  await step('while bank-b is down: bank-a pays Bob at bank-b 2 notes (pending), and its log grows', async () => {
    const r = mutual('bank-a', ['--json', 'transfer', '--key', '/tmp/restart-alice.key', '--to', who.bob, '--to-bank', ids.b, '2', '--memo', 'while bank-b was down']);
    aHead = await get<Head>('bank-a', '/v1/head');
    check(r.status === 0, `the interbank transfer exited ${r.status}`);
    const applied = JSON.parse(r.out) as { code: string; entryIndex: number };
    check(applied.code === 'APPLIED', `the interbank transfer was ${applied.code}`);
    pending = applied.entryIndex;
    const shown = mutual('bank-a', ['--json', 'interbank', 'show', String(pending)]);
    check(shown.status === 0, `mutual interbank show exited ${shown.status}`);
    const state = (JSON.parse(shown.out) as { state: string }).state;
    check(state === 'pending', `with bank-b down, the transfer is ${state}, not pending`);
    console.log(`   interbank transfer: bank-a entry ${pending}, ${state}`);
  });

  await step('start bank-b: nothing lost, and it catches up with what it missed', async () => {
    check(before !== undefined && aHead !== undefined, 'nothing recorded before the stop');
    check(dc(['start', 'bank-b']).status === 0, 'compose start bank-b failed');
    await waitFor('bank-b healthy again', () => healthy('bank-b'));
    const same = await get<Head>('bank-b', `/v1/heads/${before.size}`);
    check(same.root === before.root, `bank-b's head at size ${before.size} changed: ${same.root} != ${before.root}`);
    const after = await get<Head>('bank-b', '/v1/head');
    check(after.size >= before.size, 'bank-b\'s log is shorter than before');
    const inForce = await agreementInForce('bank-b');
    check(inForce?.id === founding?.id, 'bank-b no longer has the founding agreement in force');
    await waitFor('bank-b holds bank-a\'s log up to its head of the downtime', async () => {
      const row = (await get<{ banks: BankRow[] }>('bank-b', '/v1/banks')).banks.find((r) => r.id === ids.a);
      return row !== undefined && row.replicated >= aHead!.size && row.behind === 0;
    });
    await waitFor('bank-a holds all of bank-b\'s log', async () => {
      const row = (await get<{ banks: BankRow[] }>('bank-a', '/v1/banks')).banks.find((r) => r.id === ids.b);
      return row !== undefined && row.replicated >= after.size && row.behind === 0;
    });
    const audit = mutual('bank-b', ['audit', '--no-remember']);
    check(audit.status === 0, `mutual audit of bank-b exited ${audit.status}`);
    console.log(`   bank-b: same root at its old size ${before.size}, log now ${after.size}, audit ok; it holds bank-a's ${aHead.size} entries`);
  });

  await step('the transfer made while bank-b was down is credited to Bob at bank-b', async () => {
    check(pending !== undefined, 'no transfer was made');
    const r = mutual('bank-a', ['--json', 'interbank', 'show', String(pending), '--wait', '120']);
    check(r.status === 0, `mutual interbank show --wait exited ${r.status}`);
    const t = JSON.parse(r.out) as { state: string };
    check(t.state === 'settled', `the transfer is ${t.state}`);
    const bal = mutual('bank-b', ['--json', 'balance', who.bob]);
    check(bal.status === 0, `mutual balance at bank-b exited ${bal.status}`);
    const balance = (JSON.parse(bal.out) as { balance: string }).balance;
    check(balance === '2', `Bob's balance at bank-b is ${balance}, not 2`);
    console.log(`   settled; Bob's balance at bank-b: ${balance}`);
  });

  await step('after the restart, every reconciliation pair still matches', reconciled);
} catch (err) {
  failures.push((err as Error).message);
} finally {
  if (failures.length > 0 && up) for (const b of BANKS) {
    try {
      tail(b);
    } catch {
      // no container to show
    }
  }
  if (up && !KEEP) {
    await step('bring everything down, volumes included', () => {
      const r = dc(['down', '-v', '-t', '20']);
      check(r.status === 0, `compose down exited ${r.status}`);
    });
  } else if (KEEP) console.log(`\nleft up (MUTUAL_DOCKER_KEEP=1): ${compose[0]} ${compose[1].join(' ')} down -v`);
}

console.log(`\n${failures.length === 0 ? 'PASSED' : 'FAILED'} in ${secs(Date.now() - t0)}`);
for (const f of failures) console.log(`  - ${f}`);
process.exit(failures.length === 0 ? 0 : 1);
