import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { appendAuditEvents, insertGrantsWithAuditOutbox, removeDeliveredAudit, type NewAuditEvent } from '@mayfly/db';
import { newId } from '@mayfly/core';
import { scratchDatabase, scratchGrant, SCRATCH_WORKLOAD, type ScratchDatabase } from '../support/scratch-database.js';

/**
 * The hot statements of the grant path are prepared once per connection (issue 24): the grant
 * group commit, the audit append and the outbox removal. Whatever the batch size, each is one
 * statement PostgreSQL holds in `pg_prepared_statements` for the connection, and the statements
 * still do what they did: grants with their outbox rows, events in input order, redeliveries
 * answered with their first sequence, details stored as JSON objects.
 */
let scratch: ScratchDatabase;

beforeAll(async () => {
  scratch = await scratchDatabase('mayfly_prepared', ['svc:orders']);
}, 60_000);

afterAll(async () => {
  await scratch?.drop();
});

const grantsWithEntries = (count: number) =>
  Array.from({ length: count }, () => {
    const grant = scratchGrant('svc:orders');
    return { grant, entries: [{ id: newId(), payload: Buffer.from(`issued ${grant.id}`) }] };
  });

const auditEvent = (taskId: string, detail: Record<string, unknown> = {}): NewAuditEvent => ({
  id: newId(),
  occurred_at: new Date(),
  kind: 'grant.issued',
  actor: SCRATCH_WORKLOAD,
  source: 'issuance',
  grant_id: null,
  task_id: taskId,
  outcome: 'success',
  detail: JSON.stringify(detail),
});

describe('prepared statements on the grant path', () => {
  it('prepares the group commit, the audit append and the outbox removal once per connection, whatever the batch size', async () => {
    await scratch.db.connection().execute(async (connection) => {
      const batches = [grantsWithEntries(1), grantsWithEntries(5), grantsWithEntries(12)];
      for (const batch of batches) await insertGrantsWithAuditOutbox(connection, 'issuance', batch);
      await appendAuditEvents(connection, [auditEvent('t-one')]);
      await appendAuditEvents(connection, [auditEvent('t-two'), auditEvent('t-two'), auditEvent('t-two')]);
      const outboxIds = batches.flat().flatMap((item) => item.entries.map((entry) => entry.id));
      await removeDeliveredAudit(connection, outboxIds.slice(0, 1));
      await removeDeliveredAudit(connection, outboxIds.slice(1));

      const { rows } = await sql<{ statement: string }>`SELECT statement FROM pg_prepared_statements`.execute(connection);
      const statements = rows.map((row) => row.statement);
      expect(statements.filter((text) => text.includes('INSERT INTO grants'))).toHaveLength(1);
      expect(statements.filter((text) => text.includes('INSERT INTO audit_events'))).toHaveLength(1);
      expect(statements.filter((text) => text.includes('DELETE FROM audit_outbox'))).toHaveLength(1);

      const { rows: counts } = await sql<{ grants: string; outbox: string }>`
        SELECT (SELECT count(*) FROM grants) AS grants, (SELECT count(*) FROM audit_outbox) AS outbox`.execute(connection);
      expect(counts[0]).toEqual({ grants: '18', outbox: '0' });
    });
  });

  it('appends events in input order, answers a redelivery with its first sequence, and stores details as objects', async () => {
    const first = auditEvent('t-order', { resource: 'svc:orders', actions: ['read'], nested: { list: [1, 'two', null, { 'ünï': '✓' }], '': false } });
    const second = auditEvent('t-order');
    const third = auditEvent('t-order', { note: 'quote " and backslash \\ survive' });
    const sequences = await appendAuditEvents(scratch.db, [first, second, third]);
    expect(sequences.map(Number)).toEqual([...sequences.map(Number)].sort((a, b) => a - b));
    expect(new Set(sequences).size).toBe(3);

    const again = await appendAuditEvents(scratch.db, [second, auditEvent('t-order')]);
    expect(again[0]).toBe(sequences[1]);
    expect(Number(again[1])).toBeGreaterThan(Number(sequences[2]));

    const { rows } = await sql<{ id: string; actions: unknown; note: string | null }>`
      SELECT id, detail->'actions' AS actions, detail->>'note' AS note FROM audit_events WHERE task_id = 't-order' ORDER BY sequence`.execute(scratch.db);
    expect(rows.map((row) => row.id)).toEqual([first.id, second.id, third.id, expect.any(String)]);
    expect(rows[0]!.actions).toEqual(['read']);
    expect(rows[2]!.note).toBe('quote " and backslash \\ survive');
    // Each stored detail is the one its event carried, whole, beside its own event.
    const { rows: stored } = await sql<{ id: string; detail: unknown }>`
      SELECT id, detail FROM audit_events WHERE task_id = 't-order' ORDER BY sequence`.execute(scratch.db);
    expect(stored.slice(0, 3)).toEqual([first, second, third].map((event) => ({ id: event.id, detail: JSON.parse(event.detail) })));
  });
});
