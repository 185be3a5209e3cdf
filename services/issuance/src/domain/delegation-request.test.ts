import { type GrantRecord } from '@mayfly/model';
import { describe, expect, it } from 'vitest';
import { isMayflyError, type ErrorCode } from '@mayfly/core';
import { DelegateGrantRequest } from '@mayfly/proto';
import { delegationFrom, readDelegation } from './delegation-request.js';

const AGENT = 'spiffe://example.org/agent';
const TOOL = 'spiffe://example.org/tool';
const ttl = { defaultTtlSeconds: 300, maxRequestTtlSeconds: 3600 };
const parent = {
  id: '11111111-1111-4111-8111-111111111111',
  spiffe_id: AGENT,
  resource: 'pg:orders-db',
  actions: ['read', 'write'],
  single_use: false,
  ancestor_grant_ids: [],
  delegators: [],
} as unknown as GrantRecord;
const ask = (fields: Partial<DelegateGrantRequest>) =>
  readDelegation(DelegateGrantRequest.fromPartial({ parentToken: 'x.y.z', delegateSpiffeId: TOOL, resource: 'pg:orders-db', actions: ['read'], ...fields }), ttl);

function codeOf(action: () => unknown): ErrorCode | undefined {
  try {
    action();
  } catch (error) {
    return isMayflyError(error) ? error.code : undefined;
  }
  return undefined;
}

describe('delegationFrom: each hop can only narrow', () => {
  it('records the chain: the parent holder joins the delegators, the parent joins the ancestors', () => {
    expect(delegationFrom(parent, ask({}), 3)).toEqual({ delegators: [AGENT], parentGrantIds: [parent.id] });
    const child = { ...parent, id: '22222222-2222-4222-8222-222222222222', spiffe_id: TOOL, delegators: [AGENT], ancestor_grant_ids: [parent.id] } as GrantRecord;
    expect(delegationFrom(child, ask({ delegateSpiffeId: 'spiffe://example.org/helper' }), 3)).toEqual({ delegators: [AGENT, TOOL], parentGrantIds: [parent.id, child.id] });
  });

  it('refuses more than the parent holds: another resource, an action it lacks', () => {
    expect(codeOf(() => delegationFrom(parent, ask({ resource: 'pg:billing-db' }), 3))).toBe('ERR_DELEGATION_EXCEEDS_PARENT');
    expect(codeOf(() => delegationFrom(parent, ask({ actions: ['read', 'delete'] }), 3))).toBe('ERR_DELEGATION_EXCEEDS_PARENT');
    expect(codeOf(() => delegationFrom({ ...parent, single_use: true }, ask({}), 3))).toBe('ERR_DELEGATION_EXCEEDS_PARENT');
  });

  it('refuses a chain deeper than allowed, and every delegation when the depth is 0', () => {
    const deep = { ...parent, delegators: ['spiffe://example.org/a', 'spiffe://example.org/b'], ancestor_grant_ids: ['a', 'b'] } as unknown as GrantRecord;
    expect(codeOf(() => delegationFrom(deep, ask({}), 2))).toBe('ERR_DELEGATION_TOO_DEEP');
    expect(delegationFrom(deep, ask({}), 3).delegators).toHaveLength(3);
    expect(codeOf(() => delegationFrom(parent, ask({}), 0))).toBe('ERR_DELEGATION_TOO_DEEP');
  });

  it('refuses a loop: to itself, or back to anyone already in the chain', () => {
    expect(codeOf(() => delegationFrom(parent, ask({ delegateSpiffeId: AGENT }), 3))).toBe('ERR_INVALID_ARGUMENT');
    const child = { ...parent, spiffe_id: TOOL, delegators: [AGENT], ancestor_grant_ids: [parent.id] } as GrantRecord;
    expect(codeOf(() => delegationFrom(child, ask({ delegateSpiffeId: AGENT }), 3))).toBe('ERR_INVALID_ARGUMENT');
  });
});

describe('readDelegation', () => {
  it('refuses malformed input before anything is looked up', () => {
    expect(codeOf(() => ask({ delegateSpiffeId: 'not-a-spiffe-id' }))).toBe('ERR_INVALID_ARGUMENT');
    expect(codeOf(() => ask({ parentToken: '' }))).toBe('ERR_INVALID_ARGUMENT');
    expect(codeOf(() => ask({ actions: [] }))).toBe('ERR_INVALID_ARGUMENT');
    expect(codeOf(() => ask({ requestedTtlSeconds: 7200 }))).toBe('ERR_INVALID_ARGUMENT');
    expect(codeOf(() => ask({ delegateCertificatePem: 'x'.repeat(20_000) }))).toBe('ERR_INVALID_ARGUMENT');
  });

  it('takes the default TTL when none is asked, and no certificate as none', () => {
    expect(ask({})).toMatchObject({ actions: ['read'], requestedTtlSeconds: 300, delegateCertificatePem: undefined });
  });
});
