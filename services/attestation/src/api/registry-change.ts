import { auditEvent } from '@mayfly/model';
import type { AuditEvent } from '@mayfly/proto';

const SOURCE = 'attestation';

/** The audit event of an operator's change to the registry. */
export function changeRecord(kind: string, actor: string, detail: Record<string, unknown>): AuditEvent {
  return auditEvent(SOURCE, { kind, actor, outcome: 'success', detail });
}
