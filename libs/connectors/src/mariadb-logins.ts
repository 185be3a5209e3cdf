import { randomBytes } from 'node:crypto';
import { MayflyError } from '@mayfly/core';
import mysql from 'mysql2/promise';
import { grantIdOfLogin, loginName, mappedTo, type DynamicLoginKind, type IssuedLogin, type LoginGrant } from './dynamic-login.js';

export interface MariadbResource {
  readonly name: string;
  /** An admin connection (CREATE USER and the mapped roles WITH ADMIN OPTION); read from a file, never stored. */
  readonly admin: { readonly host: string; readonly port: number; readonly user: string; readonly password: string };
  readonly host: string;
  readonly port: number;
  readonly database: string;
  /** Each action → existing roles. The user is granted these and nothing else, one of them as its default. */
  readonly actions: Readonly<Record<string, readonly string[]>>;
  readonly connectionLimit?: number;
}

/**
 * MariaDB users per grant: `CREATE USER … WITH MAX_USER_CONNECTIONS`, the mapped roles granted (no
 * direct privileges), and a default role so that the privileges apply at login. MariaDB activates
 * one role at a time: several mapped roles are combined in a per-grant role made of them. Destroy
 * locks the account, kills its connections and drops it (and that role).
 */
export class MariadbLogins implements DynamicLoginKind {
  readonly kind = 'mariadb' as const;
  /** Issuing (and checks): what a grant waits for. */
  private readonly pool: mysql.Pool;
  /**
   * Destroying and listing, apart: a mass revocation ends hundreds of logins at once, each a few
   * statements, and in one pool every statement of a new grant's login would queue behind all of
   * theirs (measured: login grants timing out after 5 s while a thousand revoked logins were
   * being dropped). Ending logins may take its time; making one may not.
   */
  private readonly reapPool: mysql.Pool;

  constructor(private readonly resource: MariadbResource) {
    // The system tables (mysql.user is a view) compare in utf8mb4_general_ci: so must the connection.
    const options = { ...resource.admin, multipleStatements: false, charset: 'UTF8MB4_GENERAL_CI' };
    this.pool = mysql.createPool({ ...options, connectionLimit: 4 });
    this.reapPool = mysql.createPool({ ...options, connectionLimit: 2 });
  }

  async check(): Promise<void> {
    const roles = [...new Set(Object.values(this.resource.actions).flat())];
    const [rows] = await this.run<mysql.RowDataPacket[]>("SELECT User AS name FROM mysql.user WHERE is_role = 'Y'");
    const missing = roles.filter((role) => !rows.some((row) => row['name'] === role));
    if (missing.length > 0) throw new MayflyError('ERR_INVALID_ARGUMENT', `resource ${this.resource.name}: no role ${missing.join(', ')} in the database (create them first: CREATE ROLE …)`);
  }

  async issue(grant: LoginGrant): Promise<IssuedLogin> {
    const roles = mappedTo(grant.actions, this.resource.actions, this.resource.name);
    const user = loginName(grant.grantId);
    const password = randomBytes(32).toString('base64url');
    const account = this.account(user);
    const combined = mysql.escapeId(`${user}_r`);
    try {
      await this.run(`CREATE USER ${account} IDENTIFIED BY ${mysql.escape(password)} WITH MAX_USER_CONNECTIONS ${this.resource.connectionLimit ?? 10}`);
      await this.run(`CREATE ROLE ${combined}`);
      for (const role of roles) await this.run(`GRANT ${mysql.escapeId(role)} TO ${combined}`);
      await this.run(`GRANT ${combined} TO ${account}`);
      await this.run(`SET DEFAULT ROLE ${combined} FOR ${account}`);
    } catch (error) {
      // Nothing half-made stays: drop what was created (DROP … IF EXISTS is a no-op otherwise).
      await this.dropUserAndRole(user).catch(() => undefined);
      throw this.failure('create a user for', grant.grantId, error);
    }
    const { host, port, database } = this.resource;
    return { user, password, host, port, database, validUntil: grant.expiresAt };
  }

  /** MariaDB has no per-user expiry time (only password lifetimes in days): the grant's end destroys it. */
  async renew(): Promise<void> {}

  async exists(grantId: string): Promise<boolean> {
    const [found] = await this.run<mysql.RowDataPacket[]>("SELECT 1 FROM mysql.user WHERE User = ? AND is_role = 'N'", [loginName(grantId)]);
    return found.length > 0;
  }

  async destroy(grantId: string): Promise<'destroyed' | 'absent'> {
    const user = loginName(grantId);
    const [found] = await this.reap<mysql.RowDataPacket[]>("SELECT 1 FROM mysql.user WHERE User = ? AND is_role = 'N'", [user]);
    if (found.length === 0) {
      await this.dropUserAndRole(user, this.reapPool).catch(() => undefined); // a role left by a half-made issue
      return 'absent';
    }
    try {
      await this.reap(`ALTER USER ${this.account(user)} ACCOUNT LOCK`);
      await this.reap(`KILL CONNECTION USER ${this.account(user)}`).catch(() => undefined); // no connections: nothing to kill
      await this.untilGone(user);
      await this.dropUserAndRole(user, this.reapPool);
    } catch (error) {
      throw this.failure('destroy the user of', grantId, error);
    }
    return 'destroyed';
  }

  /** KILL only signals: wait (a bounded while) until the user's connections have closed, then report it destroyed. */
  private async untilGone(user: string): Promise<void> {
    for (let attempt = 0; attempt < 80; attempt++) {
      const [rows] = await this.reap<mysql.RowDataPacket[]>('SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE USER = ?', [user]);
      if (Number(rows[0]!['n']) === 0) return;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  /**
   * Users are shared by every database of a server: only the logins whose own role (`<user>_r`)
   * holds one of this resource's mapped roles are its own (another resource, or another Mayfly, on
   * the same server keeps its users).
   */
  async listLive(): Promise<string[]> {
    const roles = [...new Set(Object.values(this.resource.actions).flat())];
    const [rows] = await this.reap<mysql.RowDataPacket[]>(
      "SELECT DISTINCT mapping.User AS role FROM mysql.roles_mapping mapping JOIN mysql.user login ON login.User = LEFT(mapping.User, LENGTH(mapping.User) - 2) AND login.is_role = 'N' WHERE mapping.Role IN (?) AND mapping.User LIKE 'mayfly\\_g\\_%\\_r'",
      [roles],
    );
    return rows.map((row) => grantIdOfLogin(String(row['role']).slice(0, -2))).filter((id): id is string => id !== undefined);
  }

  async close(): Promise<void> {
    await Promise.all([this.pool.end(), this.reapPool.end()]);
  }

  private async dropUserAndRole(user: string, pool: mysql.Pool = this.pool): Promise<void> {
    await this.run(`DROP USER IF EXISTS ${this.account(user)}`, undefined, pool);
    await this.run(`DROP ROLE IF EXISTS ${mysql.escapeId(`${user}_r`)}`, undefined, pool);
  }

  /** `'user'@'%'`: the name comes from the grant id only; quoted all the same. */
  private account(user: string): string {
    return `${mysql.escape(user)}@'%'`;
  }

  /** A statement of ending or listing logins (the reaping pool). */
  private reap<T extends mysql.RowDataPacket[] | mysql.ResultSetHeader = mysql.ResultSetHeader>(sql: string, values?: unknown[]): Promise<[T, mysql.FieldPacket[]]> {
    return this.run<T>(sql, values, this.reapPool);
  }

  private async run<T extends mysql.RowDataPacket[] | mysql.ResultSetHeader = mysql.ResultSetHeader>(sql: string, values?: unknown[], pool: mysql.Pool = this.pool): Promise<[T, mysql.FieldPacket[]]> {
    try {
      return await pool.query<T>(sql, values);
    } catch (error) {
      const code = (error as { code?: string }).code ?? '';
      if (['ECONNREFUSED', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'PROTOCOL_CONNECTION_LOST'].includes(code)) {
        throw new MayflyError('ERR_DEPENDENCY_UNAVAILABLE', `resource ${this.resource.name}: cannot reach its database (${code})`, { cause: error });
      }
      throw error;
    }
  }

  private failure(what: string, grantId: string, error: unknown): MayflyError {
    if (error instanceof MayflyError) return error;
    return new MayflyError('ERR_DEPENDENCY_UNAVAILABLE', `resource ${this.resource.name}: could not ${what} grant ${grantId}: ${(error as Error).message}`);
  }
}
