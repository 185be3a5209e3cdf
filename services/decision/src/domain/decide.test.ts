import { describe, expect, it } from 'vitest';
import { MayflyError } from '@mayfly/core';
import { DecideRequest, Effect, RiskTier } from '@mayfly/proto';
import { decide } from './decide.js';
import type { PolicyAnswer, PolicyEngine, PolicyQuery } from './policy-engine.js';

/** A policy engine that answers from a table, to test the decision's own rules. */
function engine(answers: Record<string, Partial<PolicyAnswer>>): PolicyEngine & { asked: string[] } {
  const asked: string[] = [];
  return {
    version: 'test-v1',
    asked,
    evaluate(query: PolicyQuery): PolicyAnswer {
      asked.push(query.action);
      return { allowed: false, policyIds: [], maxTtlSeconds: undefined, maxGrantSeconds: undefined, heartbeatSeconds: undefined, approvalRules: [], breakGlass: false, breakGlassReviewerGroups: [], errors: [], ...answers[query.action] };
    },
  };
}

const rule = (name: string, threshold: number) => ({ name, approverGroups: ['sre'], threshold, pendingSeconds: 600, approvalValidSeconds: 300 });

const request = (actions: string[], more: Partial<DecideRequest> = {}): DecideRequest =>
  DecideRequest.fromPartial({
    workload: {
      spiffeId: 'spiffe://example.org/ci/builder',
      environment: 'dev',
      riskTier: RiskTier.RISK_TIER_LOW,
      ceiling: [{ resource: 'pg:orders-db', actions: ['read', 'write'] }],
    },
    task: { id: 'job-1', kind: 'ci-job' },
    resource: 'pg:orders-db',
    actions,
    requestedTtlSeconds: 600,
    ...more,
  });

describe('decide', () => {
  it('allows exactly what was asked when every action is within the ceiling and permitted', () => {
    const answer = decide(
      request(['read', 'write']),
      engine({ read: { allowed: true, policyIds: ['p-read'], maxTtlSeconds: 900, maxGrantSeconds: 3600 }, write: { allowed: true, policyIds: ['p-write'], maxTtlSeconds: 300 } }),
      { maxTtlSeconds: 3600 },
    );
    expect(answer.effect).toBe(Effect.EFFECT_ALLOW);
    expect(answer.grantedActions).toEqual(['read', 'write']);
    expect(answer.maxTtlSeconds).toBe(300); // the strictest policy wins
    expect(answer.maxGrantSeconds).toBe(3600); // the only renewal ceiling set
    expect(answer.policyIds).toEqual(['p-read', 'p-write']);
    expect(answer.policyVersion).toBe('test-v1');
  });

  it('never exceeds the ceiling, whatever the policy says, and does not ask the policy', () => {
    const policy = engine({ read: { allowed: true }, delete: { allowed: true } });
    const answer = decide(request(['read', 'delete']), policy, { maxTtlSeconds: 3600 });
    expect(answer.effect).toBe(Effect.EFFECT_DENY);
    expect(answer.grantedActions).toEqual([]);
    expect(answer.reasons[0]).toContain('"delete" on pg:orders-db exceeds the entitlement ceiling');
    expect(policy.asked).toEqual([]);
  });

  it('denies the whole request when one action is not permitted, naming it and the forbidding policy', () => {
    const answer = decide(request(['read', 'write']), engine({ read: { allowed: true, policyIds: ['p'] }, write: { allowed: false, policyIds: ['no-writes'] } }), {
      maxTtlSeconds: 3600,
    });
    expect(answer.effect).toBe(Effect.EFFECT_DENY);
    expect(answer.policyIds).toEqual(['no-writes']);
    expect(answer.reasons).toEqual(['"write" on pg:orders-db is forbidden by no-writes']);
  });

  it('denies when a policy failed to evaluate, saying which one and why (the reason reaches the refusal and the audit)', () => {
    const answer = decide(
      request(['read']),
      engine({ read: { allowed: false, policyIds: ['broken-forbid'], errors: ['broken-forbid: integer overflow'] } }),
      { maxTtlSeconds: 3600 },
    );
    expect(answer.effect).toBe(Effect.EFFECT_DENY);
    expect(answer.policyIds).toEqual(['broken-forbid']);
    expect(answer.reasons).toEqual(['"read" on pg:orders-db is denied because a policy failed to evaluate (broken-forbid: integer overflow)']);
  });

  it('caps the lifetime at the service limit when no policy sets one', () => {
    const answer = decide(request(['read']), engine({ read: { allowed: true, policyIds: ['p'] } }), { maxTtlSeconds: 120 });
    expect(answer.maxTtlSeconds).toBe(120);
  });

  it('refuses malformed requests with INVALID_ARGUMENT naming the field', () => {
    const bad = { ...request(['read']), resource: 'no scheme here' };
    expect(() => decide(bad, engine({}), { maxTtlSeconds: 60 })).toThrow(MayflyError);
    try {
      decide(bad, engine({}), { maxTtlSeconds: 60 });
    } catch (error) {
      expect((error as MayflyError).code).toBe('ERR_INVALID_ARGUMENT');
      expect((error as MayflyError).field).toBe('resource');
    }
  });

  it('waits for approval when any allowing policy names a rule, as the strictest rule says', () => {
    const answer = decide(
      request(['read', 'write']),
      engine({ read: { allowed: true, policyIds: ['reads'], approvalRules: [rule('one', 1)] }, write: { allowed: true, policyIds: ['prod-writes'], approvalRules: [rule('two', 2)] } }),
      { maxTtlSeconds: 3600 },
    );
    expect(answer).toMatchObject({ effect: Effect.EFFECT_NEEDS_APPROVAL, grantedActions: ['read', 'write'], approval: { rule: 'two', threshold: 2, approverGroups: ['sre'], pendingSeconds: 600, approvalValidSeconds: 300 } });
    expect(answer.reasons[0]).toMatch(/once approved as rule "two" says/);
    // No rule named: allowed outright.
    expect(decide(request(['read']), engine({ read: { allowed: true, policyIds: ['reads'] } }), { maxTtlSeconds: 3600 })).toMatchObject({ effect: Effect.EFFECT_ALLOW, approval: undefined });
  });

  // Red team (issue 20, point 8): any workload could call its task an incident and get a write.
  it('refuses break-glass to a workload whose registry entry does not allow it, whatever the policies say', () => {
    const glass = request(['write'], { breakGlass: true });
    const answer = decide(glass, engine({ write: { allowed: true, policyIds: ['break-glass'], breakGlass: true, breakGlassReviewerGroups: ['sre'] } }), { maxTtlSeconds: 3600 });
    expect(answer).toMatchObject({ effect: Effect.EFFECT_DENY, reasons: [expect.stringMatching(/may not use break-glass: its registry entry does not allow it/)] });
  });

  it('allows break-glass only through a @break_glass policy, and then without approval, naming who reviews it', () => {
    const glass = request(['write'], { breakGlass: true });
    glass.workload!.breakGlassAllowed = true;
    expect(decide(glass, engine({ write: { allowed: true, policyIds: ['prod-writes'], approvalRules: [rule('two', 2)] } }), { maxTtlSeconds: 3600 })).toMatchObject({
      effect: Effect.EFFECT_DENY,
      reasons: [expect.stringMatching(/only by a @break_glass policy/)],
    });
    expect(decide(glass, engine({ write: { allowed: true, policyIds: ['break-glass'], breakGlass: true, breakGlassReviewerGroups: ['sre', 'security'] } }), { maxTtlSeconds: 3600 })).toMatchObject({
      effect: Effect.EFFECT_ALLOW,
      breakGlass: true,
      approval: undefined,
      breakGlassReviewerGroups: ['sre', 'security'],
    });
  });
});

describe('explain', () => {
  it('says, per action, what the ceiling and the policies say, beside the decision itself', async () => {
    const { explain } = await import('./explain.js');
    const answer = explain(
      request(['read', 'delete']),
      engine({ read: { allowed: true, policyIds: ['reads'], approvalRules: [rule('two', 2)] }, delete: { allowed: false, policyIds: ['no-deletes'] } }),
      { maxTtlSeconds: 3600 },
    );
    expect(answer.decision).toMatchObject({ effect: Effect.EFFECT_DENY });
    expect(answer.actions).toEqual([
      { action: 'read', withinCeiling: true, allowed: true, policyIds: ['reads'], errors: [], approvalRule: 'two', breakGlass: false },
      { action: 'delete', withinCeiling: false, allowed: false, policyIds: ['no-deletes'], errors: [], approvalRule: '', breakGlass: false },
    ]);
  });
});

describe('explain', () => {
  it('answers with what decide answers, asking the policies about each action once', async () => {
    const { explain } = await import('./explain.js');
    const table = { read: { allowed: true, policyIds: ['read-ok'] }, write: { allowed: false, policyIds: ['no-writes'] } };
    const asked = engine(table);
    const explained = explain(request(['read', 'write']), asked, { maxTtlSeconds: 3600 }, new Date(0));
    expect(explained.decision).toEqual(decide(request(['read', 'write']), engine(table), { maxTtlSeconds: 3600 }, new Date(0)));
    expect(explained.decision?.effect).toBe(Effect.EFFECT_DENY);
    expect(asked.asked).toEqual(['read', 'write']);
    expect(explained.actions.map((action) => [action.action, action.allowed, action.withinCeiling])).toEqual([
      ['read', true, true],
      ['write', false, true],
    ]);
  });

  it('still asks the policies about actions outside the ceiling, which decide refuses without asking', async () => {
    const { explain } = await import('./explain.js');
    const asked = engine({ delete: { allowed: true, policyIds: ['too-kind'] } });
    const explained = explain(request(['delete']), asked, { maxTtlSeconds: 3600 });
    expect(explained.decision?.effect).toBe(Effect.EFFECT_DENY);
    expect(explained.actions[0]).toMatchObject({ action: 'delete', withinCeiling: false, allowed: true, policyIds: ['too-kind'] });
  });
});
