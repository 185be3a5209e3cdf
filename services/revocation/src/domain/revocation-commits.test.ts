import type { StoredGrant } from '@mayfly/model';
import { describe, expect, it } from 'vitest';
import type { RevocationStore } from './ports.js';
import { commitRevocation } from './revocation-commits.js';
import type { ValidRevokeRequest } from './revoke-request.js';

// The revocation cascade over an in-memory RevocationStore: the SQL is the adapter's (and e2e 29's);
// what ends, in which order, with which records, is decided here.
const NOW = new Date('2026-12-03T12:00:00Z');

function grant(id: string, fields: Partial<StoredGrant> = {}): StoredGrant {
  return {
    id, spiffe_id: 'spiffe://demo.mayfly.local/agent', task_id: 't1', task_kind: 'k', task_reference: '', task_deadline: null, resource: 'db', actions: ['read'],
    status: 'active', token_id: `tok-${id}`, policy_ids: [], policy_version: '1', issued_at: NOW, expires_at: new Date(NOW.getTime() + 60_000), ended_at: null, end_reason: null,
    renewable_until: NOW, token_lifetime_seconds: 60, renewals: 0, idempotency_key: null, request_digest: null, token_reissue: null, heartbeat_interval_seconds: null,
    last_heartbeat_at: null, single_use: false, consumed_at: null, parent_grant_id: null, ancestor_grant_ids: [], delegators: [], break_glass: false, review_groups: [],
    reviewed_at: null, reviewed_by: null, review: null, created_at: NOW, ...fields,
  };
}

function store(grants: StoredGrant[]): RevocationStore & { ended: string[] } {
  const byId = new Map(grants.map((g) => [g.id, g]));
  const ended: string[] = [];
  const unused = () => Promise.reject(new Error('not used by this test'));
  return {
    ended,
    findGrantForUpdate: async (id) => byId.get(id),
    findGrantIdByTokenId: async (tokenId) => grants.find((g) => g.token_id === tokenId)?.id,
    lockActiveGrantIdsOfTask: async (taskId) => grants.filter((g) => g.task_id === taskId && g.status === 'active').map((g) => g.id),
    lockLiveDescendants: async (ids) => grants.filter((g) => g.status === 'active' && g.ancestor_grant_ids.some((a) => ids.includes(a))).map((g) => g.id),
    endGrant: async (id, status, reason, at) => {
      const current = byId.get(id);
      if (!current || current.status !== 'active') return undefined;
      const next = { ...current, status, end_reason: reason, ended_at: at };
      byId.set(id, next);
      grants.splice(grants.indexOf(current), 1, next);
      ended.push(id);
      return next;
    },
    markGrantConsumed: unused, revokeSvidsIssuedBefore: unused, revokeWorkloadGrantsIssuedBefore: unused, findKeyRevocation: unused, insertRevocations: unused, expireDueGrants: unused,
  };
}

const request = (grantId: string): ValidRevokeRequest => ({ target: { kind: 'grant', grantId }, reason: 'operator says', requestedBy: 'spiffe://demo.mayfly.local/mayfly/cli', note: '', finalStatus: 'revoked' });

describe('the revocation cascade', () => {
  it('ending a grant ends every live grant delegated from it, each with its own revocation and audit record', async () => {
    const records = store([
      grant('root'),
      grant('child', { parent_grant_id: 'root', ancestor_grant_ids: ['root'] }),
      grant('grandchild', { parent_grant_id: 'child', ancestor_grant_ids: ['root', 'child'] }),
      grant('stranger'),
    ]);
    const done = await commitRevocation({ store: records, request: request('root'), now: NOW, watermarkLifetimeMs: 86_400_000 });
    expect(records.ended).toEqual(['root', 'child', 'grandchild']);
    expect(done.rows.map((row) => row.grant_id)).toEqual(['root', 'child', 'grandchild']);
    expect(done.auditEvents.map((event) => event.kind)).toEqual(['grant.revoked', 'grant.revoked', 'grant.revoked']);
    expect(done.auditEvents[1]!.detail).toMatchObject({ delegatedFrom: 'root', reason: expect.stringContaining('delegated from grant root') });
    expect(done.grant?.id).toBe('root');
  });

  it('skips a descendant that already ended, but refuses to revoke a named grant that is not active', async () => {
    const records = store([grant('root'), grant('child', { status: 'completed', parent_grant_id: 'root', ancestor_grant_ids: ['root'] })]);
    const done = await commitRevocation({ store: records, request: request('root'), now: NOW, watermarkLifetimeMs: 1 });
    expect(done.endedGrantIds).toEqual(['root']);
    await expect(commitRevocation({ store: records, request: request('root'), now: NOW, watermarkLifetimeMs: 1 })).rejects.toMatchObject({ code: 'ERR_GRANT_NOT_ACTIVE' });
    await expect(commitRevocation({ store: records, request: request('nobody'), now: NOW, watermarkLifetimeMs: 1 })).rejects.toMatchObject({ code: 'ERR_GRANT_NOT_FOUND' });
  });
});
