import { type ApprovalRequestRecord, type StoredGrant } from '@mayfly/model';
import { MayflyError } from '@mayfly/core';
import { ownsWorkload, type Approver } from './separation-of-duties.js';

/**
 * What a signed-in person may read through ApprovalService. Being in the people's identity
 * provider is not enough: the red team read every pending request and grant with a token that
 * named no group. Readers (MAYFLY_GRANT_READER_GROUPS, default sre and security) see everything;
 * anyone else sees what concerns them — requests they may answer, break-glass grants they may
 * review, and grants of workloads they own.
 */
export interface ReadScope {
  /** Groups whose members may read every grant (the on-call and security teams). */
  readonly readerGroups: readonly string[];
}

export const DEFAULT_READER_GROUPS = ['sre', 'security'] as const;

const inAny = (person: Approver, groups: readonly string[]): boolean => person.groups.some((group) => groups.includes(group));

export function isReader(person: Approver, scope: ReadScope): boolean {
  return inAny(person, scope.readerGroups);
}

/** A pending request is listed to readers and to people in one of its rule's approver groups. */
export function mayAnswerOrRead(person: Approver, request: Pick<ApprovalRequestRecord, 'approver_groups'>, scope: ReadScope): boolean {
  return isReader(person, scope) || inAny(person, request.approver_groups);
}

/** A break-glass grant is listed to readers and to the groups named to review it (any group for grants from before). */
export function mayReview(person: Approver, grant: Pick<StoredGrant, 'review_groups'>, scope: ReadScope): boolean {
  return isReader(person, scope) || (grant.review_groups.length > 0 ? inAny(person, grant.review_groups) : person.groups.length > 0);
}

/** One grant: readers, its approvers or reviewers, and its workload's owners. Throws PERMISSION_DENIED otherwise. */
export function checkMayRead(
  person: Approver,
  grant: Pick<StoredGrant, 'id' | 'review_groups' | 'break_glass'>,
  request: Pick<ApprovalRequestRecord, 'approver_groups'> | undefined,
  owners: { ownerTeam: string; ownerContact: string } | undefined,
  scope: ReadScope,
): void {
  if (isReader(person, scope)) return;
  if (request && inAny(person, request.approver_groups)) return;
  if (grant.break_glass && mayReview(person, grant, scope)) return;
  if (owners && ownsWorkload(person, owners)) return;
  throw new MayflyError('ERR_APPROVER_NOT_ALLOWED', `${person.name} may not read grant ${grant.id}: it is for readers (${scope.readerGroups.join(', ')}), its approvers or reviewers, and its workload's owners`);
}

/** Listing every grant is for readers only. */
export function checkIsReader(person: Approver, scope: ReadScope): void {
  if (!isReader(person, scope)) {
    throw new MayflyError('ERR_APPROVER_NOT_ALLOWED', `${person.name} may not list grants: that is for the groups ${scope.readerGroups.join(', ')} (MAYFLY_GRANT_READER_GROUPS); their token names ${person.groups.length > 0 ? person.groups.join(', ') : 'no groups'}`);
  }
}
