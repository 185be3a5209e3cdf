import { describe, expect, it } from 'vitest';
import { MayflyError, type Logger } from '@mayfly/core';
import type { Database, Kysely } from '@mayfly/db';
import { auditEvent } from '@mayfly/model';
import { AuditEvent } from '@mayfly/proto';
import { AuditTrail } from './audit-trail.js';
import type { AuditOutbox, AuditSink } from './ports.js';

/**
 * The audit trail's delivery over an in-memory outbox and a sink that behaves as the audit
 * service does: stores what it accepts, refuses a batch holding an event it cannot accept
 * (INVALID_ARGUMENT), or is away (UNAVAILABLE).
 */
function world(options: { maxAttempts?: number; lingerMs?: number } = {}) {
  const rows = new Map<string, { payload: Buffer; delivered: boolean; refusals: number; deadLettered: boolean; failures: number }>();
  const calls: string[][] = [];
  const stored: AuditEvent[] = [];
  const state = { away: false };
  const outbox: AuditOutbox = {
    enqueue: async (entries) => void entries.forEach((entry) => rows.set(entry.id, { payload: entry.payload, delivered: false, refusals: 0, deadLettered: false, failures: 0 })),
    listPending: async (limit) => [...rows.entries()].filter(([, row]) => !row.delivered && !row.deadLettered).slice(0, limit).map(([id, row]) => ({ id, payload: row.payload })),
    markDelivered: async (ids) => void ids.forEach((id) => (rows.get(id)!.delivered = true)),
    recordDeliveryFailure: async (ids) => void ids.forEach((id) => rows.get(id)!.failures++),
    recordRefusal: async (id) => ++rows.get(id)!.refusals,
    deadLetter: async (id) => void (rows.get(id)!.deadLettered = true),
  };
  const sink: AuditSink = {
    record: async (events) => {
      calls.push(events.map((event) => event.kind));
      if (state.away) throw new MayflyError('ERR_DEPENDENCY_UNAVAILABLE', 'audit is away');
      if (events.length === 0) throw new MayflyError('ERR_INVALID_ARGUMENT', 'events: at least one event');
      if (events.some((event) => event.kind === 'poison')) throw new MayflyError('ERR_INVALID_ARGUMENT', 'events: one event cannot be stored');
      stored.push(...events);
    },
    close: () => undefined,
  };
  const log = { warn: () => undefined, info: () => undefined, error: () => undefined, debug: () => undefined } as unknown as Logger;
  const trail = new AuditTrail({ db: {} as Kysely<Database>, owner: 'issuance', auditAddress: 'unused', log, outbox, sink, maxAttempts: options.maxAttempts ?? 2, lingerMs: options.lingerMs ?? 0 });
  const committed = async (...kinds: string[]) => {
    const events = kinds.map((kind) => auditEvent('issuance', { kind, actor: 'spiffe://example.org/w', outcome: 'success' }));
    await outbox.enqueue(trail.outboxEntries(events));
    return events;
  };
  return { trail, rows, calls, stored, state, committed };
}

describe('AuditTrail', () => {
  it('delivers committed events in one call and marks them delivered (the positive control)', async () => {
    const w = world();
    const events = await w.committed('grant.requested', 'grant.issued');
    await expect(w.trail.deliver(events)).resolves.toBe(true);
    expect(w.calls).toEqual([['grant.requested', 'grant.issued']]);
    expect(w.stored.map((event) => event.id)).toEqual(events.map((event) => event.id));
    await Promise.resolve();
    expect([...w.rows.values()].every((row) => row.delivered)).toBe(true);
  });

  it('makes no call for no events (an empty Record would be refused for its content and split forever)', async () => {
    const w = world();
    await expect(w.trail.deliver([])).resolves.toBe(true);
    expect(w.calls).toEqual([]);
  });

  it('batches deliveries handed in while a call is in flight into the next call', async () => {
    const w = world();
    const [a, b, c] = await Promise.all([w.committed('a'), w.committed('b'), w.committed('c')]);
    await Promise.all([w.trail.deliver(a!), w.trail.deliver(b!), w.trail.deliver(c!)]);
    expect(w.calls).toEqual([['a'], ['b', 'c']]);
  });

  it('with a linger, deliveries handed in one after another while none is in flight go in one call', async () => {
    const w = world({ lingerMs: 20 });
    const first = await w.committed('a');
    const second = await w.committed('b');
    const delivered = [w.trail.deliver(first)];
    await new Promise((resolve) => setTimeout(resolve, 5)); // a moment later, still within the linger
    delivered.push(w.trail.deliver(second));
    expect(w.calls).toEqual([]);
    await expect(Promise.all(delivered)).resolves.toEqual([true, true]);
    expect(w.calls).toEqual([['a', 'b']]);
  });

  it('closing sends what lingers at once', async () => {
    const w = world({ lingerMs: 60_000 });
    const events = await w.committed('a');
    const delivered = w.trail.deliver(events);
    await w.trail.close(1_000);
    await expect(delivered).resolves.toBe(true);
    expect(w.calls).toEqual([['a']]);
  });

  it('the retry loop leaves out events already on their way, so that none is sent twice', async () => {
    const w = world();
    const inFlight = await w.committed('grant.issued');
    await w.committed('session.started'); // committed, never handed to deliver (a crash in between)
    const delivering = w.trail.deliver(inFlight); // its Record call is out while the retry loop runs
    await w.trail.drain();
    await delivering;
    expect(w.calls.flat().sort()).toEqual(['grant.issued', 'session.started']);
    expect(w.stored.map((event) => event.kind).sort()).toEqual(['grant.issued', 'session.started']);
  });

  it('splits a refused batch in halves until the event at fault stands alone; the rest go through', async () => {
    const w = world();
    const events = await w.committed('one', 'two', 'poison', 'four');
    await expect(w.trail.deliver(events)).resolves.toBe(false);
    expect(w.stored.map((event) => event.kind).sort()).toEqual(['four', 'one', 'two']);
    expect(w.calls).toEqual([['one', 'two', 'poison', 'four'], ['one', 'two'], ['poison', 'four'], ['poison'], ['four']]);
    const poison = events[2]!;
    expect(w.rows.get(poison.id)).toMatchObject({ refusals: 1, deadLettered: false, delivered: false });
  });

  it('dead-letters an event after maxAttempts refusals, and audits that with a notice that is itself delivered', async () => {
    const w = world({ maxAttempts: 2 });
    const [poison] = await w.committed('poison');
    await w.trail.drain();
    expect(w.rows.get(poison!.id)).toMatchObject({ refusals: 1, deadLettered: false });
    await w.trail.drain();
    expect(w.rows.get(poison!.id)).toMatchObject({ refusals: 2, deadLettered: true });
    await w.trail.drain();
    const notice = w.stored.find((event) => event.kind === 'audit.dead_lettered');
    expect(notice).toBeDefined();
    expect(JSON.parse(JSON.stringify(notice!.detail))).toMatchObject({ eventId: poison!.id, eventKind: 'poison', attempts: 2 });
  });

  it('keeps events in the outbox while the audit service is away, and delivers them on the next drain', async () => {
    const w = world();
    const events = await w.committed('grant.issued');
    w.state.away = true;
    await expect(w.trail.deliver(events)).resolves.toBe(false);
    expect(w.rows.get(events[0]!.id)).toMatchObject({ delivered: false, failures: 1, refusals: 0 });
    w.state.away = false;
    await w.trail.drain();
    expect(w.stored.map((event) => event.id)).toEqual([events[0]!.id]);
    expect(AuditEvent.toJSON(w.stored[0]!)).toMatchObject({ kind: 'grant.issued' });
  });
});
