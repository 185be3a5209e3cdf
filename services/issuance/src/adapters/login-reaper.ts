import type { AuditTrail } from '@mayfly/audit-trail';
import type { Logger } from '@mayfly/core';
import { GrantEndedListener, activeGrantIds, type Database, type Kysely } from '@mayfly/db';
import { auditEvent } from '@mayfly/model';
import type { AuditEvent } from '@mayfly/proto';
import { Periodic } from '@mayfly/telemetry';
import { LoginReconciler } from '../domain/login-reconciler.js';
import type { CredentialCatalog } from './credential-catalog.js';

/**
 * Ends logins with their grants. The reaper hears every grant that ends (migration 026's trigger:
 * revoked, completed, expired, heartbeat missed, consumed, cut with its parent) and destroys its
 * login at once — its open sessions terminated, new logins refused. The reconciler, on an
 * interval, destroys any login no active grant backs: the ones whose end the reaper missed
 * (it was down, a notification was lost) and the orphans of a crash between making a login and
 * committing its grant. Destroying is idempotent, so the two never conflict.
 */
export function startLoginReaping(options: {
  db: Kysely<Database>;
  databaseUrl: string;
  catalog: CredentialCatalog;
  audit: AuditTrail;
  commitEvents: (events: readonly AuditEvent[]) => Promise<void>;
  reconcileMs: number;
  log: Logger;
}): { close: () => Promise<void> } {
  const { catalog, log } = options;
  const destroyed = async (grantId: string, resource: string, how: string): Promise<void> => {
    const events = [auditEvent('issuance', { kind: 'credential.destroyed', actor: 'mayfly:issuance', outcome: 'success', grantId, detail: { resource, how } })];
    await options.commitEvents(events);
    void options.audit.deliver(events);
  };
  const listener = new GrantEndedListener(options.databaseUrl, (error) => log.warn({ err: error }, 'listening for ended grants failed; retrying (the reconciler still runs)'));
  listener.onNotification((payload) => {
    const space = payload.indexOf(' ');
    const grantId = payload.slice(0, space);
    const resource = payload.slice(space + 1);
    void catalog
      .destroy(grantId, resource)
      .then((outcome) => (outcome === 'destroyed' ? destroyed(grantId, resource, 'the grant ended') : undefined))
      .catch((error: unknown) => log.warn({ grantId, resource, err: (error as Error).message }, 'destroying the login of an ended grant failed; the reconciler will retry'));
  });
  listener.start();
  const reconcilers = new Map<string, LoginReconciler>();
  const reconciling = Periodic.start({ name: 'issuance.login-reconcile', intervalMs: options.reconcileMs, log }, async () => {
    for (const { resource, kind } of await catalog.all()) {
      let reconciler = reconcilers.get(resource);
      if (!reconciler) {
        reconciler = new LoginReconciler({ liveLogins: () => kind.listLive(), activeGrants: (ids) => activeGrantIds(options.db, ids), destroy: (grantId) => catalog.destroy(grantId, resource) });
        reconcilers.set(resource, reconciler);
      }
      const report = await reconciler.pass();
      for (const grantId of report.destroyed) {
        log.warn({ resource, grantId }, 'destroyed a login no active grant backs');
        await destroyed(grantId, resource, 'reconciled: no active grant backs it');
      }
      if (report.failed.length > 0) throw new Error(`${report.failed.length} login(s) in ${resource} could not be destroyed: ${report.failed[0]!.error}`);
    }
  });
  return {
    close: async () => {
      await reconciling.stop();
      await listener.close();
      await catalog.close();
    },
  };
}
