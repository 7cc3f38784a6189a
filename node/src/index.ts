/**
 * @mutual/node: the bank node. {@link BankNode} wires one bank from validated options (data
 * directory, ledger store, verifier pool, RPC); {@link buildApp} builds the RPC of
 * docs/RPC.md without listening; {@link loadOptions} is the one place that reads argv, the
 * environment and the config file; {@link main} runs the daemon.
 */
export { BankNode, type BankNodeHooks } from './bank-node.ts';
export { BANK_KEY_KIND, DATA_FILES, openDataDir, readBankKey, readToken, type DataDir } from './datadir.ts';
export { discoveryPath, localRpcUrl, type DiscoveryRecord } from './discovery.ts';
export { createLogger, REDACT_PATHS, type Logger, type LoggerOptions } from './logger.ts';
export { missingV8Flags, NODE_V8_FLAGS, RESTARTED_ENV, restartArgs, restartWithV8Flags } from './heap-flags.ts';
export { EXIT, main, STOP_DEADLINE_MS } from './main.ts';
export { parseTcpMultiaddr, type TcpMultiaddr } from './multiaddr.ts';
export { DEFAULTS, LOG_LEVELS, loadOptions, parseHostPort, USAGE, type LogLevel, type NodeOptions } from './options.ts';
export { buildApp, BODY_LIMIT_BYTES, type AppDeps } from './rpc/app.ts';
export { entryJson, type EntryJson, type EntryKind } from './rpc/entry-json.ts';
export { EVENT_STREAM_DEFAULTS, EventStream, type EventStreamOptions } from './rpc/event-stream.ts';
