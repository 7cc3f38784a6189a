import { isMutualError } from '@mutual/interface';
import type { BankNode } from './bank-node.ts';
import { missingV8Flags, NODE_V8_FLAGS, RESTARTED_ENV, restartWithV8Flags } from './heap-flags.ts';
import { createLogger } from './logger.ts';
import { loadOptions, USAGE, wantsHelp } from './options.ts';

/** Exit codes of the daemon. */
export const EXIT = { ok: 0, failed: 1, badConfig: 2 } as const;

/** How long a clean stop may take before the process exits anyway. */
export const STOP_DEADLINE_MS = 10_000;

function fail(message: string): void {
  process.stderr.write(`mutual node: ${message}\n`);
}

/**
 * Runs the daemon: reads and validates options (exit 2 when they are wrong, also when the start
 * finds one wrong: an address in use), starts the bank (exit 1 when it cannot: data directory
 * in use, damaged database, bad key file), and stops
 * it cleanly on SIGTERM or SIGINT (exit 0, or 1 past {@link STOP_DEADLINE_MS}).
 * Resolves with the running node, or undefined when it exited early.
 */
export async function main(argv: readonly string[] = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env): Promise<BankNode | undefined> {
  if (wantsHelp(argv)) {
    process.stdout.write(USAGE);
    return undefined;
  }
  let options;
  try {
    options = loadOptions(argv, env);
  } catch (err) {
    fail(isMutualError(err) ? err.message : String(err));
    process.exit(EXIT.badConfig);
  }
  const logger = createLogger({ level: options.logLevel });
  const missing = missingV8Flags();
  if (env[RESTARTED_ENV] !== undefined) {
    // Read once: a process this one starts is not a restart.
    delete env[RESTARTED_ENV];
    if (missing.length === 0) logger.info({ v8Flags: NODE_V8_FLAGS }, 'restarted with the V8 flags that bound the heap under load');
  }
  if (missing.length > 0) {
    logger.info({ missing }, 'started without the V8 flags that bound the heap under load: it may grow to about twice the size (docs/LIMITS.md)');
  }

  let stopping = false;
  let node: BankNode | undefined;
  /** The start in progress: a signal during it stops the node once it has started. */
  let starting: Promise<BankNode> | undefined;
  const shutdown = (why: string, code: number): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ why }, 'shutting down');
    const deadline = setTimeout(() => {
      logger.fatal({ deadlineMs: STOP_DEADLINE_MS }, 'did not stop in time; exiting');
      process.exit(EXIT.failed);
    }, STOP_DEADLINE_MS);
    // A start that fails exits on its own, with its own code.
    (node ? Promise.resolve(node) : (starting ?? Promise.resolve(undefined)).catch(() => undefined)).then((n) => n?.stop()).then(
      () => {
        clearTimeout(deadline);
        process.exit(code);
      },
      (err: unknown) => {
        logger.fatal({ err }, 'stopping failed');
        process.exit(EXIT.failed);
      },
    );
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      // A second signal while stopping: the operator insists.
      if (stopping) process.exit(EXIT.failed);
      shutdown(signal, EXIT.ok);
    });
  }
  process.on('uncaughtException', (err) => {
    logger.fatal({ err }, 'uncaught exception');
    shutdown('uncaught exception', EXIT.failed);
  });
  process.on('unhandledRejection', (err) => {
    logger.fatal({ err }, 'unhandled rejection');
    shutdown('unhandled rejection', EXIT.failed);
  });

  try {
    // Loaded here, not imported: run as a script, this module restarts the process with the V8
    // flags (restartWithV8Flags) before the node's modules are loaded.
    const { BankNode } = await import('./bank-node.ts');
    starting = BankNode.start(options, logger, { onFatal: () => shutdown('ledger write failed', EXIT.failed) });
    node = await starting;
  } catch (err) {
    const message = isMutualError(err) ? err.message : `cannot start: ${(err as Error).message}`;
    logger.fatal(isMutualError(err) ? { code: err.code } : { err }, message);
    fail(message);
    // An option the start found wrong (an address in use, say) is a configuration error too.
    process.exit(isMutualError(err) && err.code === 'CONFIG_INVALID' ? EXIT.badConfig : EXIT.failed);
  }
  return node;
}

if (import.meta.main) {
  restartWithV8Flags();
  void main();
}
