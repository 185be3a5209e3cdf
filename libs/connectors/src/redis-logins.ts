import { randomBytes } from 'node:crypto';
import { MayflyError } from '@mayfly/core';
import { createClient } from 'redis';
import { grantIdOfLogin, loginName, mappedTo, type DynamicLoginKind, type IssuedLogin, type LoginGrant } from './dynamic-login.js';

export interface RedisResource {
  readonly name: string;
  /** `redis://admin:password@host:port` of a user allowed ACL and CLIENT KILL; read from a file, never stored. */
  readonly adminUrl: string;
  readonly host: string;
  readonly port: number;
  /**
   * Each action → ACL rules, one rule per entry (`~orders:*`, `+get`, `&events:*`, …). Checked when
   * the resource is put: only rules Redis's ACL grammar accepts, each a single word.
   */
  readonly actions: Readonly<Record<string, readonly string[]>>;
}

/** One ACL rule: a word of ACL's grammar (keys, channels, commands, categories) and never a user or password rule. */
const ACL_RULE = /^(?:[~%&][A-Za-z0-9:_*?.\-[\]{}]+|[+-]@?[a-z|]+|allkeys|allchannels|allcommands|resetkeys|resetchannels|nocommands)$/;

/** A key pattern rule: `~pattern`, or `%R~`/`%W~`/`%RW~` with a pattern. */
const isKeyPattern = (rule: string): boolean => /^(?:%R?W?)?~/.test(rule);

/**
 * Redis ACL users per grant: `ACL SETUSER` with a random password and the mapped rules (each
 * passed as its own argument, never spliced into a command line), `CLIENT KILL USER` and
 * `ACL DELUSER` on destroy.
 */
export class RedisLogins implements DynamicLoginKind {
  readonly kind = 'redis' as const;
  private readonly admin;
  private connected: Promise<unknown> | undefined;

  constructor(private readonly resource: RedisResource) {
    this.admin = createClient({ url: resource.adminUrl, socket: { reconnectStrategy: false, connectTimeout: 2_000 } });
    this.admin.on('error', () => undefined);
  }

  async check(): Promise<void> {
    const bad = Object.values(this.resource.actions).flat().filter((rule) => !ACL_RULE.test(rule));
    if (bad.length > 0) throw new MayflyError('ERR_INVALID_ARGUMENT', `resource ${this.resource.name}: not an ACL rule Mayfly maps actions to: ${bad.map((rule) => JSON.stringify(rule)).join(', ')}`);
    await this.client();
  }

  async issue(grant: LoginGrant): Promise<IssuedLogin> {
    const rules = mappedTo(grant.actions, this.resource.actions, this.resource.name);
    const bad = rules.filter((rule) => !ACL_RULE.test(rule));
    if (bad.length > 0) throw new MayflyError('ERR_INVALID_ARGUMENT', `resource ${this.resource.name}: not an ACL rule: ${bad.map((rule) => JSON.stringify(rule)).join(', ')}`);
    const user = loginName(grant.grantId);
    const password = randomBytes(32).toString('base64url');
    const client = await this.client();
    try {
      await client.sendCommand(['ACL', 'SETUSER', user, 'reset', 'on', `>${password}`, ...rules]);
    } catch (error) {
      await client.sendCommand(['ACL', 'DELUSER', user]).catch(() => undefined);
      throw new MayflyError('ERR_DEPENDENCY_UNAVAILABLE', `resource ${this.resource.name}: could not create a user for grant ${grant.grantId}: ${(error as Error).message}`);
    }
    return { user, password, host: this.resource.host, port: this.resource.port, database: undefined, validUntil: grant.expiresAt };
  }

  /** Redis users have no expiry of their own: the grant's end destroys it. */
  async renew(): Promise<void> {}

  async exists(grantId: string): Promise<boolean> {
    return (await (await this.client()).sendCommand(['ACL', 'GETUSER', loginName(grantId)])) !== null;
  }

  async destroy(grantId: string): Promise<'destroyed' | 'absent'> {
    const user = loginName(grantId);
    const client = await this.client();
    try {
      // Off first (no new AUTH), then its connections, then the user.
      const exists = (await client.sendCommand(['ACL', 'GETUSER', user])) !== null;
      if (!exists) return 'absent';
      await client.sendCommand(['ACL', 'SETUSER', user, 'off']);
      await client.sendCommand(['CLIENT', 'KILL', 'USER', user]);
      await client.sendCommand(['ACL', 'DELUSER', user]);
    } catch (error) {
      throw new MayflyError('ERR_DEPENDENCY_UNAVAILABLE', `resource ${this.resource.name}: could not destroy the user of grant ${grantId}: ${(error as Error).message}`);
    }
    return 'destroyed';
  }

  /**
   * The grant ids of this resource's users. Redis users carry no tag, so a user is this
   * resource's when every key pattern it holds is one the resource's action map gives (Redis keeps
   * key patterns as written; command rules it rewrites): another resource, or another Mayfly, on
   * the same server — with other key patterns — keeps its users.
   */
  async listLive(): Promise<string[]> {
    const lines = (await (await this.client()).sendCommand(['ACL', 'LIST'])) as string[];
    const ours = new Set(Object.values(this.resource.actions).flat().map((rule) => (rule === 'allkeys' ? '~*' : rule)).filter(isKeyPattern));
    const live: string[] = [];
    for (const line of lines) {
      const [, user, ...rules] = line.split(' ');
      const grantId = user === undefined ? undefined : grantIdOfLogin(user);
      if (grantId === undefined) continue;
      const keys = rules.filter(isKeyPattern);
      if (keys.length === 0 ? ours.size === 0 : keys.every((key) => ours.has(key))) live.push(grantId);
    }
    return live;
  }

  async close(): Promise<void> {
    if (this.admin.isOpen) await this.admin.quit().catch(() => undefined);
  }

  private async client() {
    this.connected ??= this.admin.connect();
    try {
      await this.connected;
    } catch (error) {
      this.connected = undefined;
      throw new MayflyError('ERR_DEPENDENCY_UNAVAILABLE', `resource ${this.resource.name}: cannot reach Redis (${(error as Error).message})`, { cause: error });
    }
    return this.admin;
  }
}
