// docs/errors.md and docs/LIMITS.md are part of the contract: these tests keep them equal to
// the registries CODES and LIMITS, in both directions.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CODES, LIMITS, type CodeInfo } from '../src/index.ts';

const repo = new URL('../../../', import.meta.url);
const readDoc = (path: string): string => readFileSync(new URL(path, repo), 'utf8');

interface Table {
  /** 1-based line of the header row */
  readonly line: number;
  readonly header: string[];
  readonly rows: string[][];
}

/** The cells of a Markdown table row: split on "|" that is not escaped, trimmed. */
function cells(line: string): string[] {
  let s = line.trim();
  if (s.startsWith('|')) s = s.slice(1);
  if (s.endsWith('|') && !s.endsWith('\\|')) s = s.slice(0, -1);
  return s.split(/(?<!\\)\|/).map((c) => c.trim());
}

const DELIMITER = /^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?$/;

/** Every pipe table of a Markdown document, in order, ignoring fenced code blocks. */
function tables(md: string): Table[] {
  const lines = md.split(/\r?\n/);
  const out: Table[] = [];
  let fenced = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line.startsWith('```')) fenced = !fenced;
    if (fenced || !line.startsWith('|')) continue;
    const next = lines[i + 1]?.trim() ?? '';
    if (!DELIMITER.test(next)) continue;
    const table: Table = { line: i + 1, header: cells(line), rows: [] };
    i += 2;
    for (; i < lines.length && lines[i]!.trim().startsWith('|'); i++) table.rows.push(cells(lines[i]!));
    i--;
    out.push(table);
  }
  return out;
}

/** The name in a cell that is exactly one name in backticks, such as "`BAD_SIGNATURE`". */
function backticked(cell: string | undefined): string | undefined {
  return /^`([A-Z][A-Z0-9_]*)`$/.exec(cell ?? '')?.[1];
}

function column(t: Table, name: string): number {
  const i = t.header.indexOf(name);
  if (i < 0) throw new Error(`the table at line ${t.line} has no column "${name}" (columns: ${t.header.join(', ')})`);
  return i;
}

// ---------------------------------------------------------------------------------------
// docs/errors.md
// ---------------------------------------------------------------------------------------

interface DocCode {
  readonly kind: string;
  readonly status: number;
}

/** The table of codes in errors.md: the one table whose first column holds codes in backticks. */
function codesTable(md: string): Map<string, DocCode> {
  const found = tables(md).filter((t) => t.rows.some((r) => backticked(r[0]) !== undefined));
  if (found.length !== 1) throw new Error(`errors.md must have exactly one table of codes, found ${found.length}`);
  const t = found[0]!;
  const kind = column(t, 'Kind');
  const status = column(t, 'HTTP status');
  const out = new Map<string, DocCode>();
  for (const r of t.rows) {
    const code = backticked(r[0]);
    if (code === undefined) throw new Error(`errors.md: a row's first cell is not a code in backticks: ${r[0]}`);
    if (out.has(code)) throw new Error(`errors.md lists ${code} twice`);
    if (!/^[1-5][0-9]{2}$/.test(r[status] ?? '')) throw new Error(`errors.md: the HTTP status of ${code} is not a status: ${r[status]}`);
    out.set(code, { kind: r[kind] ?? '', status: Number(r[status]) });
  }
  return out;
}

/** What differs between the documented codes and a registry; empty when they agree. */
function codeDifferences(doc: ReadonlyMap<string, DocCode>, registry: Readonly<Record<string, CodeInfo>>): string[] {
  const problems: string[] = [];
  for (const [code, info] of Object.entries(registry)) {
    const d = doc.get(code);
    if (!d) problems.push(`${code} is in CODES but not in docs/errors.md`);
    else {
      if (d.kind !== info.kind) problems.push(`${code}: kind ${d.kind} in docs/errors.md, ${info.kind} in CODES`);
      if (d.status !== info.status) problems.push(`${code}: HTTP status ${d.status} in docs/errors.md, ${info.status} in CODES`);
    }
  }
  for (const code of doc.keys()) if (!Object.hasOwn(registry, code)) problems.push(`${code} is in docs/errors.md but not in CODES`);
  return problems;
}

describe('docs/errors.md', () => {
  const doc = codesTable(readDoc('docs/errors.md'));

  it('lists every code of CODES with its kind and HTTP status, and no other code', () => {
    expect(codeDifferences(doc, CODES)).toEqual([]);
    expect([...doc.keys()].sort()).toEqual(Object.keys(CODES).sort());
  });

  it('would catch a code added to or removed from either side, or a changed status or kind', () => {
    // On a table in sync by construction, so that this test checks the comparison alone.
    const registry: Record<string, CodeInfo> = { ...CODES };
    const doc = new Map(Object.entries(CODES).map(([code, info]) => [code, { kind: info.kind, status: info.status }]));
    expect(codeDifferences(doc, registry)).toEqual([]);
    expect(codeDifferences(doc, { ...registry, NEW_CODE: { kind: 'request', status: 400, description: '' } })).toEqual([
      'NEW_CODE is in CODES but not in docs/errors.md',
    ]);
    const { BAD_SIGNATURE: _removed, ...fewer } = registry;
    expect(codeDifferences(doc, fewer)).toEqual(['BAD_SIGNATURE is in docs/errors.md but not in CODES']);
    expect(codeDifferences(doc, { ...registry, NOT_FOUND: { ...CODES.NOT_FOUND, status: 410 } })).toEqual([
      'NOT_FOUND: HTTP status 404 in docs/errors.md, 410 in CODES',
    ]);
    expect(codeDifferences(doc, { ...registry, INTERNAL: { ...CODES.INTERNAL, kind: 'request' } })).toEqual([
      'INTERNAL: kind operational in docs/errors.md, request in CODES',
    ]);
    const shorter = new Map(doc);
    shorter.delete('SEQUENCE_GAP');
    expect(codeDifferences(shorter, registry)).toEqual(['SEQUENCE_GAP is in CODES but not in docs/errors.md']);
  });

  it('is read as one table of codes, and a second one would be refused', () => {
    const md = readDoc('docs/errors.md');
    expect(() => codesTable(`${md}\n\n| Code | Kind | HTTP status |\n| --- | --- | --- |\n| \`INTERNAL\` | operational | 500 |\n`)).toThrow(
      /exactly one table/,
    );
    expect(() => codesTable(md.replace('| `SELF_TRANSFER` | result | 422 |', '| `SELF_TRANSFER` | result | 4xx |'))).toThrow(/not a status/);
  });
});

// ---------------------------------------------------------------------------------------
// docs/LIMITS.md
// ---------------------------------------------------------------------------------------

/**
 * The value of a limit as LIMITS.md writes it: plain digits ("1024"), a power ("10^15"), or a
 * power minus an integer ("2^63 - 1"), optionally in backticks. Anything else is refused, so
 * that a value can never be read two ways.
 */
function parseLimitValue(cell: string): bigint {
  const text = cell.replace(/^`(.*)`$/, '$1');
  const m = /^(0|[1-9][0-9]*)(?:\^([1-9][0-9]*))?(?: - ([1-9][0-9]*))?$/.exec(text);
  if (!m) throw new Error(`not a limit value: ${JSON.stringify(cell)} (write 1024, 10^15 or 2^63 - 1)`);
  return BigInt(m[1]!) ** BigInt(m[2] ?? '1') - BigInt(m[3] ?? '0');
}

/** The first table of LIMITS.md: name -> value. */
function limitsTable(md: string): Map<string, bigint> {
  const t = tables(md)[0];
  if (!t) throw new Error('LIMITS.md has no table');
  const value = column(t, 'Value');
  const out = new Map<string, bigint>();
  for (const r of t.rows) {
    const name = backticked(r[0]);
    if (name === undefined) throw new Error(`LIMITS.md: a row's first cell is not a name in backticks: ${r[0]}`);
    if (out.has(name)) throw new Error(`LIMITS.md lists ${name} twice`);
    out.set(name, parseLimitValue(r[value] ?? ''));
  }
  return out;
}

function limitDifferences(doc: ReadonlyMap<string, bigint>, registry: Readonly<Record<string, number | bigint>>): string[] {
  const problems: string[] = [];
  for (const [name, v] of Object.entries(registry)) {
    const d = doc.get(name);
    if (d === undefined) problems.push(`${name} is in LIMITS but not in the first table of docs/LIMITS.md`);
    else if (d !== BigInt(v)) problems.push(`${name}: ${d} in docs/LIMITS.md, ${v} in LIMITS`);
  }
  for (const name of doc.keys()) if (!Object.hasOwn(registry, name)) problems.push(`${name} is in docs/LIMITS.md but not in LIMITS`);
  return problems;
}

describe('docs/LIMITS.md', () => {
  const md = readDoc('docs/LIMITS.md');
  const doc = limitsTable(md);

  it('lists every entry of LIMITS in its first table with the same value, and no other name', () => {
    expect(limitDifferences(doc, LIMITS)).toEqual([]);
    expect([...doc.keys()].sort()).toEqual(Object.keys(LIMITS).sort());
  });

  it('documents the shared limits only in the first table', () => {
    const elsewhere = tables(md)
      .slice(1)
      .flatMap((t) => t.rows.flatMap((r) => [...(r[0] ?? '').matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((m) => m[1]!)));
    expect(elsewhere.filter((name) => Object.hasOwn(LIMITS, name))).toEqual([]);
  });

  it('would catch a limit added to or removed from either side, or a changed value', () => {
    // On a table in sync by construction, so that this test checks the comparison alone.
    const registry: Record<string, number | bigint> = { ...LIMITS };
    const doc = new Map(Object.entries(LIMITS).map(([name, v]) => [name, BigInt(v)]));
    expect(limitDifferences(doc, registry)).toEqual([]);
    expect(limitDifferences(doc, { ...registry, MAX_NEW_THINGS: 7 })).toEqual([
      'MAX_NEW_THINGS is in LIMITS but not in the first table of docs/LIMITS.md',
    ]);
    const { MAX_MEMO_BYTES: _removed, ...fewer } = registry;
    expect(limitDifferences(doc, fewer)).toEqual(['MAX_MEMO_BYTES is in docs/LIMITS.md but not in LIMITS']);
    expect(limitDifferences(doc, { ...registry, MAX_AMOUNT_MILLI: 10n ** 15n + 1n })).toEqual([
      'MAX_AMOUNT_MILLI: 1000000000000000 in docs/LIMITS.md, 1000000000000001 in LIMITS',
    ]);
    const shorter = new Map(doc);
    shorter.delete('MAX_ENTRY_BYTES');
    expect(limitDifferences(shorter, registry)).toEqual(['MAX_ENTRY_BYTES is in LIMITS but not in the first table of docs/LIMITS.md']);
  });

  it('reads values in one format only', () => {
    expect(parseLimitValue('`1024`')).toBe(1024n);
    expect(parseLimitValue('`10^15`')).toBe(10n ** 15n);
    expect(parseLimitValue('`2^63 - 1`')).toBe((1n << 63n) - 1n);
    expect(parseLimitValue('0')).toBe(0n);
    for (const bad of ['10_000', '10,000', '1e3', '0x10', '01', '2**63', '2^63-1', '-1', '', '`12` notes']) {
      expect(() => parseLimitValue(bad), bad).toThrow(/not a limit value/);
    }
  });
});
