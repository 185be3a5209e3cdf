import { LIMITS, MayflyError, sanitizeText, validateSpiffeId } from '@mayfly/core';
import type { Entitlement, Workload } from '@mayfly/proto';
import { isReader, type ReadScope } from './people-scope.js';
import { ownsWorkload, type Approver } from './separation-of-duties.js';

export interface ShrinkPorts {
  verifyApprover(idToken: string): Promise<Approver>;
  findWorkload(spiffeId: string): Promise<Workload | undefined>;
  /** Replaces the workload's ceiling through the registry; returns the live grants beyond it. */
  replaceCeiling(workload: Workload, ceiling: readonly Entitlement[], reason: string): Promise<string[]>;
  revokeGrant(grantId: string, reason: string, requestedBy: string): Promise<void>;
}

/**
 * `current` without `remove`: each named action of each named resource goes, and a resource left
 * with no action goes with it. Only ever smaller: removing what the ceiling does not hold is
 * refused (the person is looking at something stale), and so is removing nothing.
 */
export function shrunkCeiling(current: readonly Entitlement[], remove: readonly Entitlement[]): Entitlement[] {
  const removing = remove.filter((entry) => entry.actions.length > 0);
  if (removing.length === 0) throw new MayflyError('ERR_INVALID_ARGUMENT', 'remove: name at least one resource and action to take out of the ceiling', { field: 'remove' });
  const next = new Map(current.map((entry) => [entry.resource, new Set(entry.actions)]));
  for (const entry of removing) {
    const actions = next.get(entry.resource);
    for (const action of entry.actions) {
      if (!actions?.has(action)) throw new MayflyError('ERR_INVALID_ARGUMENT', `remove: the ceiling does not allow ${action} on ${entry.resource} (it may have changed since the page was shown)`, { field: 'remove' });
      actions.delete(action);
    }
  }
  return current.filter((entry) => (next.get(entry.resource)?.size ?? 0) > 0).map((entry) => ({ resource: entry.resource, actions: entry.actions.filter((action) => next.get(entry.resource)!.has(action)) }));
}

/**
 * The usage review's action, as a person: readers (the on-call and security groups) or the
 * workload's owners shrink its ceiling — never grow it. The registry records the change (actor:
 * issuance, the person in the reason); grants the smaller ceiling no longer covers are revoked
 * when asked, each naming the person.
 */
export async function shrinkCeiling(
  request: { idToken: string; spiffeId: string; remove: readonly Entitlement[]; revokeUncovered: boolean; reason: string },
  ports: ShrinkPorts,
  scope: ReadScope,
): Promise<{ ceiling: Entitlement[]; uncoveredGrantIds: string[]; revoked: number }> {
  validateSpiffeId('spiffe_id', request.spiffeId);
  const reason = sanitizeText(request.reason, LIMITS.reasonMaxLength);
  if (reason === '') throw new MayflyError('ERR_INVALID_ARGUMENT', 'reason: is required: say why the workload needs less (it is kept in the registry\'s audit record)', { field: 'reason' });
  const person = await ports.verifyApprover(request.idToken);
  const workload = await ports.findWorkload(request.spiffeId);
  if (!workload) throw new MayflyError('ERR_WORKLOAD_NOT_FOUND', `no workload ${request.spiffeId} is registered`);
  if (!isReader(person, scope) && !ownsWorkload(person, workload)) {
    throw new MayflyError('ERR_APPROVER_NOT_ALLOWED', `${person.name} may not change the ceiling of ${request.spiffeId}: that is for the groups ${scope.readerGroups.join(', ')} (MAYFLY_GRANT_READER_GROUPS) and the workload's owners`);
  }
  const ceiling = shrunkCeiling(workload.ceiling, request.remove);
  const uncovered = await ports.replaceCeiling(workload, ceiling, `${reason} (usage review by ${person.name})`);
  if (request.revokeUncovered) {
    for (const grantId of uncovered) await ports.revokeGrant(grantId, `ceiling shrunk: ${reason}`, person.name);
  }
  return { ceiling, uncoveredGrantIds: uncovered, revoked: request.revokeUncovered ? uncovered.length : 0 };
}
