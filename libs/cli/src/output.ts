/** How a command prints: a table for people, or one JSON document for scripts (--json). */
export interface Output {
  readonly json: boolean;
  /** A line of progress or a note; never printed in --json mode (stdout is the document). */
  say(line: string): void;
  /** Rows as an aligned table (people), or nothing (JSON mode prints `document` instead). */
  table(rows: readonly Record<string, string>[]): void;
  /** The JSON result in --json mode. */
  document(value: unknown): void;
}

export function output(json: boolean): Output {
  const write = (line: string): void => void process.stdout.write(`${line}\n`);
  return {
    json,
    say: (line) => {
      if (!json) write(line);
    },
    table: (rows) => {
      if (json || rows.length === 0) return;
      const columns = Object.keys(rows[0]!);
      const headers = columns.map(header);
      const widths = columns.map((column, i) => Math.max(headers[i]!.length, ...rows.map((row) => (row[column] ?? '').length)));
      const line = (cells: readonly string[]) => cells.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd();
      write(line(headers));
      for (const row of rows) write(line(columns.map((column) => row[column] ?? '')));
    },
    document: (value) => {
      if (json) write(JSON.stringify(value, null, 2));
    },
  };
}

/** A column's header: its key's words, upper case ("grantsEnded" → "GRANTS ENDED", not "GRANTSENDED"). */
export function header(column: string): string {
  return column.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toUpperCase();
}
