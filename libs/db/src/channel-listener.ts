import pg from 'pg';
import { GRANT_STATE_CHANNEL } from './repositories/grants.js';
import { POLICY_SETS_CHANNEL } from './repositories/policy-sets.js';

/**
 * Hears what is announced with NOTIFY on one channel, on one dedicated connection, and wakes
 * whoever waits on that payload in this process (and every `onNotification` listener). The
 * connection is re-opened after a failure; waiters also wake on their own timeout, and listeners
 * hear a "" payload after every reconnect, so a notification lost meanwhile costs at most that.
 */
export class ChannelListener {
  private client: pg.Client | undefined;
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly listeners = new Set<(payload: string) => void>();
  private closed = false;
  private retry: NodeJS.Timeout | undefined;

  constructor(
    private readonly url: string,
    private readonly channel: string,
    private readonly onError: (error: unknown) => void = () => undefined,
  ) {}

  /** Hears every notification on the channel (and "" after a reconnect: look again). */
  onNotification(listener: (payload: string) => void): void {
    this.listeners.add(listener);
  }

  /** Connects and listens; a failure is reported and retried in the background. */
  start(): void {
    void this.connect();
  }

  /** Resolves when `key` is announced, or after `timeoutMs`, whichever comes first. */
  waitForChange(key: string, timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const set = this.waiters.get(key) ?? new Set<() => void>();
      this.waiters.set(key, set);
      const done = (): void => {
        clearTimeout(timer);
        set.delete(done);
        if (set.size === 0 && this.waiters.get(key) === set) this.waiters.delete(key);
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
    const client = new pg.Client({ connectionString: this.url, application_name: `mayfly-${this.channel}`, connectionTimeoutMillis: 5_000 });
    client.on('notification', (message) => {
      if (message.channel !== this.channel || !message.payload) return;
      for (const wake of [...(this.waiters.get(message.payload) ?? [])]) wake();
      for (const listener of this.listeners) listener(message.payload);
    });
    client.on('error', (error) => this.reconnect(client, error));
    try {
      await client.connect();
      await client.query(`LISTEN ${this.channel}`);
      this.client = client;
      // Anything announced while not listening: everyone looks again.
      for (const set of this.waiters.values()) for (const wake of [...set]) wake();
      for (const listener of this.listeners) listener('');
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

/**
 * Grant state changes (an approval, a rejection, a pending request expiring), by grant id: a
 * WatchGrant stream on any replica learns of an approval made on another within milliseconds.
 */
export class GrantStateListener extends ChannelListener {
  constructor(url: string, onError?: (error: unknown) => void) {
    super(url, GRANT_STATE_CHANNEL, onError);
  }
}

/** New policy set versions: every decision replica loads a push within milliseconds. */
export class PolicySetListener extends ChannelListener {
  constructor(url: string, onError?: (error: unknown) => void) {
    super(url, POLICY_SETS_CHANNEL, onError);
  }
}

/** Grants on registered resources (those that can carry a login) that ended, however they ended: "<grant id> <resource>" (migrations 026, 027). */
export const GRANT_ENDED_CHANNEL = 'mayfly_grant_ended';

export class GrantEndedListener extends ChannelListener {
  constructor(url: string, onError?: (error: unknown) => void) {
    super(url, GRANT_ENDED_CHANNEL, onError);
  }
}
