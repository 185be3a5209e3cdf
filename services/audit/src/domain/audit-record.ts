import { invalidArgument, validateOptionalText, validateUuid } from '@mayfly/core';
import { AuditOutcome, type AuditEvent } from '@mayfly/proto';

export const MAX_EVENTS_PER_RECORD = 500;
/** Largest detail one event may carry, serialised; senders bound theirs to 16 KiB. */
export const MAX_DETAIL_BYTES = 32 * 1024;
const KIND = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;

const OUTCOME_NAMES: Record<AuditOutcome, string> = {
  [AuditOutcome.AUDIT_OUTCOME_UNSPECIFIED]: 'unspecified',
  [AuditOutcome.AUDIT_OUTCOME_SUCCESS]: 'success',
  [AuditOutcome.AUDIT_OUTCOME_DENIED]: 'denied',
  [AuditOutcome.AUDIT_OUTCOME_FAILED]: 'failed',
};

export function outcomeName(outcome: AuditOutcome): string {
  return OUTCOME_NAMES[outcome] ?? 'unspecified';
}

export function outcomeFromName(name: string): AuditOutcome {
  const entry = Object.entries(OUTCOME_NAMES).find(([, value]) => value === name);
  return entry ? (Number(entry[0]) as AuditOutcome) : AuditOutcome.AUDIT_OUTCOME_UNSPECIFIED;
}

/**
 * Checks a batch before anything is written: one bad event refuses the whole batch. Returns each
 * event's detail as JSON text, measured here and stored as it is.
 */
export function validateAuditBatch(events: readonly AuditEvent[]): string[] {
  if (events.length === 0) throw invalidArgument('events', 'at least one event is required');
  if (events.length > MAX_EVENTS_PER_RECORD) throw invalidArgument('events', `at most ${MAX_EVENTS_PER_RECORD} events per call`);
  const detailTexts: string[] = [];
  for (const [i, event] of events.entries()) {
    const field = `events[${i}]`;
    validateUuid(`${field}.id`, event.id);
    if (!KIND.test(event.kind)) throw invalidArgument(`${field}.kind`, 'must be dotted lower-case words, e.g. "grant.issued"');
    if (!event.occurredAt) throw invalidArgument(`${field}.occurred_at`, 'is required');
    if (event.actor.length === 0) throw invalidArgument(`${field}.actor`, 'is required');
    validateOptionalText(`${field}.actor`, event.actor, 2048);
    validateOptionalText(`${field}.source`, event.source, 64);
    validateOptionalText(`${field}.task_id`, event.taskId, 128);
    if (event.grantId !== '') validateUuid(`${field}.grant_id`, event.grantId);
    if (event.outcome === AuditOutcome.AUDIT_OUTCOME_UNSPECIFIED) throw invalidArgument(`${field}.outcome`, 'is required');
    const detailJson = JSON.stringify(event.detail ?? {});
    const detailBytes = Buffer.byteLength(detailJson);
    if (detailBytes > MAX_DETAIL_BYTES) throw invalidArgument(`${field}.detail`, `is ${detailBytes} bytes; at most ${MAX_DETAIL_BYTES}`);
    detailTexts.push(detailJson);
  }
  return detailTexts;
}

const COMPONENT = /^spiffe:\/\/[^/]+\/mayfly\/([a-z][a-z-]*)$/;

/**
 * What a stored record names as its source: the Mayfly component whose certificate made the
 * Record call (issuance, revocation, edge-verifier, ...), never what the events say of
 * themselves. Only without a verified caller (insecure development mode) is the claim kept, and
 * marked as such.
 */
export function recordSource(caller: string | undefined, claimed: string): string {
  if (caller === undefined) return `${claimed || 'unknown'} (unverified)`;
  return COMPONENT.exec(caller)?.[1] ?? caller.slice(0, 64);
}
