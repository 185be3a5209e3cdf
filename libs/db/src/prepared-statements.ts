import { CompiledQuery, type Kysely, type QueryResult } from 'kysely';
import type { Database } from './schema.js';

/**
 * Hot statements prepared once per connection instead of built, parsed and planned on every run.
 *
 * kysely compiles a statement from its builder on every call and sends it unnamed, so PostgreSQL
 * parses, analyses and plans it afresh each time. For the grant group commit (a CTE over
 * json_populate_recordset and unnest) that was most of what the statement cost: one grant's
 * commit took PostgreSQL 525–700 µs unnamed against 225–325 µs prepared, a batch of eight
 * 1,125–1,425 against 600–775 µs (`npm run bench:statements`, BENCHMARKS.md, issue 24). Written
 * once, the text is also not rebuilt by kysely's query builder for every batch.
 *
 * A PreparedStatement is constant text with $n placeholders, written once. The connection
 * wrapper (connect.ts) sees its mark and sends it under a name of its own, so pg parses it once
 * per connection and PostgreSQL reuses its plan. Two rules for a statement written this way:
 * - its text is the same for every call: values travel as parameters (arrays, JSON), never as a
 *   list whose length varies;
 * - it returns no rows, or names the columns it returns (never `*`): a prepared statement whose
 *   result columns change under it — a migration adding a column — fails ("cached plan must not
 *   change result type").
 */
const PREPARED_MARK = '/* mayfly:prepared */ ';

export class PreparedStatement<Row = never> {
  /** The text sent to PostgreSQL, mark included. */
  readonly text: string;

  constructor(text: string) {
    // One string for the life of the process: the mark check and the name lookup flatten and
    // hash it once, where a statement compiled per call would be copied and hashed every time.
    this.text = `${PREPARED_MARK}${text.trim()}`;
  }

  /** Runs the statement on `db` (a pool, a transaction or one connection) with these values for $1, $2, … */
  run(db: Kysely<Database>, parameters: readonly unknown[]): Promise<QueryResult<Row>> {
    return db.executeQuery<Row>(CompiledQuery.raw(this.text, [...parameters]));
  }
}

/**
 * More distinct prepared texts than this means a statement broke the first rule: the rest run
 * unnamed rather than fill every connection's memory with one-use plans.
 */
const MOST_PREPARED_TEXTS = 64;

const nameByText = new Map<string, string>();

/** The name a PreparedStatement's text is prepared under, or undefined to send it unnamed. */
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
