import { describe, expect, it } from 'vitest';
import type { ValidGrantRequest } from './grant-request.js';
import { requestDigest } from './idempotency.js';

const base: ValidGrantRequest = {
  evidence: undefined,
  task: { id: 'job-1', kind: 'ci-job', reference: 'run/1', deadline: undefined },
  resource: 'orders-db',
  actions: ['read'],
  requestedTtlSeconds: 60,
  justification: 'nightly export',
  idempotencyKey: 'key-1',
  heartbeatIntervalSeconds: 0,
  singleUse: false,
  breakGlass: false,
};

describe('requestDigest', () => {
  it('is the same for the same request', () => {
    expect(requestDigest({ ...base })).toBe(requestDigest(base));
  });

  // Red team (issue 20, point 6): a retry with single_use=true under the key of a reusable
  // request was answered with the earlier reusable token.
  it.each([
    ['single_use', { singleUse: true }],
    ['heartbeat_interval_seconds', { heartbeatIntervalSeconds: 30 }],
    ['break_glass', { breakGlass: true }],
    ['actions', { actions: ['read', 'write'] }],
    ['requested_ttl_seconds', { requestedTtlSeconds: 61 }],
    ['task.deadline', { task: { ...base.task, deadline: new Date('2030-01-01T00:00:00Z') } }],
  ] as const)('differs when %s differs', (_field, change) => {
    expect(requestDigest({ ...base, ...change } as ValidGrantRequest)).not.toBe(requestDigest(base));
  });
});
