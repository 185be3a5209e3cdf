import type { CheckableLogins, DynamicLoginKind, IssuedLogin, LoginGrant } from './dynamic-login.js';

/**
 * A resource's logins whose driver (mysql2, redis, pg) is loaded on first use. Each driver adds
 * 10–30 MB to a process that merely could reach such a resource (measured: mysql2 +25 MB RSS,
 * redis +32 MB on Node 24), and most meshes register none, or one kind: only what a grant
 * actually uses is loaded.
 */
export class LazyLogins implements CheckableLogins {
  private loaded: Promise<CheckableLogins> | undefined;

  constructor(
    readonly kind: DynamicLoginKind['kind'],
    private readonly load: () => Promise<CheckableLogins>,
  ) {}

  async check(): Promise<void> {
    return (await this.logins()).check();
  }

  async issue(grant: LoginGrant): Promise<IssuedLogin> {
    return (await this.logins()).issue(grant);
  }

  async renew(grant: LoginGrant): Promise<void> {
    return (await this.logins()).renew(grant);
  }

  async destroy(grantId: string): Promise<'destroyed' | 'absent'> {
    return (await this.logins()).destroy(grantId);
  }

  async exists(grantId: string): Promise<boolean> {
    return (await this.logins()).exists(grantId);
  }

  async listLive(): Promise<string[]> {
    return (await this.logins()).listLive();
  }

  /** Closes the driver's connections, if it was ever loaded; later calls load it anew. */
  async close(): Promise<void> {
    const loaded = this.loaded;
    this.loaded = undefined;
    if (loaded) await (await loaded).close();
  }

  /** Whether the driver has been loaded (for tests and the memory budget). */
  get isLoaded(): boolean {
    return this.loaded !== undefined;
  }

  private logins(): Promise<CheckableLogins> {
    // A failed load (a missing driver) is not kept: the next call tries again.
    this.loaded ??= this.load().catch((error: unknown) => {
      this.loaded = undefined;
      throw error;
    });
    return this.loaded;
  }
}
