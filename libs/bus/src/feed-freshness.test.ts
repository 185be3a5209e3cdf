import { describe, expect, it } from 'vitest';
import { FeedFreshness } from './feed-freshness.js';

const stream = (read: number, created = 'c1') => ({ created, read });

describe('FeedFreshness', () => {
  it('is stale until a heartbeat confirms it, then fresh for the bound, then stale again', () => {
    const freshness = new FeedFreshness(5_000);
    expect(freshness.isFresh(0)).toBe(false);
    freshness.heartbeat({ created: 'c1', lastSequence: 10 }, stream(10), 1_000);
    expect(freshness.isFresh(6_000)).toBe(true);
    expect(freshness.isFresh(6_001)).toBe(false);
    expect(freshness.ageMs(6_001)).toBe(5_001);
  });

  it('confirms a heartbeat ahead of the edge only once the edge has read that far, as of its arrival', () => {
    const freshness = new FeedFreshness(5_000);
    freshness.heartbeat({ created: 'c1', lastSequence: 12 }, stream(10), 1_000);
    expect(freshness.isFresh(1_000)).toBe(false); // revocations 11 and 12 not applied yet
    freshness.heartbeat({ created: 'c1', lastSequence: 14 }, stream(11), 2_000);
    freshness.advanced(13);
    expect(freshness.isFresh(2_000)).toBe(false);
    freshness.advanced(14);
    expect(freshness.ageMs(3_000)).toBe(1_000); // confirmed as of the second heartbeat's arrival
  });

  it('ignores heartbeats about another stream incarnation, and forgets everything on reset', () => {
    const freshness = new FeedFreshness(5_000);
    freshness.heartbeat({ created: 'c2', lastSequence: 1 }, stream(10), 1_000);
    expect(freshness.isFresh(1_000)).toBe(false);
    freshness.heartbeat({ created: 'c1', lastSequence: 1 }, stream(10), 1_000);
    expect(freshness.isFresh(1_000)).toBe(true);
    freshness.reset();
    expect(freshness.isFresh(1_000)).toBe(false);
  });

  it('a frozen edge is stale when it wakes, whatever it last heard', () => {
    const freshness = new FeedFreshness(2_000);
    freshness.heartbeat({ created: 'c1', lastSequence: 5 }, stream(5), 10_000);
    // SIGSTOP for 30 s: no timer ran, but the check is made against the clock at verification.
    expect(freshness.isFresh(40_000)).toBe(false);
  });
});
