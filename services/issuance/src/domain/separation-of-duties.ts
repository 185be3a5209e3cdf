import { MayflyError } from '@mayfly/core';

/**
 * A person, as their identity provider's OIDC ID token names them. Who they are is the pair
 * (issuer, subject): stable, and the same whether or not the token carries an email, in
 * whatever case. The email only says whether they own a workload.
 */
export interface Approver {
  /** Who: `<issuer>#<sub>`. Votes are counted, and repeated answers recognised, by this alone. */
  readonly id: string;
  /** How records and messages name them: their verified email, else their subject. */
  readonly name: string;
  /** Their verified email, normalised (normalizeEmail); undefined when the token has none. */
  readonly email: string | undefined;
  readonly groups: readonly string[];
}

/** The one normalisation of an email for comparing people: trimmed and case-folded. */
export function normalizeEmail(value: string): string {
  return value.trim().toLowerCase();
}

/** What separation of duties needs to know of the request being decided. */
export interface RequestParties {
  readonly approverGroups: readonly string[];
  /** The requesting workload and whoever passed access on to it. */
  readonly workloadChain: readonly string[];
  readonly ownerTeam: string;
  readonly ownerContact: string;
}

/** Whether a person owns a workload: its owner contact (by verified email) or in its owner team. */
export function ownsWorkload(person: Approver, owners: { readonly ownerTeam: string; readonly ownerContact: string }): boolean {
  const contact = normalizeEmail(owners.ownerContact);
  return (person.email !== undefined && person.email === contact) || person.groups.includes(owners.ownerTeam);
}

/**
 * Who may answer a request: someone in one of the rule's approver groups, who does not own the
 * workload (neither its owner contact nor a member of its owner team), and who is not the
 * workload or anyone in its delegation chain. Throws PERMISSION_DENIED naming the reason.
 */
export function checkMayAnswer(approver: Approver, parties: RequestParties): void {
  checkInGroups(approver, parties.approverGroups, 'of this request');
  if (ownsWorkload(approver, parties)) {
    throw new MayflyError('ERR_APPROVER_NOT_ALLOWED', `${approver.name} owns the requesting workload (team ${parties.ownerTeam}, contact ${parties.ownerContact}): nobody approves their own workload's request`);
  }
  const names = new Set([approver.id, approver.name, ...(approver.email ? [approver.email] : [])].map(normalizeEmail));
  if (parties.workloadChain.some((party) => names.has(normalizeEmail(party)))) {
    throw new MayflyError('ERR_APPROVER_NOT_ALLOWED', `${approver.name} is the requester (or in its delegation chain): a request never approves itself`);
  }
}

/** Throws ERR_APPROVER_NOT_ALLOWED unless the person is in one of `groups`. */
export function checkInGroups(person: Approver, groups: readonly string[], what: string): void {
  if (!person.groups.some((group) => groups.includes(group))) {
    throw new MayflyError(
      'ERR_APPROVER_NOT_ALLOWED',
      `${person.name} is in none of the approver groups ${what} (${groups.length > 0 ? groups.join(', ') : 'none named'}); their token names ${person.groups.length > 0 ? person.groups.join(', ') : 'no groups'}`,
    );
  }
}
