import { describe, expect, it } from 'vitest';
import { isMayflyError } from '@mayfly/core';
import { checkMayAnswer } from './separation-of-duties.js';

const parties = { approverGroups: ['sre', 'data-owners'], workloadChain: ['spiffe://example.org/prod/reporter'], ownerTeam: 'reporting', ownerContact: 'reporting@example.com' };
const refusal = (approver: { id: string; groups: string[] }) => {
  try {
    checkMayAnswer(approver, parties);
    return undefined;
  } catch (error) {
    return isMayflyError(error) ? `${error.code}: ${error.message}` : String(error);
  }
};

describe('checkMayAnswer', () => {
  it('lets a member of an approver group who does not own the workload answer', () => {
    expect(refusal({ id: 'alice@example.com', groups: ['sre'] })).toBeUndefined();
    expect(refusal({ id: 'bob@example.com', groups: ['eng', 'data-owners'] })).toBeUndefined();
  });

  it('refuses people outside the approver groups', () => {
    expect(refusal({ id: 'carol@example.com', groups: ['eng'] })).toMatch(/ERR_APPROVER_NOT_ALLOWED: .*none of the approver groups/);
    expect(refusal({ id: 'carol@example.com', groups: [] })).toMatch(/no groups/);
  });

  it('refuses the workload\'s owners: its contact (any case) and its owner team', () => {
    expect(refusal({ id: 'Reporting@Example.com', groups: ['sre'] })).toMatch(/owns the requesting workload/);
    expect(refusal({ id: 'dave@example.com', groups: ['sre', 'reporting'] })).toMatch(/owns the requesting workload/);
  });

  it('refuses the requester itself and anyone in its chain', () => {
    expect(refusal({ id: 'spiffe://example.org/prod/reporter', groups: ['sre'] })).toMatch(/never approves itself/);
  });
});
