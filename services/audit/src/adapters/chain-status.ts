import { AuditHeadMissing, readAuditHead, type AuditHeadStreamConfig, type NatsConnection } from '@mayfly/bus';
import { decodeChainHead, readAuditChain, verifyAuditChain, type ExternalRecord } from '@mayfly/audit-trail';
import type { Logger } from '@mayfly/core';
import { countAuditChainLinks, type Database, type Kysely } from '@mayfly/db';
import type { ChainStatusResponse } from '@mayfly/proto';

/**
 * Above this many events the service does not check the trail in its own (128 MB) heap: the
 * answer says to run `mayfly audit verify`, which reads the same rows on the operator's machine.
 */
export const MAX_EVENTS_CHECKED_IN_SERVICE = 300_000;
const MAX_PROBLEMS = 20;

export interface ChainStatusOptions {
  readonly db: Kysely<Database>;
  readonly nats: NatsConnection;
  readonly headStream: AuditHeadStreamConfig;
  /** This service's checkpoint public key (JWK x): the only key whose signatures count. */
  readonly publicKey: string;
  /** How old the signed head on NATS may be (the checkpoint interval plus a grace). */
  readonly maxHeadAgeMs: number;
  readonly cacheMs: number;
  readonly log: Logger;
}

/**
 * The trail's state as `mayfly audit verify` reports it, checked here with the service's own key
 * and the head it keeps on NATS: one check at a time, reused for cacheMs, so a page opened by
 * many people costs one read of the trail.
 */
export function chainStatusReader(options: ChainStatusOptions): () => Promise<ChainStatusResponse> {
  let last: { at: number; status: ChainStatusResponse } | undefined;
  let running: Promise<ChainStatusResponse> | undefined;
  return () => {
    if (last && Date.now() - last.at < options.cacheMs) return Promise.resolve(last.status);
    running ??= check(options)
      .then((status) => {
        last = { at: Date.now(), status };
        return status;
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  };
}

async function check(options: ChainStatusOptions): Promise<ChainStatusResponse> {
  const started = performance.now();
  const checkedAt = new Date();
  const count = await countAuditChainLinks(options.db);
  if (count > MAX_EVENTS_CHECKED_IN_SERVICE) {
    return emptyStatus(checkedAt, count, `the trail holds ${count} events, more than the audit service checks in its own memory (${MAX_EVENTS_CHECKED_IN_SERVICE}): run mayfly audit verify`);
  }
  const external = await readExternal(options);
  const { links, events, checkpoints } = await readAuditChain(options.db);
  const report = verifyAuditChain({ links, events, checkpoints, trustedKeys: [options.publicKey], external: external.record, externalUnavailable: external.unavailable });
  const checkMs = Math.round(performance.now() - started);
  options.log.info({ events: report.events, problems: report.problems.length, complete: report.completeness.proven, checkMs }, 'audit chain checked');
  return {
    checkedAt,
    events: report.events,
    checkpointsChecked: report.checkpointsChecked,
    problems: report.problems.slice(0, MAX_PROBLEMS).map((problem) => ({ sequence: Number(problem.sequence), kind: problem.kind, detail: problem.detail })),
    problemCount: report.problems.length,
    complete: report.completeness.proven,
    completeThrough: report.completeness.proven ? Number(report.completeness.through) : 0,
    headSignedAt: report.completeness.proven ? report.completeness.signedAt : undefined,
    incompleteReason: report.completeness.proven ? '' : report.completeness.reason,
    checkMs,
  };
}

async function readExternal(options: ChainStatusOptions): Promise<{ record?: ExternalRecord; unavailable?: string }> {
  try {
    const text = await readAuditHead(options.nats, options.headStream);
    return { record: { head: text === undefined ? undefined : decodeChainHead(text), now: new Date(), maxHeadAgeMs: options.maxHeadAgeMs } };
  } catch (error) {
    if (error instanceof AuditHeadMissing) return { record: { head: undefined, now: new Date(), maxHeadAgeMs: options.maxHeadAgeMs } };
    return { unavailable: `cannot read the head from NATS: ${(error as Error).message}` };
  }
}

function emptyStatus(checkedAt: Date, events: number, reason: string): ChainStatusResponse {
  return { checkedAt, events, checkpointsChecked: 0, problems: [], problemCount: 0, complete: false, completeThrough: 0, headSignedAt: undefined, incompleteReason: reason, checkMs: 0 };
}
