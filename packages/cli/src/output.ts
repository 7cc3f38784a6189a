import Table from 'cli-table3';
import type { Io } from './io.ts';

/** Prints a command's answer: JSON for scripts with `--json`, else text for people. */
export class Output {
  readonly io: Io;
  readonly json: boolean;

  constructor(io: Io, json: boolean) {
    this.io = io;
    this.json = json;
  }

  /** `data` as JSON on stdout with --json; otherwise the text `human()` builds. */
  result(data: unknown, human: () => string): void {
    if (this.json) this.io.stdout(`${JSON.stringify(data, null, 2)}\n`);
    else this.io.stdout(`${human()}\n`);
  }

  /** A note for people, on stderr so that it never mixes with what a script reads. */
  note(text: string): void {
    if (!this.json) this.io.stderr(`${text}\n`);
  }
}

// Colors off: output is read by people in any terminal and by tests byte for byte.
const STYLE = { head: [] as string[], border: [] as string[] };

/** A table with a header row. */
export function table(head: string[], rows: Array<Array<string | number>>): string {
  const t = new Table({ head, style: STYLE });
  for (const r of rows) t.push(r.map(String));
  return t.toString();
}

/** A two-column table of names and values. */
export function fields(rows: Array<[string, string | number]>): string {
  const t = new Table({ style: STYLE });
  for (const [k, v] of rows) t.push({ [k]: String(v) });
  return t.toString();
}
