import { describe, expect, it } from 'vitest';
import { findStreamLoss } from './stream-loss.js';

const stream = (created: string, firstSequence: number, lastSequence: number) => ({ created, firstSequence, lastSequence });

describe('findStreamLoss', () => {
  it('finds nothing while every live revocation is within the stream', () => {
    expect(findStreamLoss(stream('t1', 1, 10), 't1', { lowest: 3, highest: 10 })).toBeUndefined();
    expect(findStreamLoss(stream('t1', 8, 10), 't1', undefined)).toBeUndefined(); // nothing live to lose
    expect(findStreamLoss(stream('t1', 1, 10), undefined, { lowest: 1, highest: 10 })).toBeUndefined();
  });

  it('sees a recreated stream by its creation time or by sequences going back', () => {
    expect(findStreamLoss(stream('t2', 1, 3), 't1', undefined)).toMatch(/recreated/);
    expect(findStreamLoss(stream('t1', 1, 3), undefined, { lowest: 2, highest: 9 })).toMatch(/recreated/);
  });

  it('sees a purge by live revocations sitting before the first sequence', () => {
    expect(findStreamLoss(stream('t1', 11, 10), 't1', { lowest: 4, highest: 10 })).toMatch(/purged/);
  });
});
