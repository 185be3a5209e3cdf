import type { StoredGrant } from '@mayfly/model';
import { LIMITS, MayflyError, sanitizeText, validateUuid } from '@mayfly/core';
import { isReader, type ReadScope } from './people-scope.js';
import { ownsWorkload, type Approver } from './separation-of-duties.js';

/** What a person revokes: one grant, a task's grants (of one workload, or of any for readers), or a workload's credentials. */
export type PersonRevocationTarget =
  | { readonly kind: 'grant'; readonly grantId: string }
  | { readonly kind: 'task'; readonly taskId: string; readonly spiffeId: string }
  | { readonly kind: 'workload'; readonly spiffeId: string };

export interface PersonRevocationPorts {
  verifyApprover(idToken: string): Promise<Approver>;
  findGrant(grantId: string): Promise<StoredGrant | undefined>;
  findOwners(spiffeId: string): Promise<{ ownerTeam: string; ownerContact: string } | undefined>;
  /** Asks the revocation service, naming the person as who asked. */
  revoke(target: PersonRevocationTarget, reason: string, requestedBy: string): Promise<{ grantsEnded: number; revocationId: string }>;
}

/**
 * A person ends access (the console's revoke actions). The on-call and security groups
 * (readers) may revoke anything — that is their job in an incident; a workload's owners may
 * revoke their own workload's grants, tasks and credentials; nobody else. The reason is required
 * and kept with the grants, and the revocation names the person, never the console that relayed it.
 */
export async function revokeAsPerson(
  request: { idToken: string; reason: string; target: PersonRevocationTarget | undefined },
  ports: PersonRevocationPorts,
  scope: ReadScope,
): Promise<{ grantsEnded: number; revocationId: string; person: Approver }> {
  const reason = sanitizeText(request.reason, LIMITS.reasonMaxLength);
  if (reason === '') throw new MayflyError('ERR_INVALID_ARGUMENT', 'reason: is required: say why the access ends (it is kept with the grants and in the audit trail)', { field: 'reason' });
  const target = request.target;
  if (!target) throw new MayflyError('ERR_INVALID_ARGUMENT', 'target: name a grant_id, a task or a spiffe_id to revoke', { field: 'target' });
  if (target.kind === 'grant') validateUuid('grant_id', target.grantId);
  if (target.kind === 'task' && target.taskId.trim() === '') throw new MayflyError('ERR_INVALID_ARGUMENT', 'task.task_id: is required', { field: 'task.task_id' });
  const person = await ports.verifyApprover(request.idToken);
  const workload = await workloadOf(target, ports);
  if (!isReader(person, scope)) {
    const owners = workload ? await ports.findOwners(workload) : undefined;
    if (!owners || !ownsWorkload(person, owners)) {
      throw new MayflyError(
        'ERR_APPROVER_NOT_ALLOWED',
        `${person.name} may not revoke ${describe(target)}: revoking is for the groups ${scope.readerGroups.join(', ')} (MAYFLY_GRANT_READER_GROUPS) and the workload's owners`,
      );
    }
  }
  const ended = await ports.revoke(target, reason, person.name);
  return { ...ended, person };
}

/** The workload whose access the target ends; undefined for a task across every workload (readers only). */
async function workloadOf(target: PersonRevocationTarget, ports: PersonRevocationPorts): Promise<string | undefined> {
  if (target.kind !== 'grant') return target.spiffeId || undefined;
  const grant = await ports.findGrant(target.grantId);
  if (!grant) throw new MayflyError('ERR_GRANT_NOT_FOUND', `grant ${target.grantId} does not exist`);
  return grant.spiffe_id;
}

function describe(target: PersonRevocationTarget): string {
  if (target.kind === 'grant') return `grant ${target.grantId}`;
  if (target.kind === 'task') return `task ${target.taskId}${target.spiffeId ? ` of ${target.spiffeId}` : ' (every workload)'}`;
  return `every credential of ${target.spiffeId}`;
}
