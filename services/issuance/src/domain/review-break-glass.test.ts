import { type StoredGrant } from '@mayfly/model';
import { describe, expect, it } from 'vitest';
import { MayflyError } from '@mayfly/core';
import type { AuditEvent } from '@mayfly/proto';
import { reviewBreakGlass, type ReviewPorts } from './review-break-glass.js';
import type { Approver } from './separation-of-duties.js';

const GRANT = '6c1f6f0e-1d7a-4b8e-9a55-0f1f2e3d4c5b';
const grant = { id: GRANT, spiffe_id: 'spiffe://demo.mayfly.local/prod/orders-writer', break_glass: true, reviewed_at: null, review_groups: ['sre', 'security'], task_id: 't', task_reference: 'INC-7', issued_at: new Date() } as unknown as StoredGrant;
const person = (name: string, groups: string[]): Approver => ({ id: `https://idp#${name}`, name, email: name.includes('@') ? name.trim().toLowerCase() : undefined, groups });

function ports(reviewer: Approver, overrides: Partial<StoredGrant> = {}): ReviewPorts & { recorded: AuditEvent[]; reviewed: boolean } {
  const world = {
    recorded: [] as AuditEvent[],
    reviewed: false,
    verifyApprover: async () => reviewer,
    findGrant: async () => ({ ...grant, ...overrides }),
    findOwners: async () => ({ ownerTeam: 'orders', ownerContact: ' Owner@Example.com' }),
    commitReview: async () => {
      world.reviewed = true;
      return true;
    },
    commitEvents: async (events: readonly AuditEvent[]) => void world.recorded.push(...events),
    deliverAudit: () => undefined,
    unauthenticatedRefusal: () => ({ kind: 'each' }) as const,
  };
  return world;
}

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    return error instanceof MayflyError ? `${error.code}: ${error.message}` : String(error);
  }
}

const review = (world: ReviewPorts) => reviewBreakGlass({ grantId: GRANT, idToken: 'x', review: 'looked fine', peer: '10.0.0.1' }, world);

// Red team (issue 20, points 2 and 8): a person in no group reviewed and cleared a break-glass
// grant; an owner whose contact had a leading space reviewed their own.
describe('reviewBreakGlass', () => {
  it('takes a review from a non-owner in a group the rule names', async () => {
    const world = ports(person('rita@example.com', ['security']));
    await review(world);
    expect(world.reviewed).toBe(true);
  });

  it('refuses a person in no group, or only in groups the rule does not name', async () => {
    for (const groups of [[], ['eng']]) {
      const world = ports(person('mallory@example.com', groups));
      expect(await codeOf(review(world))).toMatch(/ERR_APPROVER_NOT_ALLOWED: .*none of the approver groups named to review/);
      expect(world.reviewed).toBe(false);
      expect(world.recorded.map((event) => event.kind)).toEqual(['grant.break_glass_review_refused']);
    }
  });

  it('refuses the owner whatever the spacing and case of the registered contact', async () => {
    const world = ports(person('owner@example.com', ['sre']));
    expect(await codeOf(review(world))).toMatch(/ERR_APPROVER_NOT_ALLOWED: .*owns the workload/);
    expect(world.reviewed).toBe(false);
  });

  it('for a grant from before reviewer groups, refuses a person in no group at all', async () => {
    expect(await codeOf(review(ports(person('nobody@example.com', []), { review_groups: [] })))).toMatch(/is in no group/);
  });
});
