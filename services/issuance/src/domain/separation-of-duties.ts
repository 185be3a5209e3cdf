import { MayflyError } from '@mayfly/core';

/** A person, as their identity provider's OIDC ID token names them. */
export interface Approver {
  /** Who: the token's email claim if it has one, else its subject. */
  readonly id: string;
  readonly groups: readonly string[];
}

/** What separation of duties needs to know of the request being decided. */
export interface RequestParties {
  readonly approverGroups: readonly string[];
  /** The requesting workload and whoever passed access on to it. */
  readonly workloadChain: readonly string[];
  readonly ownerTeam: string;
  readonly ownerContact: string;
}

/**
 * Who may answer a request: someone in one of the rule's approver groups, who does not own the
 * workload (neither its owner contact nor a member of its owner team), and who is not the
 * workload or anyone in its delegation chain. Throws PERMISSION_DENIED naming the reason.
 */
export function checkMayAnswer(approver: Approver, parties: RequestParties): void {
  if (!approver.groups.some((group) => parties.approverGroups.includes(group))) {
    throw new MayflyError(
      'ERR_APPROVER_NOT_ALLOWED',
      `${approver.id} is in none of the approver groups of this request (${parties.approverGroups.join(', ')}); their token names ${approver.groups.length > 0 ? approver.groups.join(', ') : 'no groups'}`,
    );
  }
  if (sameIdentity(approver.id, parties.ownerContact) || approver.groups.includes(parties.ownerTeam)) {
    throw new MayflyError('ERR_APPROVER_NOT_ALLOWED', `${approver.id} owns the requesting workload (team ${parties.ownerTeam}, contact ${parties.ownerContact}): nobody approves their own workload's request`);
  }
  if (parties.workloadChain.some((party) => sameIdentity(party, approver.id))) {
    throw new MayflyError('ERR_APPROVER_NOT_ALLOWED', `${approver.id} is the requester (or in its delegation chain): a request never approves itself`);
  }
}

function sameIdentity(a: string, b: string): boolean {
  return a.trim().toLowerCase() === b.trim().toLowerCase();
}
