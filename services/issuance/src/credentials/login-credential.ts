import type { CheckableLogins } from '@mayfly/connectors';
import type { GrantRecord } from '@mayfly/model';
import type { Credential } from '@mayfly/proto';
import type { CredentialKind } from './credential-kind.js';

/**
 * The credential of a database or cache: a login made for the grant by the resource's connector
 * (PostgreSQL, MariaDB, Redis), valid until the grant token's expiry where the system can say so,
 * destroyed — sessions terminated — when the grant ends.
 */
export class LoginCredential implements CredentialKind {
  constructor(
    readonly kind: 'postgresql' | 'mariadb' | 'redis',
    private readonly logins: CheckableLogins,
  ) {}

  async issue(grant: GrantRecord): Promise<Credential> {
    const issued = await this.logins.issue({ grantId: grant.id, actions: grant.actions, expiresAt: grant.expires_at });
    return { login: { system: this.kind, host: issued.host, port: issued.port, database: issued.database ?? '', user: issued.user, password: issued.password, validUntil: issued.validUntil } };
  }

  renew(grant: GrantRecord, until: Date): Promise<void> {
    return this.logins.renew({ grantId: grant.id, actions: grant.actions, expiresAt: until });
  }

  destroy(grantId: string): Promise<'destroyed' | 'absent'> {
    return this.logins.destroy(grantId);
  }

  exists(grantId: string): Promise<boolean> {
    return this.logins.exists(grantId);
  }

  listLive(): Promise<string[]> {
    return this.logins.listLive();
  }

  close(): Promise<void> {
    return this.logins.close();
  }
}
