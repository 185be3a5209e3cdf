import { connectorFor } from '@mayfly/connectors';
import { MayflyError, type Logger } from '@mayfly/core';
import { findResource, listResources, type Database, type Kysely, type ResourceRow } from '@mayfly/db';
import type { GrantRecord } from '@mayfly/model';
import type { Credential } from '@mayfly/proto';
import { AccessTokenCredential } from '../credentials/access-token-credential.js';
import type { CredentialKind } from '../credentials/credential-kind.js';
import { LoginCredential } from '../credentials/login-credential.js';

const ACCESS_TOKEN = new AccessTokenCredential();

/**
 * The credential catalog: for each resource, the kind of credential its grants carry — a login
 * made by its connector when the registry has an entry for it, the access token otherwise — and
 * what every flow that issues, renews, collects or ends a grant does with it. Entries are cached
 * for `cacheMs`; a connector is made once per version of its entry (a changed entry, or a rotated
 * credential file read at connect, applies to the next login).
 */
export class CredentialCatalog {
  private readonly entries = new Map<string, { row: ResourceRow | undefined; readAt: number }>();
  private readonly connectors = new Map<string, { version: number; kind: LoginCredential }>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly cacheMs: number,
    private readonly log: Logger,
  ) {}

  /** The credential the grant carries, given the grant token minted for it. */
  async issue(grant: GrantRecord, grantToken: string): Promise<Credential> {
    return (await this.kindFor(grant.resource)).issue(grant, grantToken);
  }

  /** Moves the credential's expiry with a renewal (where its kind has one). */
  async renew(grant: GrantRecord, until: Date): Promise<void> {
    await (await this.kindFor(grant.resource)).renew(grant, until);
  }

  /**
   * The credential of an approved grant, made when the workload collects it. A credential that
   * lives outside Mayfly is handed out once: a second collection is refused.
   */
  async collect(grant: GrantRecord, grantToken: string): Promise<Credential> {
    const kind = await this.kindFor(grant.resource);
    if (await kind.exists(grant.id)) {
      throw new MayflyError('ERR_GRANT_NOT_PENDING', `grant ${grant.id}'s login was collected already: its password is handed out once; request again for another`);
    }
    return kind.issue(grant, grantToken);
  }

  /** Ends the credential of a grant on `resource` (the registry read afresh); 'absent' when there is none. */
  async destroy(grantId: string, resource: string): Promise<'destroyed' | 'absent'> {
    return (await this.kindFor(resource, { fresh: true })).destroy(grantId);
  }

  /** Every resource whose credentials live outside Mayfly, with its kind: what the reconciler lists. */
  async all(): Promise<{ resource: string; kind: CredentialKind }[]> {
    return (await listResources(this.db)).map((row) => ({ resource: row.name, kind: this.connector(row) }));
  }

  async close(): Promise<void> {
    await Promise.all([...this.connectors.values()].map(({ kind }) => kind.close().catch(() => undefined)));
  }

  private async kindFor(resource: string, options: { fresh?: boolean } = {}): Promise<CredentialKind> {
    const row = await this.resource(resource, options);
    return row ? this.connector(row) : ACCESS_TOKEN;
  }

  private async resource(name: string, options: { fresh?: boolean }): Promise<ResourceRow | undefined> {
    const cached = this.entries.get(name);
    if (cached && !options.fresh && Date.now() - cached.readAt < this.cacheMs) return cached.row;
    const row = await findResource(this.db, name);
    this.entries.set(name, { row, readAt: Date.now() });
    return row;
  }

  private connector(row: ResourceRow): LoginCredential {
    const version = row.updated_at.getTime();
    const existing = this.connectors.get(row.name);
    if (existing?.version === version) return existing.kind;
    if (existing) void existing.kind.close().catch(() => undefined);
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
    const kind = new LoginCredential(row.kind, logins);
    this.connectors.set(row.name, { version, kind });
    this.log.info({ resource: row.name, kind: row.kind }, 'connected to a resource with dynamic logins');
    return kind;
  }
}
