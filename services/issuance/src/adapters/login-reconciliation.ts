import type { Logger } from '@mayfly/core';
import { activeGrantIds, type Database, type Kysely } from '@mayfly/db';
import { Periodic } from '@mayfly/telemetry';
import type { DynamicLoginKind } from '@mayfly/connectors';
import { LoginReconciler } from '../domain/login-reconciler.js';

/** A reconciler per connected system, over its users and Mayfly's grants in PostgreSQL. */
export function loginReconciler(db: Kysely<Database>, logins: DynamicLoginKind): LoginReconciler {
  return new LoginReconciler({
    liveLogins: () => logins.listLive(),
    activeGrants: (ids) => activeGrantIds(db, ids),
    destroy: (grantId) => logins.destroy(grantId),
  });
}

/** Runs each system's reconciler on a Periodic; what it destroys is logged (and audited by the caller's hook). */
export function startReconciling(
  db: Kysely<Database>,
  systems: readonly { resource: string; logins: DynamicLoginKind }[],
  options: { intervalMs: number; log: Logger; onDestroyed?: (resource: string, grantId: string) => void },
): Periodic[] {
  return systems.map(({ resource, logins }) => {
    const reconciler = loginReconciler(db, logins);
    return Periodic.start({ name: `issuance.reconcile.${resource}`, intervalMs: options.intervalMs, log: options.log }, async () => {
      const report = await reconciler.pass();
      for (const grantId of report.destroyed) {
        options.log.warn({ resource, grantId }, 'destroyed a login no active grant backs (orphaned by a crash, or its end was missed)');
        options.onDestroyed?.(resource, grantId);
      }
      if (report.failed.length > 0) throw new Error(`could not destroy ${report.failed.length} orphaned login(s) in ${resource}: ${report.failed[0]!.error}`);
    });
  });
}
