import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import { dirname, join } from 'node:path';
import { formatBankId, fromBase64, toBase64 } from '@mutual/codec';
import { MutualError } from '@mutual/interface';
import { keyPairFromSeed, SEED_BYTES, type KeyPair } from '@mutual/verifier';

/** File names inside the data directory. */
export const DATA_FILES = {
  bankKey: 'bank.key',
  adminToken: 'admin.token',
  ledger: 'ledger',
} as const;

/** `kind` of the bank key file, so that another JSON file is never taken for a key. */
export const BANK_KEY_KIND = 'mutual-bank-key';

const TOKEN_RE = /^[0-9a-f]{64}$/;

/** What the node needs from its data directory. Holds secrets: never log it. */
export interface DataDir {
  readonly dir: string;
  /** The LevelDB folder of the ledger. */
  readonly ledgerDir: string;
  /** The bank's key pair (its public key is the bank ID). */
  readonly bankKeys: KeyPair;
  /** The admin bearer token. */
  readonly adminToken: string;
  /** Which secret files this start created. */
  readonly created: { readonly bankKey: boolean; readonly adminToken: boolean };
}

/**
 * Opens the data directory, creating it (mode 0700) and its secret files (mode 0600) on first
 * start. Existing files are only read, never rewritten, so a second node pointed at the same
 * directory changes nothing before the ledger's lock refuses it. Throws MutualError
 * KEY_FILE_INVALID for a key or token file that is malformed or readable by group or others,
 * and CONFIG_INVALID when the path is not a usable directory.
 */
export function openDataDir(dir: string): DataDir {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new MutualError('CONFIG_INVALID', `data directory ${dir}: cannot create it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { cause: err });
  }
  if (!statSync(dir).isDirectory()) throw new MutualError('CONFIG_INVALID', `data directory ${dir} is not a directory`);

  const keyPath = join(dir, DATA_FILES.bankKey);
  let createdKey = false;
  if (!exists(keyPath)) {
    const seed = new Uint8Array(randomBytes(SEED_BYTES));
    const { publicKey } = keyPairFromSeed(seed);
    const text = `${JSON.stringify({ kind: BANK_KEY_KIND, bank: formatBankId(publicKey), seed: toBase64(seed) })}\n`;
    seed.fill(0);
    createdKey = createExclusive(keyPath, text);
  }
  const bankKeys = readBankKey(keyPath);

  const tokenPath = join(dir, DATA_FILES.adminToken);
  let createdToken = false;
  if (!exists(tokenPath)) createdToken = createExclusive(tokenPath, randomBytes(32).toString('hex'));
  const adminToken = readToken(tokenPath);

  return { dir, ledgerDir: join(dir, DATA_FILES.ledger), bankKeys, adminToken, created: { bankKey: createdKey, adminToken: createdToken } };
}

/** Reads and checks a bank key file. Throws KEY_FILE_INVALID. */
export function readBankKey(path: string): KeyPair {
  const text = readSecret(path);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw keyInvalid(path, 'is not JSON');
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw keyInvalid(path, 'is not a JSON object');
  const { kind, bank, seed, ...rest } = json as Record<string, unknown>;
  if (kind !== BANK_KEY_KIND) throw keyInvalid(path, `has no "kind": "${BANK_KEY_KIND}"`);
  if (Object.keys(rest).length > 0) throw keyInvalid(path, `has unknown fields (${Object.keys(rest).join(', ')})`);
  if (typeof seed !== 'string') throw keyInvalid(path, 'has no "seed"');
  let seedBytes: Uint8Array;
  try {
    seedBytes = fromBase64(seed, SEED_BYTES);
  } catch {
    throw keyInvalid(path, `has a "seed" that is not base64 of ${SEED_BYTES} bytes`);
  }
  const keys = keyPairFromSeed(seedBytes);
  seedBytes.fill(0);
  // The bank ID in the file lets an operator see which bank a key is; it must agree with the seed.
  if (bank !== formatBankId(keys.publicKey)) throw keyInvalid(path, 'has a "bank" that is not the bank ID of its seed');
  return keys;
}

/** Reads and checks an admin token file. Throws KEY_FILE_INVALID. */
export function readToken(path: string): string {
  const token = readSecret(path).trim();
  if (!TOKEN_RE.test(token)) throw keyInvalid(path, 'must hold 64 lower-case hex characters');
  return token;
}

function readSecret(path: string): string {
  let st: Stats;
  try {
    st = statSync(path);
  } catch (err) {
    throw keyInvalid(path, `cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  if (!st.isFile()) throw keyInvalid(path, 'is not a regular file');
  if ((st.mode & 0o077) !== 0) {
    throw keyInvalid(path, `is readable or writable by group or others (mode ${(st.mode & 0o777).toString(8).padStart(3, '0')}); run: chmod 600 ${path}`);
  }
  if (st.size > 4096) throw keyInvalid(path, 'is larger than 4096 bytes');
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw keyInvalid(path, `cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

function keyInvalid(path: string, why: string): MutualError {
  return new MutualError('KEY_FILE_INVALID', `${path} ${why}`);
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw keyInvalid(path, `cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

/**
 * Writes `text` to `path` (mode 0600) only if no file is there, atomically: a complete,
 * synced temporary file is hard-linked into place, which fails if another process got there
 * first. A crash leaves either no file or a whole one, never a half-written key.
 * Returns whether this call created the file.
 */
function createExclusive(path: string, text: string): boolean {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(tmp, path);
    syncDir(dirname(path));
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw keyInvalid(path, `cannot be created (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  } finally {
    unlinkSync(tmp);
  }
}

/** Makes a new directory entry durable (the file's own data was synced before linking). */
function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
