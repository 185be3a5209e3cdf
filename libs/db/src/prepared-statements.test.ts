import { describe, expect, it } from 'vitest';
import { DummyDriver, Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler, sql } from 'kysely';
import { PREPARED, preparedStatementName } from './prepared-statements.js';

/** A Kysely that only compiles: what text a statement built with PREPARED reaches pg with. */
const compiler = new Kysely<object>({
  dialect: {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (db) => new PostgresIntrospector(db),
    createQueryCompiler: () => new PostgresQueryCompiler(),
  },
});
const textOf = (query: ReturnType<typeof sql>): string => query.compile(compiler).sql;

describe('preparedStatementName', () => {
  it('names a statement marked PREPARED, the same name each time its text repeats', () => {
    const text = textOf(sql`${PREPARED}DELETE FROM audit_outbox WHERE id = ANY(${['a']}::uuid[])`);
    const name = preparedStatementName(text);
    expect(name).toMatch(/^mayfly_\d+$/);
    expect(preparedStatementName(textOf(sql`${PREPARED}DELETE FROM audit_outbox WHERE id = ANY(${['b', 'c']}::uuid[])`))).toBe(name);
    expect(preparedStatementName(textOf(sql`${PREPARED}SELECT 1`))).not.toBe(name);
  });

  it('leaves unmarked statements unnamed, even with the mark further in', () => {
    expect(preparedStatementName(textOf(sql`DELETE FROM audit_outbox WHERE id = ${'a'}`))).toBeUndefined();
    expect(preparedStatementName(textOf(sql`SELECT 1; ${PREPARED}SELECT 2`))).toBeUndefined();
  });

  it('stops naming once too many distinct texts are marked, rather than prepare one-use plans forever', () => {
    const names = Array.from({ length: 100 }, (_, i) => preparedStatementName(textOf(sql`${PREPARED}SELECT ${sql.raw(String(i))}`)));
    const named = names.filter((name) => name !== undefined);
    expect(named.length).toBeGreaterThan(0);
    expect(named.length).toBeLessThan(100);
    expect(new Set(named).size).toBe(named.length);
  });
});
