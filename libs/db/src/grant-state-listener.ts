import pg from 'pg';
import { GRANT_STATE_CHANNEL } from './repositories/grants.js';

/**
 * Hears grant state changes announced with NOTIFY (an approval, a rejection, a pending request
 * expiring) on one dedicated connection, and wakes whoever waits on that grant in this process:
 * a WatchGrant stream on any replica learns of an approval made on another within milliseconds.
 * The connection is re-opened after a failure; waiters also wake on their own timeout, so a
 * notification lost meanwhile costs at most that long.
 */
export class GrantStateListener {
  private client: pg.Client | undefined;
  private readonly waiters = new Map<string, Set<() => void>>();
  private closed = false;
  private retry: NodeJS.Timeout | undefined;

  constructor(private readonly url: string, private readonly onError: (error: unknown) => void = () => undefined) {}

  /** Connects and listens; a failure is reported and retried in the background. */
  start(): void {
    void this.connect();
  }

  /** Resolves when the grant changes, or after `timeoutMs`, whichever comes first. */
  waitForChange(grantId: string, timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const set = this.waiters.get(grantId) ?? new Set<() => void>();
      this.waiters.set(grantId, set);
      const done = (): void => {
        clearTimeout(timer);
        set.delete(done);
        if (set.size === 0 && this.waiters.get(grantId) === set) this.waiters.delete(grantId);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, timeoutMs));
      set.add(done);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    for (const set of this.waiters.values()) for (const wake of [...set]) wake();
    await this.client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client({ connectionString: this.url, application_name: 'mayfly-grant-state', connectionTimeoutMillis: 5_000 });
    client.on('notification', (message) => {
      if (message.channel !== GRANT_STATE_CHANNEL || !message.payload) return;
      for (const wake of [...(this.waiters.get(message.payload) ?? [])]) wake();
    });
    client.on('error', (error) => this.reconnect(client, error));
    try {
      await client.connect();
      await client.query(`LISTEN ${GRANT_STATE_CHANNEL}`);
      this.client = client;
      // Anything announced while not listening: everyone looks again.
      for (const set of this.waiters.values()) for (const wake of [...set]) wake();
    } catch (error) {
      this.reconnect(client, error);
    }
  }

  private reconnect(client: pg.Client, error: unknown): void {
    this.onError(error);
    if (this.client === client) this.client = undefined;
    void client.end().catch(() => undefined);
    if (this.closed || this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      void this.connect();
    }, 1_000);
    this.retry.unref();
  }
}
