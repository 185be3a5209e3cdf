import { isMayflyError, type Logger } from '@mayfly/core';
import type { MayflyClient, TaskGrant } from '@mayfly/client';
import type { GrantConfig } from './agent-config.js';
import { removeFile, writeFileAtomic } from './atomic-file.js';
import { CredentialShapeError, credentialEnv, credentialFiles, type HeldCredential } from './credential-files.js';

/** Waits between attempts to get a grant back: doubling from the first to the last. */
const RETRY_FIRST_MS = 1_000;
const RETRY_MAX_MS = 30_000;

export interface GrantKeeperEvents {
  /** The credential changed (new grant, or renewed token): files are written; env is the command's new variables. */
  readonly rotated: (keeper: GrantKeeper) => void;
  /** The config asks for what the resource does not give: the agent cannot do its job. */
  readonly fatal: (error: Error) => void;
}

/**
 * Keeps one declared grant held and its files current: acquires it (again and again, backing
 * off, while issuance is away or refuses), rewrites the files whenever the token is renewed,
 * and gets a new grant when the old one is lost (revoked, its renewal ceiling reached, the
 * session refused). On stop it releases the grant and removes the files.
 */
export class GrantKeeper {
  private handle: TaskGrant | undefined;
  private held: HeldCredential | undefined;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  /** Renewals and new grants, for metrics. */
  renewals = 0;
  acquisitions = 0;
  failures = 0;
  lastError: string | undefined;

  constructor(
    readonly config: GrantConfig,
    private readonly client: MayflyClient,
    private readonly task: { readonly id: string; readonly kind: string; readonly reference: string },
    private readonly log: Logger,
    private readonly events: GrantKeeperEvents,
  ) {}

  /** Resolves once the grant is first held and its files are written. */
  start(): Promise<void> {
    let first!: () => void;
    const ready = new Promise<void>((resolve) => (first = resolve));
    this.loop = this.keep(first);
    return ready;
  }

  /** Held now, with a token that has not expired. */
  get ready(): boolean {
    const expiresAt = this.handle?.expiresAt?.getTime();
    return this.held !== undefined && !this.handle?.signal.aborted && expiresAt !== undefined && expiresAt > Date.now();
  }

  get grantId(): string | undefined {
    return this.handle?.grant.id;
  }

  get expiresAt(): Date | undefined {
    return this.handle?.expiresAt;
  }

  /** The command's variables for this grant; empty until first held. */
  get env(): Record<string, string> {
    return this.held ? credentialEnv(this.config, this.held) : {};
  }

  /** Releases the grant (ending it everywhere) and removes its files. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
    const handle = this.handle;
    this.handle = undefined;
    if (handle) {
      await handle.release('agent stopped').then(
        () => this.log.info({ grant: this.config.name, grantId: handle.grant.id }, 'grant released'),
        (error: unknown) => this.log.error({ grant: this.config.name, grantId: handle.grant.id, err: error }, 'could not release the grant; it ends at its expiry'),
      );
    }
    await this.removeFiles();
  }

  private async keep(firstHeld: () => void): Promise<void> {
    let waitMs = RETRY_FIRST_MS;
    while (!this.stopped) {
      let handle: TaskGrant;
      try {
        handle = await this.client.acquire({
          task: { id: this.task.id, kind: this.task.kind, reference: this.task.reference, deadline: undefined },
          resource: this.config.resource,
          actions: this.config.actions,
          ttlSeconds: this.config.ttlSeconds,
          justification: this.config.justification,
        });
      } catch (error) {
        this.failures += 1;
        this.lastError = describe(error);
        this.log.warn({ grant: this.config.name, resource: this.config.resource, err: this.lastError, retryInMs: waitMs }, 'could not get the grant; trying again');
        await this.sleep(waitMs);
        waitMs = Math.min(RETRY_MAX_MS, waitMs * 2);
        continue;
      }
      if (this.stopped) {
        await handle.release('agent stopped').catch(() => undefined);
        return;
      }
      waitMs = RETRY_FIRST_MS;
      this.handle = handle;
      this.acquisitions += 1;
      this.log.info({ grant: this.config.name, grantId: handle.grant.id, expiresAt: handle.expiresAt?.toISOString() }, 'grant held');
      if (!(await this.write(handle))) return;
      firstHeld();
      handle.on('renewed', () => {
        this.renewals += 1;
        void this.write(handle);
      });
      handle.on('renewal-failed', (error) => {
        this.failures += 1;
        this.lastError = describe(error);
        this.log.warn({ grant: this.config.name, grantId: handle.grant.id, err: this.lastError }, 'renewal failed');
      });
      // Until access is lost (or the agent stops): then a new grant.
      await new Promise<void>((resolve) => {
        if (handle.signal.aborted) resolve();
        handle.signal.addEventListener('abort', () => resolve(), { once: true });
        this.wake = resolve;
      });
      this.wake = undefined;
      if (this.stopped) return;
      this.log.warn({ grant: this.config.name, grantId: handle.grant.id, reason: describe(handle.signal.reason) }, 'grant lost; getting a new one');
      this.handle = undefined;
    }
  }

  /** Writes the credential the handle holds now; false when the config cannot be met (fatal). */
  private async write(handle: TaskGrant): Promise<boolean> {
    const held: HeldCredential = { token: handle.token, login: handle.login };
    try {
      for (const file of credentialFiles(this.config, held)) await writeFileAtomic(file.path, file.content);
    } catch (error) {
      if (error instanceof CredentialShapeError) {
        await handle.release('agent misconfigured').catch(() => undefined);
        this.handle = undefined;
        this.events.fatal(error);
        return false;
      }
      this.failures += 1;
      this.lastError = describe(error);
      this.log.error({ grant: this.config.name, err: this.lastError }, 'could not write the credential files');
      return true;
    }
    this.held = held;
    this.log.info({ grant: this.config.name, grantId: handle.grant.id, expiresAt: handle.expiresAt?.toISOString() }, 'credential files written');
    this.events.rotated(this);
    return true;
  }

  private async removeFiles(): Promise<void> {
    const paths = [this.config.tokenFile, this.config.dsnFile, this.config.pgpassFile, this.config.envFile].filter((path): path is string => path !== undefined);
    for (const path of paths) await removeFile(path).catch((error: unknown) => this.log.error({ path, err: describe(error) }, 'could not remove a credential file'));
    this.held = undefined;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

function describe(error: unknown): string {
  if (isMayflyError(error)) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}
