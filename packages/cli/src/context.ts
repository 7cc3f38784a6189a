import { MutualClient } from '@mutual/client';
import type { Command } from 'commander';
import { usageError } from './failure.ts';
import type { Io } from './io.ts';
import { Output } from './output.ts';
import { findAdminToken } from './token.ts';

/**
 * `--rpc` as a URL. HOST:PORT, the form the daemon's own `--rpc` takes, means plain HTTP, so
 * one MUTUAL_RPC serves the node and the command line alike.
 */
export function rpcUrl(rpc: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(rpc) ? rpc : `http://${rpc}`;
}

/** The default RPC of a node on this machine (the daemon's default `--rpc`). */
export const DEFAULT_RPC = 'http://127.0.0.1:8547';

/** Options every command takes. */
export interface GlobalOptions {
  readonly rpc: string;
  readonly json: boolean;
  readonly token?: string;
}

/** What a command runs with: its io, output and a client of the node. */
export class Context {
  readonly io: Io;
  readonly options: GlobalOptions;
  readonly out: Output;

  constructor(io: Io, options: GlobalOptions) {
    this.io = io;
    this.options = options;
    this.out = new Output(io, options.json);
  }

  static of(io: Io, cmd: Command): Context {
    const o = cmd.optsWithGlobals<{ rpc?: string; json?: boolean; token?: string }>();
    return new Context(io, { rpc: rpcUrl(o.rpc ?? DEFAULT_RPC), json: o.json === true, ...(o.token ? { token: o.token } : {}) });
  }

  /** A client of the node at `--rpc`, with no admin token. */
  client(token?: string): MutualClient {
    try {
      return new MutualClient({ url: this.options.rpc, ...(token ? { token } : {}), ...(this.io.fetch ? { fetch: this.io.fetch } : {}) });
    } catch (err) {
      throw usageError(`--rpc: ${(err as Error).message}`);
    }
  }

  /** A client with the admin token, found as {@link findAdminToken} describes. */
  adminClient(data: string | undefined): MutualClient {
    const found = findAdminToken(this.io, { rpc: this.options.rpc, ...(this.options.token ? { flag: this.options.token } : {}), ...(data ? { data } : {}) });
    if ('looked' in found) {
      const how = 'give it with --token TOKEN or MUTUAL_ADMIN_TOKEN';
      throw usageError(
        found.refused
          ? `this command needs the node's admin token; ${how}: ${found.refused}`
          : `this command needs the node's admin token; none found in: ${found.looked.join(', ')}. Run it on the node's machine, or ${how}`,
        'UNAUTHORIZED',
      );
    }
    return this.client(found.token);
  }
}
