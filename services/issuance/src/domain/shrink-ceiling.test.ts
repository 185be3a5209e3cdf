import { describe, expect, it } from 'vitest';
import type { Workload } from '@mayfly/proto';
import { shrinkCeiling, shrunkCeiling, type ShrinkPorts } from './shrink-ceiling.js';
import type { Approver } from './separation-of-duties.js';

const CEILING = [
  { resource: 'pg:orders', actions: ['read', 'write'] },
  { resource: 'redis:cache', actions: ['read'] },
];
const ID = 'spiffe://example.org/ci/builder';
const workload = { spiffeId: ID, ownerTeam: 'ci', ownerContact: 'ci@example.com', ceiling: CEILING } as unknown as Workload;
const people: Record<string, Approver> = {
  sre: { id: '1', name: 'sam@example.com', email: 'sam@example.com', groups: ['sre'] },
  owner: { id: '2', name: 'cia@example.com', email: 'cia@example.com', groups: ['ci'] },
  stranger: { id: '3', name: 'eve@example.com', email: 'eve@example.com', groups: ['eng'] },
};
const scope = { readerGroups: ['sre'] };

function ports(log: string[]): ShrinkPorts {
  return {
    verifyApprover: async (token) => people[token]!,
    findWorkload: async (spiffeId) => (spiffeId === ID ? workload : undefined),
    replaceCeiling: async (_workload, ceiling, reason) => {
      log.push(`replace ${JSON.stringify(ceiling)} ${reason}`);
      return ['g-1', 'g-2'];
    },
    revokeGrant: async (grantId, reason, by) => void log.push(`revoke ${grantId} ${reason} ${by}`),
  };
}
const refusal = (promise: Promise<unknown>) => promise.then(() => undefined, (error: Error & { code?: string }) => `${error.code}: ${error.message}`);

describe('shrunkCeiling', () => {
  it('takes actions out, and a resource left with none', () => {
    expect(shrunkCeiling(CEILING, [{ resource: 'pg:orders', actions: ['write'] }])).toEqual([{ resource: 'pg:orders', actions: ['read'] }, { resource: 'redis:cache', actions: ['read'] }]);
    expect(shrunkCeiling(CEILING, [{ resource: 'redis:cache', actions: ['read'] }])).toEqual([{ resource: 'pg:orders', actions: ['read', 'write'] }]);
  });

  it('never grows, and refuses removing what is not there or nothing', () => {
    expect(() => shrunkCeiling(CEILING, [{ resource: 'pg:orders', actions: ['delete'] }])).toThrow(/does not allow delete on pg:orders/);
    expect(() => shrunkCeiling(CEILING, [{ resource: 'pg:other', actions: ['read'] }])).toThrow(/does not allow read on pg:other/);
    expect(() => shrunkCeiling(CEILING, [])).toThrow(/at least one/);
    expect(() => shrunkCeiling(CEILING, [{ resource: 'pg:orders', actions: [] }])).toThrow(/at least one/);
  });
});

describe('shrinkCeiling', () => {
  it("lets readers and the workload's owners shrink it, and revokes what it no longer covers when asked", async () => {
    const log: string[] = [];
    const result = await shrinkCeiling({ idToken: 'owner', spiffeId: ID, remove: [{ resource: 'pg:orders', actions: ['write'] }], revokeUncovered: true, reason: 'never written in 30 days' }, ports(log), scope);
    expect(result).toEqual({ ceiling: [{ resource: 'pg:orders', actions: ['read'] }, { resource: 'redis:cache', actions: ['read'] }], uncoveredGrantIds: ['g-1', 'g-2'], revoked: 2 });
    expect(log).toEqual([
      'replace [{"resource":"pg:orders","actions":["read"]},{"resource":"redis:cache","actions":["read"]}] never written in 30 days (usage review by cia@example.com)',
      'revoke g-1 ceiling shrunk: never written in 30 days cia@example.com',
      'revoke g-2 ceiling shrunk: never written in 30 days cia@example.com',
    ]);
    const onlyNamed: string[] = [];
    expect((await shrinkCeiling({ idToken: 'sre', spiffeId: ID, remove: [{ resource: 'redis:cache', actions: ['read'] }], revokeUncovered: false, reason: 'unused' }, ports(onlyNamed), scope)).revoked).toBe(0);
    expect(onlyNamed.filter((line) => line.startsWith('revoke'))).toEqual([]);
  });

  it('refuses anyone else, a missing reason and an unknown workload, changing nothing', async () => {
    const log: string[] = [];
    const remove = [{ resource: 'pg:orders', actions: ['write'] }];
    expect(await refusal(shrinkCeiling({ idToken: 'stranger', spiffeId: ID, remove, revokeUncovered: true, reason: 'x' }, ports(log), scope))).toMatch(/^ERR_APPROVER_NOT_ALLOWED: eve@example.com may not change the ceiling/);
    expect(await refusal(shrinkCeiling({ idToken: 'sre', spiffeId: ID, remove, revokeUncovered: true, reason: ' ' }, ports(log), scope))).toMatch(/^ERR_INVALID_ARGUMENT: reason/);
    expect(await refusal(shrinkCeiling({ idToken: 'sre', spiffeId: 'spiffe://example.org/nope', remove, revokeUncovered: true, reason: 'x' }, ports(log), scope))).toMatch(/^ERR_WORKLOAD_NOT_FOUND/);
    expect(log).toEqual([]);
  });
});
