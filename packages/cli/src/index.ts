/**
 * @mutual/cli: the `mutual` command line, a client of a node's RPC.
 *
 * - {@link run}: runs the CLI in-process with an {@link Io} (output, environment, `fetch`)
 *   and returns its exit status; the `mutual` binary is `run(process.argv.slice(2), processIo())`.
 * - {@link EXIT}: the exit statuses, part of the CLI's contract.
 * - {@link findAdminToken}: where the CLI finds a local node's admin token.
 * - {@link auditLog}: the audit of a bank's whole log, usable without the command line.
 */
export { run, main } from './main.ts';
export { processIo, type Io, type NodeModule } from './io.ts';
export { EXIT, EXIT_HELP, type ExitCode } from './exit-codes.ts';
export { DEFAULT_RPC } from './context.ts';
export { findAdminToken, type FoundToken, type NoToken } from './token.ts';
export { auditLog, AUDIT_PAGE_ENTRIES, type AuditOptions, type AuditReport } from './audit.ts';
