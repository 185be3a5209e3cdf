import { describe, expect, it } from 'vitest';
import { isMayflyError } from '@mayfly/core';
import { checkMayAnswer, ownsWorkload, type Approver } from './separation-of-duties.js';

const parties = { approverGroups: ['sre', 'data-owners'], workloadChain: ['spiffe://example.org/prod/reporter'], ownerTeam: 'reporting', ownerContact: 'reporting@example.com' };
const person = (email: string | undefined, groups: string[], sub = email ?? 'someone'): Approver => ({ id: `https://idp#${sub}`, name: email ?? sub, email: email?.trim().toLowerCase(), groups });
const refusal = (approver: Approver) => {
  try {
    checkMayAnswer(approver, parties);
    return undefined;
  } catch (error) {
    return isMayflyError(error) ? `${error.code}: ${error.message}` : String(error);
  }
};

describe('checkMayAnswer', () => {
  it('lets a member of an approver group who does not own the workload answer', () => {
    expect(refusal(person('alice@example.com', ['sre']))).toBeUndefined();
    expect(refusal(person('bob@example.com', ['eng', 'data-owners']))).toBeUndefined();
  });

  it('refuses people outside the approver groups', () => {
    expect(refusal(person('carol@example.com', ['eng']))).toMatch(/ERR_APPROVER_NOT_ALLOWED: .*none of the approver groups/);
    expect(refusal(person('carol@example.com', []))).toMatch(/no groups/);
  });

  it('refuses the workload\'s owners: its contact (any case, any padding) and its owner team', () => {
    expect(refusal(person(' Reporting@Example.com', ['sre']))).toMatch(/owns the requesting workload/);
    expect(refusal(person('dave@example.com', ['sre', 'reporting']))).toMatch(/owns the requesting workload/);
  });

  it('refuses the requester itself and anyone in its chain', () => {
    expect(refusal(person(undefined, ['sre'], 'spiffe://example.org/prod/reporter'))).toMatch(/never approves itself/);
  });
});

describe('ownsWorkload', () => {
  // Red team (issue 20, point 2): an owner whose contact had a leading space reviewed their own break-glass grant.
  it('normalises both sides the same way', () => {
    expect(ownsWorkload(person('owner@example.com', []), { ownerTeam: 't', ownerContact: ' Owner@Example.com ' })).toBe(true);
    expect(ownsWorkload(person(undefined, [], 'owner@example.com'), { ownerTeam: 't', ownerContact: 'owner@example.com' })).toBe(false);
  });
});
