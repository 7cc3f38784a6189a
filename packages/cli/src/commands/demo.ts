import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { accountIdOf, isApplied, MutualClient, newKey, serializeKey, Wallet, type HolderKey, type Reconciliation, type Result } from '@mutual/client';
import { formatPublicKey } from '@mutual/codec';
import { NODE_V8_FLAGS } from '@mutual/node/heap-flags';
import type { Command } from 'commander';
import { Context } from '../context.ts';
import { EXIT } from '../exit-codes.ts';
import { Failure, usageError, verificationFailed } from '../failure.ts';
import type { Io } from '../io.ts';
import { table } from '../output.ts';
import { integer } from './queries.ts';
import { hasMismatch, reconciliationFailure, reconciliationText } from './reconcile.ts';

/** The `mutual` executable: `mutual node …` runs the daemon. */
const BIN = fileURLToPath(new URL('../../bin/mutual.js', import.meta.url));
const LOCAL_BANKS = ['Alder', 'Birch', 'Cedar'];
const START_DEADLINE_MS = 60_000;
const STOP_DEADLINE_MS = 15_000;
const POLL_MS = 500;

/** A bank node the demo talks to. */
interface DemoNode {
  readonly url: string;
  readonly token: string;
  /** the daemon, when the demo started it */
  readonly daemon?: Daemon;
}

interface Daemon {
  readonly name: string;
  readonly proc: ChildProcess;
  output(): string;
}

/** A member or cooperative of the demo: its key, account and wallet. */
interface Holder {
  readonly label: string;
  readonly key: HolderKey;
  readonly account: string;
  readonly wallet: Wallet;
}

interface Bank {
  readonly node: DemoNode;
  readonly id: string;
  readonly name: string;
  readonly admin: MutualClient;
  readonly coop: Holder;
  readonly members: readonly [Holder, Holder];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function failure(message: string, code = 'NOT_RECONCILED'): Failure {
  return new Failure(code, message, EXIT.error);
}

/** Starts `mutual node …` and waits for its 'bank node started' log line. */
async function startDaemon(root: string, name: string, bioregion: string, bootstrap: readonly string[]): Promise<{ daemon: Daemon; url: string; listen: string[]; token: string }> {
  const data = join(root, name.toLowerCase(), 'data');
  const home = join(root, name.toLowerCase(), 'home');
  mkdirSync(home, { recursive: true });
  const args = ['node', '--data', data, '--rpc', '127.0.0.1:0', '--listen', '/ip4/127.0.0.1/tcp/0', '--name', name, '--bioregion', bioregion, '--found-federation', String(LOCAL_BANKS.length)];
  for (const b of bootstrap) args.push('--bootstrap', b);
  const proc = spawn(process.execPath, [...NODE_V8_FLAGS, BIN, ...args], { env: { ...process.env, MUTUAL_HOME: home, MUTUAL_LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const daemon: Daemon = { name, proc, output: () => out };
  const end = Date.now() + START_DEADLINE_MS;
  for (;;) {
    for (const line of out.split('\n')) {
      if (!line.startsWith('{')) continue;
      let rec: { msg?: string; rpc?: string; listen?: string[] };
      try {
        rec = JSON.parse(line) as typeof rec;
      } catch {
        continue;
      }
      if (rec.msg === 'bank node started' && rec.rpc && rec.listen) {
        return { daemon, url: rec.rpc, listen: rec.listen, token: readFileSync(join(data, 'admin.token'), 'utf8').trim() };
      }
    }
    if (proc.exitCode !== null || proc.signalCode !== null) throw failure(`the node ${name} exited before it started:\n${tail(out)}`, 'INTERNAL');
    if (Date.now() > end) {
      proc.kill('SIGKILL');
      throw failure(`the node ${name} did not start within ${START_DEADLINE_MS / 1000} s:\n${tail(out)}`, 'INTERNAL');
    }
    await sleep(100);
  }
}

function tail(text: string, lines = 15): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** SIGTERM, then SIGKILL past the deadline; resolves with the exit code. */
function stopDaemon(d: Daemon): Promise<number | null> {
  const p = d.proc;
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve(p.exitCode);
  return new Promise((res) => {
    const timer = setTimeout(() => p.kill('SIGKILL'), STOP_DEADLINE_MS);
    p.once('exit', (code) => {
      clearTimeout(timer);
      res(code);
    });
    p.kill('SIGTERM');
  });
}

/** Polls `check` until it returns a value, or throws `timeout()` past `end` (ms since the epoch). */
async function until<T>(end: number, check: () => Promise<T | undefined>, timeout: () => Error): Promise<T> {
  for (;;) {
    const v = await check().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw timeout();
    await sleep(POLL_MS);
  }
}

function applied(r: Result, what: string): void {
  if (!isApplied(r)) throw new Failure(r.code, `${what} was rejected: ${r.message}`, EXIT.rejected);
}

/** `--connect URL=TOKEN_FILE`: a running node and its admin token. */
function parseConnect(io: Io, text: string): DemoNode {
  const eq = text.indexOf('=');
  if (eq <= 0 || eq === text.length - 1) throw usageError(`--connect takes RPC_URL=ADMIN_TOKEN_FILE, not "${text.slice(0, 80)}"`);
  const url = text.slice(0, eq);
  const file = text.slice(eq + 1);
  let token: string;
  try {
    token = readFileSync(isAbsolute(file) ? file : join(io.cwd, file), 'utf8').trim();
  } catch (err) {
    throw usageError(`--connect ${text}: cannot read the admin token file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (token === '') throw usageError(`--connect ${text}: the admin token file is empty`);
  return { url: /^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? url : `http://${url}`, token };
}

/**
 * The demonstration: cooperatives and members at every bank, labor, transfers within and
 * across banks (one of them to an account that does not exist, so that it is rejected and
 * refunded), then waits until every node reconciles every pair of banks.
 */
async function runDemo(ctx: Context, nodes: readonly DemoNode[], keysDir: string, deadline: number): Promise<{ banks: Bank[]; reconciliations: Reconciliation[] }> {
  const note = (s: string) => ctx.out.note(s);
  const clients = nodes.map((n) => new MutualClient({ url: n.url, token: n.token, ...(ctx.io.fetch ? { fetch: ctx.io.fetch } : {}) }));

  // 1. The federation agreement, in force at every bank.
  note(`waiting for a federation agreement in force at all ${nodes.length} banks…`);
  const statuses = await Promise.all(clients.map((c) => c.status()));
  await until(
    deadline,
    async () => {
      const inForce = await Promise.all(clients.map(async (c) => (await c.agreements()).find((a) => a.inForce)));
      if (inForce.some((a) => a === undefined)) return undefined;
      const ids = statuses.map((s) => s.bank.id);
      return inForce.every((a) => a!.id === inForce[0]!.id && ids.every((id) => a!.members.some((m) => m.bank === id))) ? true : undefined;
    },
    () => failure(`no federation agreement covering every bank came into force in time; banks: ${statuses.map((s) => s.bank.name).join(', ')}`),
  );
  note(`agreement in force: ${statuses.map((s) => s.bank.name).join(', ')}`);

  // 2. A cooperative and two members at every bank, 8 hours of labor each.
  const banks: Bank[] = [];
  for (const [i, admin] of clients.entries()) {
    const s = statuses[i]!;
    const holder = async (label: string, kind: 'member' | 'cooperative'): Promise<Holder> => {
      const key = newKey();
      writeFileSync(join(keysDir, `${s.bank.name}-${label}.key`.replace(/[^A-Za-z0-9.-]+/g, '-')), serializeKey(key.seed), { mode: 0o600 });
      const opened = await admin.openAccount({ publicKey: formatPublicKey(key.publicKey), kind, label: `${s.bank.name} ${label}` });
      const client = new MutualClient({ url: nodes[i]!.url, ...(ctx.io.fetch ? { fetch: ctx.io.fetch } : {}) });
      return { label, key, account: opened.account, wallet: new Wallet({ client, key, bank: s.bank.id, now: ctx.io.now }) };
    };
    const coop = await holder('cooperative', 'cooperative');
    const members = [await holder('member 1', 'member'), await holder('member 2', 'member')] as const;
    for (const m of members) applied(await coop.wallet.recordLabor({ worker: m.account, hours: '8', category: 'standard' }), `labor at ${s.bank.name}`);
    banks.push({ node: nodes[i]!, id: s.bank.id, name: s.bank.name, admin, coop, members });
  }
  note(`opened a cooperative and two members at every bank; each member worked 8 hours (8 notes)`);

  // 3. Transfers: within each bank, to the next bank, and one to an account that does not exist.
  for (const b of banks) applied(await b.members[0].wallet.transfer({ to: b.members[1].account, amount: '1.5', memo: 'bread' }), `a transfer at ${b.name}`);
  for (const [i, b] of banks.entries()) {
    const to = banks[(i + 1) % banks.length]!;
    applied(await b.members[0].wallet.transfer({ to: to.members[1].account, toBank: to.id, amount: '2.5', memo: 'tools' }), `a transfer from ${b.name} to ${to.name}`);
  }
  const ghost = accountIdOf(banks[1]!.id, newKey());
  applied(await banks[0]!.members[1].wallet.transfer({ to: ghost, toBank: banks[1]!.id, amount: '1', memo: 'to nobody' }), `a transfer from ${banks[0]!.name} to ${banks[1]!.name}`);
  note(
    `transfers: 1.5 within every bank, 2.5 from every bank to the next, and 1 from ${banks[0]!.name} to an account ${banks[1]!.name} does not hold (to be rejected and refunded)`,
  );

  // 4. Every node reconciles every pair.
  note('waiting until every interbank transfer is settled and every node reconciles…');
  let last: Reconciliation[] = [];
  const reconciliations = await until(
    deadline,
    async () => {
      last = await Promise.all(clients.map((c) => c.reconciliation()));
      if (last.some(hasMismatch)) return last;
      return last.every((r) => r.ok && r.banks.length >= banks.length) ? last : undefined;
    },
    () => {
      const r = last[0];
      return failure(`the interbank transfers were not all settled in time${r ? `:\n${reconciliationText(r)}` : ''}`);
    },
  );
  return { banks, reconciliations };
}

async function balances(banks: readonly Bank[]): Promise<Array<{ bank: string; account: string; label: string; balance: string }>> {
  const rows = [];
  for (const b of banks) {
    for (const h of [b.coop, ...b.members]) {
      const info = await b.admin.account(h.account);
      rows.push({ bank: b.name, account: h.account, label: h.label, balance: info.balance });
    }
  }
  return rows;
}

/** `mutual demo`: a federation of banks on this machine (or running ones), transfers across them, reconciled. */
export function demoCommand(program: Command, io: Io): void {
  program
    .command('demo')
    .description(
      'run a federation of three bank nodes on this machine (loopback, temporary folders), open accounts, record labor, ' +
        'pay within and across banks, and wait until every interbank transfer is settled and reconciled; ' +
        'with --connect, the same against running nodes',
    )
    .option('--connect <url=tokenfile>', 'a running node: its RPC URL and admin token file; repeat for every bank (at least 2)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--timeout <seconds>', 'how long to wait for the agreement and for settlement', '120')
    .action(async (o: { connect: string[]; timeout: string }, cmd: Command) => {
      const ctx = Context.of(io, cmd);
      const seconds = integer('--timeout', o.timeout, 1, 3600);
      if (o.connect.length === 1) throw usageError('--connect names every bank of the demo: at least 2');
      const root = mkdtempSync(join(tmpdir(), 'mutual-demo-'));
      const daemons: Daemon[] = [];
      let ok = false;
      try {
        let nodes: DemoNode[];
        if (o.connect.length > 0) {
          nodes = o.connect.map((c) => parseConnect(io, c));
        } else {
          const bioregion = `demo-${Math.random().toString(36).slice(2, 8)}`;
          ctx.out.note(`starting ${LOCAL_BANKS.join(', ')} on 127.0.0.1 (bioregion ${bioregion}, data in ${root})…`);
          nodes = [];
          const listen: string[] = [];
          for (const name of LOCAL_BANKS) {
            const started = await startDaemon(root, name, bioregion, listen);
            daemons.push(started.daemon);
            listen.push(...started.listen);
            nodes.push({ url: started.url, token: started.token, daemon: started.daemon });
          }
        }
        const keysDir = join(root, 'keys');
        mkdirSync(keysDir, { recursive: true, mode: 0o700 });
        const { banks, reconciliations } = await runDemo(ctx, nodes, keysDir, Date.now() + seconds * 1000);
        const rows = await balances(banks);
        const r = reconciliations[0]!;
        ctx.out.result({ balances: rows, reconciliation: r, reconciledBy: reconciliations.map((x) => ({ bank: x.self, ok: x.ok })) }, () =>
          [
            'balances:',
            table(['bank', 'account', 'label', 'balance'], rows.map((x) => [x.bank, x.account, x.label, x.balance])),
            reconciliationText(r),
            ...banks.map((b, i) => `${b.name}: reconciliation ${reconciliations[i]!.ok ? 'OK' : 'NOT OK'}`),
          ].join('\n'),
        );
        if (!reconciliations.every((x) => x.ok)) throw reconciliationFailure(reconciliations.find((x) => !x.ok)!);
        // Every member worked 8 hours: the first paid 1.5 at home and 2.5 abroad, the second
        // received both (and had its transfer to nobody refunded).
        const expected: Record<string, string> = { cooperative: '0', 'member 1': '4', 'member 2': '12' };
        const wrong = rows.filter((x) => x.balance !== expected[x.label]);
        if (wrong.length > 0) throw verificationFailed(`unexpected balances: ${wrong.map((x) => `${x.bank} ${x.label} ${x.balance} (expected ${expected[x.label]})`).join(', ')}`);
        ok = true;
      } catch (err) {
        for (const d of daemons) if (d.output() !== '') ctx.out.note(`--- last lines of ${d.name}'s log:\n${tail(d.output())}`);
        throw err;
      } finally {
        const codes = await Promise.all(daemons.map(stopDaemon));
        rmSync(root, { recursive: true, force: true });
        if (ok && daemons.length > 0) ctx.out.note(`stopped the ${daemons.length} nodes (exit codes ${codes.join(', ')}) and removed ${root}`);
      }
    });
}
