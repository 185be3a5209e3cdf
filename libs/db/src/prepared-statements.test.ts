import { describe, expect, it } from 'vitest';
import { PreparedStatement, preparedStatementName } from './prepared-statements.js';

describe('preparedStatementName', () => {
  it('names a PreparedStatement, the same name each time its text is sent', () => {
    const statement = new PreparedStatement('DELETE FROM audit_outbox WHERE id = ANY($1::uuid[])');
    const name = preparedStatementName(statement.text);
    expect(name).toMatch(/^mayfly_\d+$/);
    expect(preparedStatementName(statement.text)).toBe(name);
    expect(preparedStatementName(new PreparedStatement('DELETE FROM audit_outbox WHERE id = ANY($1::uuid[])').text)).toBe(name);
    expect(preparedStatementName(new PreparedStatement('SELECT 1').text)).not.toBe(name);
  });

  it('leaves other statements unnamed, even with the mark further in', () => {
    expect(preparedStatementName('delete from "audit_outbox" where "id" in ($1, $2)')).toBeUndefined();
    expect(preparedStatementName(`SELECT 1; ${new PreparedStatement('SELECT 2').text}`)).toBeUndefined();
  });

  it('stops naming once too many distinct texts are prepared, rather than keep one-use plans forever', () => {
    const names = Array.from({ length: 100 }, (_, i) => preparedStatementName(new PreparedStatement(`SELECT ${i}`).text));
    const named = names.filter((name) => name !== undefined);
    expect(named.length).toBeGreaterThan(0);
    expect(named.length).toBeLessThan(100);
    expect(new Set(named).size).toBe(named.length);
  });
});
