import type { Logger } from '@mayfly/core';
import type { PolicyEngine } from '../domain/policy-engine.js';
import type { CedarEngineOptions } from './cedar-policy-engine.js';
import { engineFromFiles } from './policy-files.js';
import type { PostgresPolicyStore } from './postgres-policy-store.js';

/** The policy set decisions use now: its engine and its stored version number. */
export interface ActivePolicies {
  readonly engine: PolicyEngine;
  readonly setVersion: number;
}

/**
 * The active policy set, kept current without a restart: reloaded when a new version is
 * announced (PostgreSQL NOTIFY, within milliseconds) and checked every `checkMs` besides (a
 * notification lost while the listening connection was down). A version that does not load is
 * logged and skipped; decisions go on with the one before it.
 */
export class LivePolicies {
  private active: ActivePolicies | undefined;
  private refreshing: Promise<void> | undefined;

  constructor(
    private readonly store: PostgresPolicyStore,
    private readonly log: Logger,
    private readonly engineOptions: CedarEngineOptions = {},
  ) {}

  /** Loads the active version; throws if there is none or it does not load (the service cannot start). */
  async load(): Promise<ActivePolicies> {
    await this.refresh(true);
    return this.current();
  }

  current(): ActivePolicies {
    if (!this.active) throw new Error('policies are not loaded yet');
    return this.active;
  }

  /** Re-reads the active version now (one refresh at a time; a call during one waits for it). */
  refresh(strict = false): Promise<void> {
    this.refreshing ??= this.reload(strict).finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }


  private async reload(strict: boolean): Promise<void> {
    try {
      const row = await this.store.active();
      if (!row) throw new Error('no policy set is stored (push one: mayfly policy push DIR)');
      if (this.active && row.version <= this.active.setVersion) return;
      const engine = engineFromFiles(row.files, this.engineOptions);
      this.active = { engine, setVersion: row.version };
      this.log.info({ policySetVersion: row.version, policyVersion: engine.version, files: row.files.length }, 'policy set loaded');
    } catch (error) {
      if (strict) throw error;
      this.log.error({ err: error }, 'policy set not reloaded: decisions continue with the version loaded before');
    }
  }
}
