import { describe, expect, it } from 'vitest';
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
