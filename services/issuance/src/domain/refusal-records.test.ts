import { describe, expect, it } from 'vitest';
import { UnauthenticatedRefusals } from './refusal-records.js';

// Red team (issue 20, point 5): 30 Approve calls with garbage ID tokens made 30 audit records.
describe('UnauthenticatedRefusals', () => {
  it('writes the first few refusals of a peer each, then at most one aggregate every few seconds counting the rest', () => {
    let now = 0;
    const refusals = new UnauthenticatedRefusals({ perSecond: 0.2, burst: 5 }, () => now);
    const records = [];
    for (let i = 0; i < 30; i++) {
      records.push(refusals.record('10.0.0.9'));
      now += 20; // 30 calls in 0.6 s
    }
    expect(records.filter((record) => record.kind === 'each')).toHaveLength(5);
    const aggregates = records.filter((record) => record.kind === 'aggregate');
    expect(aggregates.length).toBeLessThanOrEqual(1);
    expect(records.filter((record) => record.kind !== 'none').length).toBeLessThanOrEqual(6);
    // A second later the next refusal carries the count of everything unwritten since.
    now += 1_000;
    const next = refusals.record('10.0.0.9');
    const unwritten = records.filter((record) => record.kind === 'none').length;
    expect(next).toEqual({ kind: 'aggregate', refusedSinceLastRecord: unwritten + 1 });
  });

  it('keeps peers apart', () => {
    const refusals = new UnauthenticatedRefusals({ perSecond: 0.2, burst: 1 }, () => 0);
    expect(refusals.record('a')).toEqual({ kind: 'each' });
    expect(refusals.record('b')).toEqual({ kind: 'each' });
  });
});
