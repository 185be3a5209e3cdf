import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MayflyError } from '@mayfly/core';
import { Grant } from '@mayfly/proto';
import { TaskGrant } from './task-grant.js';

function grantWith(complete: (outcome: string) => Promise<void>): TaskGrant {
  return new TaskGrant(Grant.fromPartial({ id: 'g1' }), 'token', complete);
}

describe('TaskGrant', () => {
  it('is released at the end of an `await using` scope even when the task throws', async () => {
    const outcomes: string[] = [];
    const task = async (): Promise<void> => {
      await using access = grantWith(async (outcome) => void outcomes.push(outcome));
      expect(access.accessToken).toBe('token');
      throw new Error('task failed');
    };
    await expect(task()).rejects.toThrow('task failed');
    expect(outcomes).toEqual(['released at end of scope']);
  });

  it('releases once however often it is asked', async () => {
    let calls = 0;
    const grant = grantWith(async () => void (calls += 1));
    await Promise.all([grant.release('a'), grant.release('b')]);
    await grant.release('c');
    expect(calls).toBe(1);
  });

  it('treats an already-ended grant as released, but reports other failures', async () => {
    await expect(grantWith(async () => Promise.reject(new MayflyError('ERR_GRANT_NOT_ACTIVE', 'expired'))).release()).resolves.toBeUndefined();
    await expect(grantWith(async () => Promise.reject(new MayflyError('ERR_DEPENDENCY_UNAVAILABLE', 'down'))).release()).rejects.toMatchObject({
      code: 'ERR_DEPENDENCY_UNAVAILABLE',
    });
  });
});

describe('TaskGrant renewal', () => {
  const T0 = new Date('2026-11-23T10:00:00Z').getTime();
  const grantUntil = (expiresInS: number, ceilingInS: number) =>
    Grant.fromPartial({ id: 'g1', expiresAt: new Date(Date.now() + expiresInS * 1000), renewableUntil: new Date(T0 + ceilingInS * 1000) });
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(T0);
  });
  afterEach(() => vi.useRealTimers());
  const half = () => 0.5; // no jitter: renew at exactly two thirds

  it('renews at two thirds of each token life, so `token` is always current', async () => {
    const presented: string[] = [];
    let n = 0;
    const grant = new TaskGrant(grantUntil(30, 120), 'token-0', async () => undefined, undefined, {
      random: half,
      renew: async (current) => {
        presented.push(current);
        return { grant: grantUntil(30, 120), accessToken: `token-${++n}` };
      },
    });
    const renewed: unknown[] = [];
    grant.on('renewed', (event) => renewed.push(event));
    await vi.advanceTimersByTimeAsync(19_000);
    expect(grant.token).toBe('token-0');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(grant.token).toBe('token-1');
    await vi.advanceTimersByTimeAsync(20_000);
    expect(grant.token).toBe('token-2');
    expect(presented).toEqual(['token-0', 'token-1']);
    expect(renewed).toHaveLength(2);
    expect(grant.signal.aborted).toBe(false);
  });

  it('at the renewal ceiling, stops renewing and aborts its signal when the last token expires', async () => {
    let calls = 0;
    const grant = new TaskGrant(grantUntil(30, 30), 'token-0', async () => undefined, undefined, { renew: async () => Promise.reject(new Error(`never ${++calls}`)) });
    await vi.advanceTimersByTimeAsync(29_999);
    expect(grant.signal.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(grant.signal.aborted).toBe(true);
    expect(String(grant.signal.reason)).toMatch(/renewal ceiling/);
    expect(calls).toBe(0);
  });

  it('reports a refused renewal and aborts at once: the grant has ended', async () => {
    const refusal = new MayflyError('ERR_GRANT_NOT_ACTIVE', 'grant g1 is revoked');
    const grant = new TaskGrant(grantUntil(30, 120), 'token-0', async () => undefined, undefined, { random: half, renew: async () => Promise.reject(refusal) });
    const failures: unknown[] = [];
    grant.on('renewal-failed', (error) => failures.push(error));
    await vi.advanceTimersByTimeAsync(20_000);
    expect(failures).toEqual([refusal]);
    expect(grant.signal.aborted).toBe(true);
    expect(grant.signal.reason).toBe(refusal);
  });

  it('retries a transient failure, reporting each, and carries on when it passes', async () => {
    let calls = 0;
    const grant = new TaskGrant(grantUntil(30, 120), 'token-0', async () => undefined, undefined, {
      random: half,
      retryMs: 1_000,
      renew: async () => {
        calls += 1;
        if (calls < 3) throw new MayflyError('ERR_DEPENDENCY_UNAVAILABLE', 'issuance is down');
        return { grant: grantUntil(30, 120), accessToken: 'token-1' };
      },
    });
    const failures: unknown[] = [];
    grant.on('renewal-failed', (error) => failures.push(error));
    await vi.advanceTimersByTimeAsync(22_000);
    expect(calls).toBe(3);
    expect(failures).toHaveLength(2);
    expect(grant.token).toBe('token-1');
    expect(grant.signal.aborted).toBe(false);
  });

  it('gives up when transient failures last until the token expires', async () => {
    const grant = new TaskGrant(grantUntil(30, 120), 'token-0', async () => undefined, undefined, {
      random: half,
      retryMs: 4_000,
      renew: async () => Promise.reject(new MayflyError('ERR_DEPENDENCY_UNAVAILABLE', 'issuance is down')),
    });
    await vi.advanceTimersByTimeAsync(29_000);
    expect(grant.signal.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(grant.signal.aborted).toBe(true);
  });

  it('completes with the current token, then stops renewing and lets go of what it held', async () => {
    const completed: string[] = [];
    let heldFor = 0;
    const grant = new TaskGrant(grantUntil(30, 120), 'token-0', async (_outcome, token) => void completed.push(token), undefined, {
      random: half,
      renew: async () => ({ grant: grantUntil(30, 120), accessToken: 'token-1' }),
      onDone: () => (heldFor += 1),
    });
    await vi.advanceTimersByTimeAsync(20_000);
    await grant.release('done');
    expect(completed).toEqual(['token-1']);
    expect(grant.signal.aborted).toBe(true);
    expect(heldFor).toBe(1);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(grant.token).toBe('token-1');
  });
});

describe('TaskGrant heartbeats', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());
  const live = () => Grant.fromPartial({ id: 'g1', heartbeatIntervalSeconds: 3, expiresAt: new Date(Date.now() + 60_000), renewableUntil: new Date(Date.now() + 60_000) });

  it('beats every third of the interval while the handle lives, and stops when released', async () => {
    const beats: string[] = [];
    const grant = new TaskGrant(live(), 'token-0', async () => undefined, undefined, { heartbeat: async (token) => void beats.push(token) });
    await vi.advanceTimersByTimeAsync(3_000);
    expect(beats).toEqual(['token-0', 'token-0', 'token-0']);
    await grant.release();
    await vi.advanceTimersByTimeAsync(3_000);
    expect(beats).toHaveLength(3);
  });

  it('a refused heartbeat aborts the signal; a transient one is reported and the next beat goes out', async () => {
    let calls = 0;
    const grant = new TaskGrant(live(), 'token-0', async () => undefined, undefined, {
      heartbeat: async () => {
        calls += 1;
        if (calls === 1) throw new MayflyError('ERR_DEPENDENCY_UNAVAILABLE', 'issuance restarting');
        if (calls === 3) throw new MayflyError('ERR_GRANT_NOT_ACTIVE', 'revoked: heartbeat_missed');
      },
    });
    const failures: unknown[] = [];
    grant.on('heartbeat-failed', (error) => failures.push(error));
    await vi.advanceTimersByTimeAsync(2_000);
    expect(grant.signal.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(failures).toHaveLength(2);
    expect(grant.signal.aborted).toBe(true);
  });

  it('sends none for a grant that requires no liveness', async () => {
    let calls = 0;
    new TaskGrant(Grant.fromPartial({ id: 'g1' }), 'token-0', async () => undefined, undefined, { heartbeat: async () => void (calls += 1) });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(calls).toBe(0);
  });
});

describe('TaskGrant detach', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('stops renewing and beating without ending the grant, and says so on its signal', async () => {
    let calls = 0;
    let completed = 0;
    const grant = new TaskGrant(
      Grant.fromPartial({ id: 'g1', heartbeatIntervalSeconds: 3, expiresAt: new Date(Date.now() + 30_000), renewableUntil: new Date(Date.now() + 120_000) }),
      'token-0',
      async () => void (completed += 1),
      undefined,
      { renew: async () => Promise.reject(new Error(`renew ${++calls}`)), heartbeat: async () => void (calls += 1) },
    );
    grant.detach();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(calls).toBe(0);
    expect(completed).toBe(0);
    expect(String(grant.signal.reason)).toMatch(/detached/);
  });
});
