import { describe, expect, it } from 'vitest';
import type { StoredGrant } from '@mayfly/model';
import { revokeAsPerson, type PersonRevocationPorts, type PersonRevocationTarget } from './revoke-as-person.js';
import type { Approver } from './separation-of-duties.js';

const GRANT = '0b9d3c4e-1f2a-4b5c-8d6e-7f8091a2b3c4';
const REPORTER = 'spiffe://example.org/prod/reporter';
const people: Record<string, Approver> = {
  sre: { id: 'idp#1', name: 'sam@example.com', email: 'sam@example.com', groups: ['sre'] },
  owner: { id: 'idp#2', name: 'olga@example.com', email: 'olga@example.com', groups: ['reporting'] },
  stranger: { id: 'idp#3', name: 'eve@example.com', email: 'eve@example.com', groups: ['eng'] },
};

function ports(revoked: { target: PersonRevocationTarget; reason: string; by: string }[]): PersonRevocationPorts {
  return {
    verifyApprover: async (token) => people[token] ?? Promise.reject(new Error('unknown token')),
    findGrant: async (id) => (id === GRANT ? ({ id, spiffe_id: REPORTER } as StoredGrant) : undefined),
    findOwners: async (spiffeId) => (spiffeId === REPORTER ? { ownerTeam: 'reporting', ownerContact: 'reports@example.com' } : undefined),
    revoke: async (target, reason, by) => {
      revoked.push({ target, reason, by });
      return { grantsEnded: 1, revocationId: 'r1' };
    },
  };
}

const scope = { readerGroups: ['sre', 'security'] };
const refusal = (promise: Promise<unknown>) => promise.then(() => undefined, (error: Error & { code?: string }) => `${error.code}: ${error.message}`);

describe('revokeAsPerson', () => {
  it('lets a reader revoke any grant, and names the person as who asked', async () => {
    const calls: { target: PersonRevocationTarget; reason: string; by: string }[] = [];
    await revokeAsPerson({ idToken: 'sre', reason: 'incident 42', target: { kind: 'grant', grantId: GRANT } }, ports(calls), scope);
    expect(calls).toEqual([{ target: { kind: 'grant', grantId: GRANT }, reason: 'incident 42', by: 'sam@example.com' }]);
  });

  it("lets a workload's owner revoke its grants, tasks and credentials", async () => {
    const calls: { target: PersonRevocationTarget; reason: string; by: string }[] = [];
    await revokeAsPerson({ idToken: 'owner', reason: 'done', target: { kind: 'grant', grantId: GRANT } }, ports(calls), scope);
    await revokeAsPerson({ idToken: 'owner', reason: 'done', target: { kind: 'task', taskId: 'T-1', spiffeId: REPORTER } }, ports(calls), scope);
    await revokeAsPerson({ idToken: 'owner', reason: 'leaked', target: { kind: 'workload', spiffeId: REPORTER } }, ports(calls), scope);
    expect(calls.map((call) => call.target.kind)).toEqual(['grant', 'task', 'workload']);
  });

  it('refuses anyone else, and revokes nothing', async () => {
    const calls: { target: PersonRevocationTarget; reason: string; by: string }[] = [];
    expect(await refusal(revokeAsPerson({ idToken: 'stranger', reason: 'x', target: { kind: 'grant', grantId: GRANT } }, ports(calls), scope))).toMatch(/^ERR_APPROVER_NOT_ALLOWED: eve@example.com may not revoke grant/);
    expect(await refusal(revokeAsPerson({ idToken: 'owner', reason: 'x', target: { kind: 'task', taskId: 'T-1', spiffeId: '' } }, ports(calls), scope))).toMatch(/every workload/);
    expect(await refusal(revokeAsPerson({ idToken: 'owner', reason: 'x', target: { kind: 'workload', spiffeId: 'spiffe://example.org/other' } }, ports(calls), scope))).toMatch(/ERR_APPROVER_NOT_ALLOWED/);
    expect(calls).toEqual([]);
  });

  it('requires a reason and a well-formed target before asking who the person is', async () => {
    const calls: { target: PersonRevocationTarget; reason: string; by: string }[] = [];
    expect(await refusal(revokeAsPerson({ idToken: 'sre', reason: '  ', target: { kind: 'grant', grantId: GRANT } }, ports(calls), scope))).toMatch(/^ERR_INVALID_ARGUMENT: reason/);
    expect(await refusal(revokeAsPerson({ idToken: 'sre', reason: 'x', target: undefined }, ports(calls), scope))).toMatch(/^ERR_INVALID_ARGUMENT: target/);
    expect(await refusal(revokeAsPerson({ idToken: 'sre', reason: 'x', target: { kind: 'grant', grantId: 'not-a-uuid' } }, ports(calls), scope))).toMatch(/ERR_INVALID_ARGUMENT/);
    expect(await refusal(revokeAsPerson({ idToken: 'sre', reason: 'x', target: { kind: 'grant', grantId: '1b9d3c4e-1f2a-4b5c-8d6e-7f8091a2b3c4' } }, ports(calls), scope))).toMatch(/^ERR_GRANT_NOT_FOUND/);
    expect(calls).toEqual([]);
  });
});
