import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { NODE_V8_FLAGS } from '../../node/src/heap-flags.ts';

const MAIN = resolve(import.meta.dirname, '..', '..', 'node', 'src', 'main.ts');

/** A bank node started as a child process on a free loopback port (tests and benchmarks). */
export interface Daemon {
  readonly url: string;
  readonly token: string;
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

export async function startDaemon(dataDir: string, extraArgs: string[] = [], timeoutMs = 30_000): Promise<Daemon> {
  const child = spawn(process.execPath, [...NODE_V8_FLAGS, MAIN, '--data', dataDir, '--rpc', '127.0.0.1:0', '--listen', '/ip4/127.0.0.1/tcp/0', ...extraArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, MUTUAL_HOME: join(dataDir, '.home'), MUTUAL_LOG_LEVEL: 'info' },
  });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const url = await new Promise<string>((res, rej) => {
    let buf = '';
    const timer = setTimeout(() => rej(new Error(`the node did not start in time: ${stderr}`)), timeoutMs);
    child.stdout!.on('data', (c: Buffer) => {
      buf += c.toString();
      for (const line of buf.split('\n')) {
        const m = /"rpc":"(http:\/\/[^"]+)"/.exec(line);
        if (m) {
          clearTimeout(timer);
          res(m[1]!);
        }
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`the node exited (${code}): ${stderr}`));
    });
  });
  const token = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
  return {
    url,
    token,
    child,
    stop: () =>
      new Promise<void>((res) => {
        if (child.exitCode !== null) return res();
        child.once('exit', () => res());
        child.kill('SIGTERM');
      }),
  };
}
