import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { MayflyError } from '@mayfly/core';
import { SpanKind, observeDatabasePool, withSpan } from '@mayfly/telemetry';
import { preparedStatementName } from './prepared-statements.js';
import type { Database } from './schema.js';

// timestamptz and bigint come back as Date and string (pg's defaults); int8 counts stay strings
// so that no precision is lost silently.

export interface DatabaseOptions {
  readonly url: string;
  /** Pool size. Small: each service does short transactions. */
  readonly maxConnections?: number;
  readonly applicationName?: string;
}

export function createDatabase(options: DatabaseOptions): Kysely<Database> {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.maxConnections ?? 10,
    application_name: options.applicationName ?? 'mayfly',
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
  });
  // An idle client that loses its server must not crash the process; the next query retries.
  pool.on('error', () => undefined);
  pool.on('connect', traceQueries);
  observeDatabasePool(pool, options.applicationName ?? 'mayfly');
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

/** Fails fast, with a hint, when PostgreSQL cannot be reached at start-up. */
export async function assertDatabaseReachable(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (error) {
    throw new MayflyError(
      'ERR_DEPENDENCY_UNAVAILABLE',
      `cannot reach PostgreSQL at ${redactUrl(url)}: ${(error as Error).message}. Set DATABASE_URL or start PostgreSQL.`,
      { cause: error },
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A connection URL with its password hidden, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable URL)';
  }
}

type QueryFn = (...args: unknown[]) => unknown;

/**
 * Gives every promise-style query a client span (db.system postgresql, the statement's text:
 * Mayfly only sends parameterised statements, so no value appears in it), and sends the text
 * of a PreparedStatement under its name (prepared-statements.ts).
 */
function traceQueries(client: pg.PoolClient): void {
  const query = client.query.bind(client) as QueryFn;
  (client as unknown as { query: QueryFn }).query = (...args: unknown[]) => {
    if (args.some((arg) => typeof arg === 'function')) return query(...args);
    const config = args[0] as string | { text?: string } | undefined;
    const text = (typeof config === 'string' ? config : config?.text) ?? '';
    const name = typeof config === 'string' ? preparedStatementName(text) : undefined;
    const operation = /^\s*(?:\/\*.*?\*\/\s*)?(\w+)/.exec(text)?.[1]?.toUpperCase() ?? 'QUERY';
    return withSpan(
      `pg ${operation}`,
      { 'db.system.name': 'postgresql', 'db.operation.name': operation, 'db.query.text': text.slice(0, 1000) },
      async () => (name === undefined ? query(...args) : query({ name, text, values: args[1] })),
      SpanKind.CLIENT,
    );
  };
}
