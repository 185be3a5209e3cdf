import type { CheckableLogins, LoginGrant } from '@mayfly/connectors';
import type { GrantRecord } from '@mayfly/model';
import { describe, expect, it } from 'vitest';
import { AccessTokenCredential } from './access-token-credential.js';
import { credentialIssuedDetail } from '../domain/credential-record.js';
import { LoginCredential } from './login-credential.js';

const GRANT = { id: '0b8d3c2a-1e4f-4a5b-8c6d-7e8f9a0b1c2d', actions: ['read'], expires_at: new Date('2026-12-03T12:05:00Z'), renewable_until: new Date('2026-12-03T14:00:00Z') } as unknown as GrantRecord;

describe('credential kinds (the catalog entries)', () => {
  it('the access token entry carries the grant token itself, and has nothing outside Mayfly to renew, destroy or reconcile', async () => {
    const kind = new AccessTokenCredential();
    expect(await kind.issue(GRANT, 'eyJ.token.sig')).toEqual({ accessToken: 'eyJ.token.sig' });
    expect(await kind.destroy()).toBe('absent');
    expect(await kind.exists()).toBe(false);
    expect(await kind.listLive()).toEqual([]);
    expect(credentialIssuedDetail({ accessToken: 'eyJ.token.sig' })).toBeUndefined(); // grant.issued records it
  });

  it('the login entry makes the login valid until the token expires, moves that on renewal, and records the user but not the password', async () => {
    const calls: { op: string; grant?: LoginGrant; grantId?: string }[] = [];
    const logins = {
      kind: 'postgresql',
      issue: async (grant: LoginGrant) => (calls.push({ op: 'issue', grant }), { user: 'mayfly_g_x', password: 's3cret', host: 'db', port: 5432, database: 'orders', validUntil: grant.expiresAt }),
      renew: async (grant: LoginGrant) => void calls.push({ op: 'renew', grant }),
      destroy: async (grantId: string) => (calls.push({ op: 'destroy', grantId }), 'destroyed' as const),
      exists: async () => true,
      listLive: async () => [GRANT.id],
      close: async () => undefined,
      check: async () => undefined,
    } satisfies CheckableLogins;
    const kind = new LoginCredential('postgresql', logins);
    const credential = await kind.issue(GRANT);
    expect(credential).toEqual({ login: { system: 'postgresql', host: 'db', port: 5432, database: 'orders', user: 'mayfly_g_x', password: 's3cret', validUntil: GRANT.expires_at } });
    expect(calls[0]!.grant).toEqual({ grantId: GRANT.id, actions: ['read'], expiresAt: GRANT.expires_at });
    const later = new Date('2026-12-03T12:10:00Z');
    await kind.renew(GRANT, later);
    expect(calls[1]).toEqual({ op: 'renew', grant: { grantId: GRANT.id, actions: ['read'], expiresAt: later } });
    expect(await kind.destroy(GRANT.id)).toBe('destroyed');
    expect(await kind.listLive()).toEqual([GRANT.id]);
    const detail = credentialIssuedDetail(credential);
    expect(detail).toMatchObject({ system: 'postgresql', user: 'mayfly_g_x', host: 'db', port: 5432, database: 'orders' });
    expect(JSON.stringify(detail)).not.toContain('s3cret');
  });
});
