import { randomBytes } from 'node:crypto';
import { MayflyError } from '@mayfly/core';
import pg from 'pg';
import { grantIdOfLogin, loginName, mappedTo, type DynamicLoginKind, type IssuedLogin, type LoginGrant } from './dynamic-login.js';

/** SQLSTATE 42704: the role named does not exist (any more). */
const UNDEFINED_OBJECT = '42704';

export interface PostgresqlResource {
  /** The resource's name in grants, e.g. `pg:orders-db`. */
  readonly name: string;
  /** An admin connection (a role with CREATEROLE and ADMIN OPTION on the mapped roles); read from a file, never stored. */
  readonly adminUrl: string;
  /** Where workloads connect (often the same host as the admin URL). */
  readonly host: string;
  readonly port: number;
  readonly database: string;
  /** Each action → existing NOLOGIN group roles. The login is only ever a member of these. */
  readonly actions: Readonly<Record<string, readonly string[]>>;
  /** Connections one login may hold. Default 10. */
  readonly connectionLimit?: number;
}

/**
 * PostgreSQL logins per grant. The login is a member of the mapped group roles and holds nothing
 * of its own — no direct grants, so dropping it can never fail on privileges (Vault issues 1535,
 * 1994), and `DROP OWNED` covers anything it created anyway. Destroying it first refuses new
 * logins, then terminates its open sessions (what Vault's lease revocation leaves running), then
 * drops it.
 */
export class PostgresqlLogins implements DynamicLoginKind {
  readonly kind = 'postgresql' as const;
  /** Issuing (and checks): what a grant waits for. */
  private readonly pool: pg.Pool;
  /**
   * Destroying and listing, apart: a destroy holds its connection until the login's sessions are
   * gone, and a mass revocation queues hundreds of them; in one pool a new grant's login would
   * wait for all of them (as MariaDB's did, see mariadb-logins.ts).
   */
  private readonly reapPool: pg.Pool;

  constructor(private readonly resource: PostgresqlResource) {
    this.pool = new pg.Pool({ connectionString: resource.adminUrl, max: 4, application_name: 'mayfly-credentials' });
    this.reapPool = new pg.Pool({ connectionString: resource.adminUrl, max: 2, application_name: 'mayfly-credentials-reaper' });
    // An idle admin connection that breaks is replaced on the next query; it must not crash the service.
    this.pool.on('error', () => undefined);
    this.reapPool.on('error', () => undefined);
  }

  /** Checks the admin can make logins and every mapped role exists; the message says what is missing. */
  async check(): Promise<void> {
    const roles = [...new Set(Object.values(this.resource.actions).flat())];
    const { rows } = await this.query<{ rolname: string }>('SELECT rolname FROM pg_roles WHERE rolname = ANY($1)', [roles]);
    const missing = roles.filter((role) => !rows.some((row) => row.rolname === role));
    if (missing.length > 0) throw new MayflyError('ERR_INVALID_ARGUMENT', `resource ${this.resource.name}: no role ${missing.join(', ')} in the database (create them as NOLOGIN group roles first)`);
    const admin = await this.query<{ ok: boolean }>('SELECT rolcreaterole OR rolsuper AS ok FROM pg_roles WHERE rolname = current_user');
    if (!admin.rows[0]?.ok) throw new MayflyError('ERR_INVALID_ARGUMENT', `resource ${this.resource.name}: the admin role may not create roles (it needs CREATEROLE)`);
  }

  async issue(grant: LoginGrant): Promise<IssuedLogin> {
    const roles = mappedTo(grant.actions, this.resource.actions, this.resource.name);
    const user = loginName(grant.grantId);
    const password = randomBytes(32).toString('base64url');
    const client = await this.connect();
    try {
      await client.query('BEGIN');
      await client.query(
        `CREATE ROLE ${pg.escapeIdentifier(user)} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT ` +
          `CONNECTION LIMIT ${this.resource.connectionLimit ?? 10} PASSWORD ${pg.escapeLiteral(password)} VALID UNTIL ${pg.escapeLiteral(grant.expiresAt.toISOString())}`,
      );
      for (const role of roles) await client.query(`GRANT ${pg.escapeIdentifier(role)} TO ${pg.escapeIdentifier(user)}`);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw this.failure('create a login for', grant.grantId, error);
    } finally {
      client.release();
    }
    const { host, port, database } = this.resource;
    return { user, password, host, port, database, validUntil: grant.expiresAt };
  }

  async renew(grant: LoginGrant): Promise<void> {
    await this.query(`ALTER ROLE ${pg.escapeIdentifier(loginName(grant.grantId))} VALID UNTIL ${pg.escapeLiteral(grant.expiresAt.toISOString())}`).catch((error: unknown) => {
      throw this.failure('renew the login of', grant.grantId, error);
    });
  }

  async exists(grantId: string): Promise<boolean> {
    return (await this.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [loginName(grantId)])).rowCount === 1;
  }

  async destroy(grantId: string): Promise<'destroyed' | 'absent'> {
    const user = loginName(grantId);
    const role = pg.escapeIdentifier(user);
    const client = await this.connect(this.reapPool);
    try {
      // One destroyer per login at a time: the trigger listener, the stream consumer and the
      // reconciler (of every issuance replica) may act on the same end, and concurrent ALTER/DROP
      // ROLE fail ("tuple concurrently updated"). The others wait here, then find it gone.
      await client.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [user]);
      try {
        if ((await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [user])).rowCount === 0) return 'absent';
        // No new logins, then end the sessions it has: nothing it opened outlives the grant.
        await client.query(`ALTER ROLE ${role} NOLOGIN`);
        await client.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1', [user]);
        // pg_terminate_backend only signals: wait (a bounded while) until its sessions have gone.
        for (let attempt = 0; attempt < 80; attempt++) {
          if ((await client.query('SELECT 1 FROM pg_stat_activity WHERE usename = $1', [user])).rowCount === 0) break;
          await new Promise((resolve) => setTimeout(resolve, 25));
        }
        await client.query('BEGIN');
        try {
          await client.query(`REASSIGN OWNED BY ${role} TO CURRENT_USER`);
          await client.query(`DROP OWNED BY ${role}`);
          await client.query(`DROP ROLE IF EXISTS ${role}`);
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw error;
        }
      } finally {
        await client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [user]).catch(() => undefined);
      }
    } catch (error) {
      // Dropped between our check and our statements by something that does not take the lock
      // (an operator): it is gone, which is all destroy promises. Retrying would fail forever.
      if ((error as { code?: string }).code === UNDEFINED_OBJECT) return 'absent';
      throw this.failure('destroy the login of', grantId, error);
    } finally {
      client.release();
    }
    return 'destroyed';
  }

  /**
   * Roles are shared by every database of a cluster: only the logins that are members of this
   * resource's mapped roles are its own (another resource, or another Mayfly, on the same cluster
   * keeps its logins).
   */
  async listLive(): Promise<string[]> {
    const roles = [...new Set(Object.values(this.resource.actions).flat())];
    const { rows } = await this.query<{ rolname: string }>(
      `SELECT DISTINCT login.rolname FROM pg_roles login
         JOIN pg_auth_members membership ON membership.member = login.oid
         JOIN pg_roles mapped ON mapped.oid = membership.roleid
        WHERE login.rolname LIKE 'mayfly\\_g\\_%' AND mapped.rolname = ANY($1)`,
      [roles],
      this.reapPool,
    );
    return rows.map((row) => grantIdOfLogin(row.rolname)).filter((id): id is string => id !== undefined);
  }

  async close(): Promise<void> {
    await Promise.all([this.pool.end(), this.reapPool.end()]);
  }

  private async connect(pool: pg.Pool = this.pool): Promise<pg.PoolClient> {
    try {
      return await pool.connect();
    } catch (error) {
      throw new MayflyError('ERR_DEPENDENCY_UNAVAILABLE', `resource ${this.resource.name}: cannot reach its database (${(error as Error).message})`, { cause: error });
    }
  }

  private async query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[], pool: pg.Pool = this.pool): Promise<pg.QueryResult<R>> {
    const client = await this.connect(pool);
    try {
      return await client.query<R>(text, values);
    } finally {
      client.release();
    }
  }

  /** A database error, said as what could not be done and why, without the statement (it may hold a password). */
  private failure(what: string, grantId: string, error: unknown): MayflyError {
    if (error instanceof MayflyError) return error;
    const reason = (error as { message?: string }).message ?? String(error);
    return new MayflyError('ERR_DEPENDENCY_UNAVAILABLE', `resource ${this.resource.name}: could not ${what} grant ${grantId}: ${reason}`);
  }
}
