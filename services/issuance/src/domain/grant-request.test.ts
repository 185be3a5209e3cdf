import { describe, expect, it } from 'vitest';
import { MayflyError } from '@mayfly/core';
import { RequestGrantRequest } from '@mayfly/proto';
import { credentialExpiry, readGrantRequest } from './grant-request.js';

const ttl = { defaultTtlSeconds: 300, maxRequestTtlSeconds: 3600 };
const now = new Date('2026-11-22T10:00:00.400Z');
const valid = RequestGrantRequest.fromPartial({
  evidence: { oidcToken: 'eyJ.x.y' },
  task: { id: 'job-1', kind: 'ci-job' },
  resource: 'pg:orders-db',
  actions: ['read'],
});

function codeAndField(fn: () => unknown): [string, string | undefined] {
  try {
    fn();
  } catch (error) {
    return [(error as MayflyError).code, (error as MayflyError).field];
  }
  return ['none', undefined];
}

describe('readGrantRequest', () => {
  it('fills in the default lifetime', () => {
    expect(readGrantRequest(valid, ttl, now).requestedTtlSeconds).toBe(300);
  });

  it('names the field at fault', () => {
    // Evidence may be absent (a session certificate says who asks): the identity step decides.
    expect(readGrantRequest({ ...valid, evidence: undefined }, ttl, now).evidence).toBeUndefined();
    expect(codeAndField(() => readGrantRequest({ ...valid, task: { ...valid.task!, id: '' } }, ttl, now))).toEqual(['ERR_INVALID_ARGUMENT', 'task.id']);
    expect(codeAndField(() => readGrantRequest({ ...valid, task: { ...valid.task!, kind: '' } }, ttl, now))).toEqual(['ERR_INVALID_ARGUMENT', 'task.kind']);
    expect(codeAndField(() => readGrantRequest({ ...valid, actions: [] }, ttl, now))).toEqual(['ERR_INVALID_ARGUMENT', 'actions']);
    expect(codeAndField(() => readGrantRequest({ ...valid, requestedTtlSeconds: 3601 }, ttl, now))).toEqual([
      'ERR_INVALID_ARGUMENT',
      'requested_ttl_seconds',
    ]);
  });

  it('refuses a task whose deadline has passed with FAILED_PRECONDITION', () => {
    const late = { ...valid, task: { ...valid.task!, deadline: new Date(now.getTime() - 1) } };
    expect(codeAndField(() => readGrantRequest(late, ttl, now))[0]).toBe('ERR_TASK_DEADLINE_PASSED');
  });
});

describe('credentialExpiry (invariant 2: exp ≤ min(requested, policy max, task deadline))', () => {
  const iat = Math.floor(now.getTime() / 1000);

  it('takes the requested lifetime when it is the shortest', () => {
    expect(credentialExpiry(now, 60, 900, undefined).getTime() / 1000).toBe(iat + 60);
  });

  it('takes the policy maximum when it is the shortest', () => {
    expect(credentialExpiry(now, 3000, 900, undefined).getTime() / 1000).toBe(iat + 900);
  });

  it('never outlives the task deadline, rounding down to whole seconds', () => {
    const deadline = new Date(now.getTime() + 30_700);
    const exp = credentialExpiry(now, 3000, 900, deadline);
    expect(exp.getTime()).toBeLessThanOrEqual(deadline.getTime());
    expect(exp.getTime() / 1000).toBe(iat + 31);
  });

  it('refuses when the deadline leaves less than a second', () => {
    expect(() => credentialExpiry(now, 60, 60, new Date(now.getTime() + 500))).toThrow(MayflyError);
  });
});
