import { describe, expect, it } from 'vitest';
import { AuditEvent } from '@mayfly/proto';
import { MAX_BATCH_BYTES, MAX_BATCH_EVENTS, takeBatch, type Queued } from './batching.js';

const entry = (events: number, bytes: number): Queued => ({
  events: Array.from({ length: events }, () => AuditEvent.fromPartial({})),
  bytes,
  deadline: undefined,
  resolve: () => undefined,
});

describe('takeBatch', () => {
  it('bounds a batch by bytes, not only by count', () => {
    const queue = [entry(1, 300_000), entry(1, 300_000), entry(1, 10)];
    expect(takeBatch(queue)).toHaveLength(1);
    expect(takeBatch(queue)).toHaveLength(2);
    expect(queue).toHaveLength(0);
  });

  it('bounds a batch by count', () => {
    const queue = Array.from({ length: MAX_BATCH_EVENTS + 5 }, () => entry(1, 100));
    expect(takeBatch(queue)).toHaveLength(MAX_BATCH_EVENTS);
    expect(takeBatch(queue)).toHaveLength(5);
  });

  it('sends an entry larger than the budget on its own rather than never', () => {
    const queue = [entry(1, MAX_BATCH_BYTES * 3), entry(1, 10)];
    expect(takeBatch(queue)).toHaveLength(1);
    expect(takeBatch(queue)).toHaveLength(1);
  });
});
