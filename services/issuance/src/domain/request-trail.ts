import { type AuditEventInput, auditEvent } from '@mayfly/model';
import type { AuditEvent } from '@mayfly/proto';
import type { ValidGrantRequest } from './grant-request.js';

const SOURCE = 'issuance';

/**
 * The audit events of one request, gathered as it goes. They are committed with the grant (or
 * the refusal), in issuance's own transaction: that commit is the durable audit record.
 */
export class RequestTrail {
  readonly events: AuditEvent[] = [];
  private actor = 'unattested';

  constructor(readonly request: ValidGrantRequest) {}

  /**
   * The caller is identified: it is the actor of what follows, and of the records made before
   * (the request itself) — nothing has left this process yet, all are committed together.
   */
  identify(spiffeId: string): void {
    this.actor = spiffeId;
    for (const event of this.events) event.actor = spiffeId;
  }

  add(input: Omit<AuditEventInput, 'actor' | 'taskId'>): void {
    this.events.push(auditEvent(SOURCE, { ...input, actor: this.actor, taskId: this.request.task.id }));
  }
}
