import { MayflyError, invalidArgument, type Logger } from '@mayfly/core';
import type { AuditEventRecord } from '@mayfly/model';
import { unary } from '@mayfly/grpc';
import { withSpan } from '@mayfly/telemetry';
import { AuditEvent, type AuditServiceServer, type ChainStatusResponse } from '@mayfly/proto';
import { outcomeFromName, outcomeName, recordSource, validateAuditBatch } from '../domain/audit-record.js';
import { decodePageToken, encodePageToken } from '../domain/page-token.js';
import { buildUsageReport, type Entitlements } from '../domain/usage-report.js';
import type { AuditLog } from '../domain/ports.js';
import { storageFailure } from '../domain/storage-errors.js';

/** What the API tells the rest of the service. */
export interface AuditApiHooks {
  /** Events were appended: the chain's head moved (the external head is published soon after). */
  appended(): void;
  /** The trail checked against its chain, checkpoints and external head (reused for a while). */
  chainStatus?(): Promise<ChainStatusResponse>;
}

export function auditApi(auditLog: AuditLog, log: Logger, hooks: AuditApiHooks = { appended: () => undefined }): AuditServiceServer {
  return {
    record: unary(log, 'mayfly.v1.AuditService/Record', async (request, call) => {
      const detailTexts = validateAuditBatch(request.events);
      const sequences = await withSpan('audit append', { 'mayfly.audit.events': request.events.length }, () => auditLog.append(
        request.events.map((event, i) => ({
          id: event.id,
          occurred_at: event.occurredAt ?? new Date(),
          kind: event.kind,
          actor: event.actor,
          source: recordSource(call.caller, event.source),
          grant_id: event.grantId || null,
          task_id: event.taskId,
          outcome: outcomeName(event.outcome),
          detailJson: detailTexts[i]!,
        })),
      ).catch((error: unknown) => {
        throw storageFailure(error);
      }));
      hooks.appended();
      return { sequences: sequences.map(Number) };
    }),

    listEvents: unary(log, 'mayfly.v1.AuditService/ListEvents', async (request) => {
      if (request.limit > 1000) throw invalidArgument('limit', 'must be at most 1000');
      const limit = request.limit || 100;
      const cursor = request.pageToken ? decodePageToken(request.pageToken) : undefined;
      if (cursor && cursor.newestFirst !== request.newestFirst) throw invalidArgument('page_token', 'was made for the other order (newest_first); keep the same filters and order across pages');
      const after = request.afterSequence ? String(request.afterSequence) : undefined;
      // One more than a page: whether another page exists.
      const rows = await auditLog.list({
        grantId: request.grantId || undefined,
        taskId: request.taskId || undefined,
        workload: request.workload || undefined,
        kinds: request.kinds,
        since: request.since,
        until: request.until,
        newestFirst: request.newestFirst,
        afterSequence: request.newestFirst ? after : (cursor?.sequence ?? after),
        beforeSequence: request.newestFirst ? cursor?.sequence : undefined,
        limit: limit + 1,
      });
      const page = rows.slice(0, limit);
      const more = rows.length > limit;
      return { events: page.map(toAuditEvent), nextPageToken: more ? encodePageToken({ sequence: page.at(-1)!.sequence, newestFirst: request.newestFirst }) : '' };
    }),
    chainStatus: unary(log, 'mayfly.v1.AuditService/ChainStatus', async () => {
      if (!hooks.chainStatus) throw new MayflyError('ERR_CONFIG', 'this audit service does not check its chain');
      return hooks.chainStatus();
    }),
    usageReport: unary(log, 'mayfly.v1.AuditService/UsageReport', async (request) => {
      const since = request.since ?? new Date(Date.now() - 30 * 86_400_000);
      const workload = request.workload || undefined;
      const [ceilings, facts] = await Promise.all([auditLog.ceilings(workload), auditLog.usageFacts(since, workload)]);
      const entitlements = (map: Entitlements) => [...map].map(([resource, actions]) => ({ resource, actions: [...actions].sort() }));
      return {
        since,
        workloads: buildUsageReport({ ceilings, issued: facts.issued, used: facts.used }).map((report) => ({
          spiffeId: report.spiffeId,
          ceiling: entitlements(report.ceiling),
          granted: entitlements(report.granted),
          used: entitlements(report.used),
          proposedCeiling: entitlements(report.proposedCeiling),
          grants: report.grants,
          uses: report.uses,
        })),
      };
    }),
  };
}

function toAuditEvent(row: AuditEventRecord): AuditEvent {
  return AuditEvent.fromPartial({
    id: row.id,
    occurredAt: row.occurred_at,
    kind: row.kind,
    actor: row.actor,
    source: row.source,
    grantId: row.grant_id ?? '',
    taskId: row.task_id,
    outcome: outcomeFromName(row.outcome),
    detail: row.detail,
    sequence: Number(row.sequence),
  });
}
