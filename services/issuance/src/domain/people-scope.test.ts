import { describe, expect, it } from 'vitest';
import { checkIsReader, checkMayRead, mayAnswerOrRead, mayReview } from './people-scope.js';
import type { Approver } from './separation-of-duties.js';

const scope = { readerGroups: ['sre', 'security'] };
const person = (groups: string[], email = 'p@example.com'): Approver => ({ id: `idp#${email}`, name: email, email, groups });
const grant = { id: 'g1', review_groups: [] as string[], break_glass: false };

// Red team (issue 20, point 10): ListPending, ListGrants and GetGrant were open to any signed-in
// person, whatever their groups.
describe('what a person may read', () => {
  it('readers read everything; a person in no group reads nothing that is not theirs', () => {
    expect(() => checkIsReader(person(['sre']), scope)).not.toThrow();
    expect(() => checkIsReader(person([]), scope)).toThrow(/may not list grants: that is for the groups sre, security/);
    expect(() => checkMayRead(person([]), grant, { approver_groups: ['data-owners'] }, { ownerTeam: 't', ownerContact: 'o@example.com' }, scope)).toThrow(/may not read grant g1/);
  });

  it('approvers see the requests they may answer, reviewers the break-glass grants they may review, owners their grants', () => {
    expect(mayAnswerOrRead(person(['data-owners']), { approver_groups: ['data-owners'] }, scope)).toBe(true);
    expect(mayAnswerOrRead(person(['eng']), { approver_groups: ['data-owners'] }, scope)).toBe(false);
    expect(mayReview(person(['incident-review']), { review_groups: ['incident-review'] }, scope)).toBe(true);
    expect(mayReview(person(['eng']), { review_groups: ['incident-review'] }, scope)).toBe(false);
    expect(() => checkMayRead(person(['eng'], 'o@example.com'), grant, undefined, { ownerTeam: 't', ownerContact: ' O@Example.com' }, scope)).not.toThrow();
  });
});
