import { Command, CommanderError, Option } from 'commander';
import { account } from './commands/account.ts';
import { agreementCommands } from './commands/agreement.ts';
import { auditCommand } from './commands/audit.ts';
import { demoCommand } from './commands/demo.ts';
import { instructions } from './commands/instructions.ts';
import { interbankCommands } from './commands/interbank.ts';
import { keygen } from './commands/keygen.ts';
import { meshCommands } from './commands/mesh.ts';
import { nodeCommand } from './commands/node.ts';
import { queries } from './commands/queries.ts';
import { reconcileCommand } from './commands/reconcile.ts';
import { verifyCommand } from './commands/verify.ts';
import { DEFAULT_RPC } from './context.ts';
import { EXIT, EXIT_HELP, type ExitCode } from './exit-codes.ts';
import { describeFailure } from './failure.ts';
import { processIo, type Io } from './io.ts';

const ENV_HELP = `Environment:
  MUTUAL_RPC           the node's RPC URL (default ${DEFAULT_RPC})
  MUTUAL_ADMIN_TOKEN   the admin token (else found in <data>/admin.token of a node on this
                       machine, and then sent only to that node at a loopback --rpc)
  MUTUAL_DATA          the node's data directory, for its admin token
  MUTUAL_HOME          where heads are remembered and local nodes are found (default ~/.mutual)`;

function program(io: Io): Command {
  const p = new Command('mutual')
    .description('The command line of Mutual: accounts, labor notes and verifiable bank ledgers')
    .addOption(new Option('--rpc <url>', "the node's RPC (env MUTUAL_RPC)").default(io.env.MUTUAL_RPC || DEFAULT_RPC))
    .option('--json', 'machine-readable output on stdout (errors as JSON on stderr)')
    .option('--token <token>', 'the admin token for admin commands, sent to --rpc (else found on this machine, for a node on this machine only)')
    .configureHelp({ showGlobalOptions: true })
    .configureOutput({
      writeOut: (s) => io.stdout(s),
      writeErr: (s) => io.stderr(s),
      // Commander's own errors are printed by run(), in the same form as every other error.
      outputError: () => {},
    })
    .exitOverride()
    .showSuggestionAfterError()
    .addHelpText('after', `\n${EXIT_HELP}\n\n${ENV_HELP}\n`);
  keygen(p, io);
  account(p, io);
  instructions(p, io);
  queries(p, io);
  meshCommands(p, io);
  interbankCommands(p, io);
  reconcileCommand(p, io);
  demoCommand(p, io);
  agreementCommands(p, io);
  verifyCommand(p, io);
  auditCommand(p, io);
  nodeCommand(p);
  return p;
}

/**
 * Runs `mutual` with `argv` (the arguments after the program name) and returns the exit
 * status (see EXIT). Never calls process.exit, so tests run it in-process.
 */
export async function run(argv: readonly string[], io: Io): Promise<ExitCode> {
  const json = argv.includes('--json');
  // `mutual node ...` hands everything after `node` to the daemon, whose options (--rpc,
  // --data...) would otherwise be taken for the CLI's own.
  if (argv[0] === 'node') {
    try {
      const { main } = await io.loadNode();
      await main(argv.slice(1));
      return EXIT.ok;
    } catch (err) {
      return report(io, json, err);
    }
  }
  try {
    await program(io).parseAsync([...argv], { from: 'user' });
    return EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) return EXIT.ok; // --help, --version
      const message = err.message.replace(/^error: /, '');
      // Help shown because no command was given: the help is the message.
      if (err.code === 'commander.help' || err.code === 'commander.executeSubCommandAsync') return EXIT.usage;
      return report(io, json, Object.assign(new Error(message), { code: 'USAGE' }), EXIT.usage);
    }
    return report(io, json, err);
  }
}

function report(io: Io, json: boolean, err: unknown, exit?: ExitCode): ExitCode {
  const f = describeFailure(err);
  const code = exit === EXIT.usage ? 'USAGE' : f.code;
  if (json) io.stderr(`${JSON.stringify({ error: { code, message: f.message, ...(f.details ? { details: f.details } : {}) } })}\n`);
  else io.stderr(`error: ${code}: ${f.message}\n`);
  return exit ?? f.exit;
}

/** Runs the CLI as the process: used by bin/mutual.js. */
export async function main(): Promise<void> {
  process.exitCode = await run(process.argv.slice(2), processIo());
}
