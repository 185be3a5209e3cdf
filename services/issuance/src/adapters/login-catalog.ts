import { connectorFor, type CheckableLogins } from '@mayfly/connectors';
import { MayflyError, type Logger } from '@mayfly/core';
import { findResource, listResources, type Database, type Kysely, type ResourceRow } from '@mayfly/db';
import type { GrantRecord } from '@mayfly/model';
import type { Login } from '@mayfly/proto';

/**
 * The resources the registry gives dynamic logins, each with its connector (made once per version
 * of its entry: a changed entry, or a rotated credential file read at connect, applies to the
 * next login). Entries are cached for `cacheMs`.
 */
export class LoginCatalog {
  private readonly entries = new Map<string, { row: ResourceRow | undefined; readAt: number }>();
  private readonly connectors = new Map<string, { version: number; logins: CheckableLogins }>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly cacheMs: number,
    private readonly log: Logger,
  ) {}

  /** The grant's login, or undefined when its resource has no registry entry (a JWT audience). */
  async issue(grant: GrantRecord): Promise<Login | undefined> {
    const row = await this.resource(grant.resource);
    if (!row) return undefined;
    const issued = await this.connector(row).issue({ grantId: grant.id, actions: grant.actions, expiresAt: grant.expires_at });
    return { system: row.kind, host: issued.host, port: issued.port, database: issued.database ?? '', user: issued.user, password: issued.password, validUntil: issued.validUntil };
  }

  /**
   * The login of an approved grant, made when the workload collects it; a second collection is
   * refused, because the password leaves once. Undefined for a resource without logins.
   */
  async collect(grant: GrantRecord): Promise<Login | undefined> {
    const row = await this.resource(grant.resource);
    if (!row) return undefined;
    if (await this.connector(row).exists(grant.id)) {
      throw new MayflyError('ERR_GRANT_NOT_PENDING', `grant ${grant.id}'s login was collected already: its password is handed out once; request again for another`);
    }
    return this.issue(grant);
  }

  /**
   * Moves the login's expiry to `expiresAt` (a renewal), where the system has one: PostgreSQL's
   * VALID UNTIL. MariaDB and Redis have no per-user expiry finer than days; their logins end when
   * the grant does (the reaper), not on their own.
   */
  async renew(grant: GrantRecord, expiresAt: Date): Promise<void> {
    const row = await this.resource(grant.resource);
    if (!row) return;
    await this.connector(row).renew({ grantId: grant.id, actions: grant.actions, expiresAt });
  }

  /** Destroys the login of a grant on `resource`; 'absent' when there is none (or no such resource). */
  async destroy(grantId: string, resource: string): Promise<'destroyed' | 'absent'> {
    const row = await this.resource(resource, { fresh: true });
    if (!row) return 'absent';
    return this.connector(row).destroy(grantId);
  }

  /** Every resource with dynamic logins and its connector, for the reconciler. */
  async all(): Promise<{ resource: string; logins: CheckableLogins }[]> {
    return (await listResources(this.db)).map((row) => ({ resource: row.name, logins: this.connector(row) }));
  }

  async close(): Promise<void> {
    await Promise.all([...this.connectors.values()].map(({ logins }) => logins.close().catch(() => undefined)));
  }

  private async resource(name: string, options: { fresh?: boolean } = {}): Promise<ResourceRow | undefined> {
    const cached = this.entries.get(name);
    if (cached && !options.fresh && Date.now() - cached.readAt < this.cacheMs) return cached.row;
    const row = await findResource(this.db, name);
    this.entries.set(name, { row, readAt: Date.now() });
    return row;
  }

  private connector(row: ResourceRow): CheckableLogins {
    const version = row.updated_at.getTime();
    const existing = this.connectors.get(row.name);
    if (existing?.version === version) return existing.logins;
    if (existing) void existing.logins.close().catch(() => undefined);
    const logins = connectorFor({
      name: row.name,
      kind: row.kind,
      host: row.host,
      port: row.port,
      database: row.database,
      adminCredentialFile: row.admin_credential_file,
      actions: row.actions,
      connectionLimit: row.connection_limit,
    });
    this.connectors.set(row.name, { version, logins });
    this.log.info({ resource: row.name, kind: row.kind }, 'connected to a resource with dynamic logins');
    return logins;
  }
}
