import { describe, expect, it } from 'vitest';
import { isMayflyError } from '@mayfly/core';
import { grantBounds, renewedExpiry } from './grant-bounds.js';

const NOW = new Date('2026-11-23T10:00:00.400Z'); // iat is 10:00:00
const at = (offsetSeconds: number) => new Date(Date.parse('2026-11-23T10:00:00Z') + offsetSeconds * 1000);
const base = { issuedAt: NOW, requestedTtlSeconds: 300, policyMaxTtlSeconds: 900, policyMaxGrantSeconds: 0, globalMaxGrantSeconds: 28_800, taskDeadline: undefined };

describe('grantBounds', () => {
  it('takes the first token from the TTL and the ceiling from the global maximum when policy sets none', () => {
    expect(grantBounds(base)).toEqual({ expiresAt: at(300), renewableUntil: at(28_800), tokenLifetimeSeconds: 300 });
  });

  it('lets the strictest of policy, global maximum and task deadline set the ceiling', () => {
    expect(grantBounds({ ...base, policyMaxGrantSeconds: 1_800 }).renewableUntil).toEqual(at(1_800));
    expect(grantBounds({ ...base, policyMaxGrantSeconds: 1_800, globalMaxGrantSeconds: 600 }).renewableUntil).toEqual(at(600));
    expect(grantBounds({ ...base, policyMaxGrantSeconds: 1_800, taskDeadline: at(1_000) }).renewableUntil).toEqual(at(1_000));
  });

  it('never lets the first token outlive the ceiling: exp ≤ ceiling ≤ deadline', () => {
    const bounds = grantBounds({ ...base, requestedTtlSeconds: 900, policyMaxGrantSeconds: 120 });
    expect(bounds).toEqual({ expiresAt: at(120), renewableUntil: at(120), tokenLifetimeSeconds: 120 });
    const tight = grantBounds({ ...base, taskDeadline: at(200) });
    expect(tight.expiresAt.getTime()).toBeLessThanOrEqual(tight.renewableUntil.getTime());
    expect(tight.renewableUntil).toEqual(at(200));
  });

  it('refuses when the deadline leaves no second', () => {
    let error: unknown;
    try {
      grantBounds({ ...base, taskDeadline: at(0) });
    } catch (caught) {
      error = caught;
    }
    expect(isMayflyError(error, 'ERR_TASK_DEADLINE_PASSED')).toBe(true);
  });
});

describe('grantBounds for a delegated grant', () => {
  const parent = { expiresAt: at(240), renewableUntil: at(3_600) };

  it('never lets the child outlive its parent: exp ≤ parent exp, ceiling ≤ parent ceiling', () => {
    expect(grantBounds({ ...base, parent })).toEqual({ expiresAt: at(240), renewableUntil: at(3_600), tokenLifetimeSeconds: 240 });
  });

  it('keeps exp ≤ ceiling ≤ parent ceiling ≤ deadline whichever is tightest', () => {
    const cases = [
      { ...base, parent, taskDeadline: at(100) },
      { ...base, parent, policyMaxGrantSeconds: 60 },
      { ...base, parent: { expiresAt: at(900), renewableUntil: at(200) } },
      { ...base, parent, requestedTtlSeconds: 30 },
    ];
    for (const input of cases) {
      const bounds = grantBounds(input);
      expect(bounds.expiresAt.getTime()).toBeLessThanOrEqual(bounds.renewableUntil.getTime());
      expect(bounds.expiresAt.getTime()).toBeLessThanOrEqual(input.parent.expiresAt.getTime());
      expect(bounds.renewableUntil.getTime()).toBeLessThanOrEqual(input.parent.renewableUntil.getTime());
      if (input.taskDeadline) expect(bounds.renewableUntil.getTime()).toBeLessThanOrEqual(input.taskDeadline.getTime());
    }
    expect(grantBounds(cases[0]!).expiresAt).toEqual(at(100));
    expect(grantBounds(cases[1]!).expiresAt).toEqual(at(60));
    expect(grantBounds(cases[2]!).expiresAt).toEqual(at(200));
    expect(grantBounds(cases[3]!).expiresAt).toEqual(at(30));
  });

  it('refuses when the parent token has less than a second left', () => {
    let error: unknown;
    try {
      grantBounds({ ...base, parent: { expiresAt: at(0), renewableUntil: at(3_600) } });
    } catch (caught) {
      error = caught;
    }
    expect(isMayflyError(error, 'ERR_GRANT_NOT_ACTIVE')).toBe(true);
  });
});

describe('renewedExpiry', () => {
  it('cuts a delegated grant at its parent\'s newest token', () => {
    expect(renewedExpiry(at(200), 300, at(28_800), at(400))).toEqual(at(400));
    expect(renewedExpiry(at(200), 300, at(28_800), at(200))).toBeUndefined();
  });

  it('gives the token lifetime again from now', () => {
    expect(renewedExpiry(at(200), 300, at(28_800))).toEqual(at(500));
  });

  it('cuts at the ceiling, and has nothing to give in its last second', () => {
    expect(renewedExpiry(at(1_700), 300, at(1_800))).toEqual(at(1_800));
    expect(renewedExpiry(new Date(at(1_799).getTime() + 900), 300, at(1_800))).toEqual(at(1_800));
    expect(renewedExpiry(at(1_800), 300, at(1_800))).toBeUndefined();
    expect(renewedExpiry(at(2_000), 300, at(1_800))).toBeUndefined();
  });
});
