import { sql } from 'kysely';

/**
 * Hot statements prepared once per connection instead of parsed and planned on every run.
 *
 * kysely sends every statement unnamed, so PostgreSQL parses, analyses and plans it afresh each
 * time. For the grant group commit (a CTE over json_populate_recordset and unnest) that was most
 * of what the statement cost: one grant's commit took PostgreSQL 550–580 µs unnamed against
 * 250–370 µs prepared, and a batch of eight 820–1,100 against 600–650 µs (BENCHMARKS.md, issue 24).
 *
 * A statement opts in by starting with PREPARED: sql`${PREPARED}INSERT …`. The connection wrapper
 * (connect.ts) sees the mark and sends the text under a name of its own, so pg parses it once per
 * connection and PostgreSQL reuses its plan. Two rules for a statement that opts in:
 * - its text is the same for every call: values travel as parameters (arrays, JSON), never as a
 *   list whose length varies, or every length becomes a statement of its own;
 * - it returns no rows, or names the columns it returns (never `*`): a prepared statement whose
 *   result columns change under it — a migration adding a column — fails ("cached plan must not
 *   change result type").
 */
const PREPARED_MARK = '/* mayfly:prepared */ ';

/** Put first in a statement's text to prepare it once per connection (see above). */
export const PREPARED = sql.raw(PREPARED_MARK);

/**
 * More distinct marked texts than this means a statement broke the first rule: the rest run
 * unnamed rather than fill every connection's memory with one-use plans.
 */
const MOST_PREPARED_TEXTS = 64;

const nameByText = new Map<string, string>();

/** The name a marked statement is prepared under, or undefined to run it unnamed. */
export function preparedStatementName(text: string): string | undefined {
  if (!text.startsWith(PREPARED_MARK)) return undefined;
  let name = nameByText.get(text);
  if (name === undefined) {
    if (nameByText.size >= MOST_PREPARED_TEXTS) return undefined;
    name = `mayfly_${nameByText.size + 1}`;
    nameByText.set(text, name);
  }
  return name;
}
