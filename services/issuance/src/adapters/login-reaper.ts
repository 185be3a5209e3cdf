import type { AuditTrail } from '@mayfly/audit-trail';
import type { Logger } from '@mayfly/core';
import { CREDENTIAL_REAPER_CONSUMER, connectBus, followRevocationsDurably, type DurableRevocations, type NatsConnection } from '@mayfly/bus';
import { GrantEndedListener, activeGrantIds, endedGrantsOnLoginResources, type Database, type Kysely } from '@mayfly/db';
import { auditEvent } from '@mayfly/model';
import type { AuditEvent } from '@mayfly/proto';
import { Periodic } from '@mayfly/telemetry';
import { LoginReconciler } from '../domain/login-reconciler.js';
import type { CredentialCatalog } from './credential-catalog.js';

/**
 * Ends logins with their grants, three ways, each idempotent so that they never conflict:
 * - the reaper hears every grant that ends (migration 026's trigger: revoked, completed, expired,
 *   heartbeat missed, consumed, cut with its parent) and destroys its login at once — its open
 *   sessions terminated, new logins refused. Fast, but a notification is heard only while
 *   issuance listens;
 * - a durable consumer of the revocation stream (at least once, its position kept by NATS): each
 *   revocation has it end the logins of the grants that revocation ended, so revocations made
 *   while issuance was away are acted on as soon as it is back;
 * - the reconciler, on an interval, destroys any login no active grant backs: an end both missed
 *   (an expiry while issuance was down) and the orphans of a crash between making a login and
 *   committing its grant.
 */
export function startLoginReaping(options: {
  db: Kysely<Database>;
  databaseUrl: string;
  catalog: CredentialCatalog;
  audit: AuditTrail;
  commitEvents: (events: readonly AuditEvent[]) => Promise<void>;
  reconcileMs: number;
  /** The revocation stream the durable consumer follows (absent: no NATS, the other two only). */
  revocations?: { natsUrl: string; stream: string; subjectPrefix: string } | undefined;
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
  const following = options.revocations ? followRevocationStream(options.revocations, options.db, catalog, destroyed, log) : undefined;
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
      await following?.stop();
      await listener.close();
      await catalog.close();
    },
  };
}

/** How far around a revocation's time the grants it ended are looked for (its commit stamps both alike). */
const REVOCATION_WINDOW_MS = 5_000;

/**
 * The durable consumer: connects (retrying while NATS or the stream is not there yet) and, for
 * each revocation, destroys the logins of the grants on login resources that ended with it —
 * whatever its scope (grant, token, task, workload, key): the grants table says which ended. An
 * event is only a hint to look there, so a forged one ends nothing that is still active.
 */
function followRevocationStream(
  stream: { natsUrl: string; stream: string; subjectPrefix: string },
  db: Kysely<Database>,
  catalog: CredentialCatalog,
  destroyed: (grantId: string, resource: string, how: string) => Promise<void>,
  log: Logger,
): { stop: () => Promise<void> } {
  let stopped = false;
  let nats: NatsConnection | undefined;
  let consumer: DurableRevocations | undefined;
  let retry: NodeJS.Timeout | undefined;
  const onEvent = async (event: { revokedAt?: Date | undefined; id: string }): Promise<void> => {
    const at = event.revokedAt?.getTime() ?? Date.now();
    const ended = await endedGrantsOnLoginResources(db, new Date(at - REVOCATION_WINDOW_MS), new Date(at + REVOCATION_WINDOW_MS));
    for (const { id, resource } of ended) {
      if ((await catalog.destroy(id, resource)) === 'destroyed') await destroyed(id, resource, `revoked (revocation ${event.id}, from the revocation stream)`);
    }
  };
  const attempt = async (): Promise<void> => {
    if (stopped) return;
    try {
      nats ??= await connectBus(stream.natsUrl, 'mayfly-issuance-credential-reaper');
      consumer = await followRevocationsDurably(nats, {
        stream: stream.stream,
        subjectPrefix: stream.subjectPrefix,
        durable: CREDENTIAL_REAPER_CONSUMER,
        onEvent,
        onError: (error) => log.warn({ err: error }, 'the credential reaper could not act on a revocation; it comes again'),
      });
      log.info({ stream: stream.stream, consumer: CREDENTIAL_REAPER_CONSUMER }, 'credential reaper following the revocation stream');
    } catch (error) {
      log.warn({ err: error }, 'the credential reaper cannot follow the revocation stream yet (the trigger and the reconciler still end logins); retrying');
      retry = setTimeout(() => void attempt(), 5_000);
      retry.unref();
    }
  };
  void attempt();
  return {
    stop: async () => {
      stopped = true;
      if (retry) clearTimeout(retry);
      await consumer?.stop();
      await nats?.close().catch(() => undefined);
    },
  };
}
