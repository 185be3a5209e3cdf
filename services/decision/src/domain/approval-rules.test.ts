import { describe, expect, it } from 'vitest';
import { parseApprovalRules, strictestRule, type ApprovalRule } from './approval-rules.js';

const rules = (value: unknown) => () => parseApprovalRules(JSON.stringify(value));

describe('parseApprovalRules', () => {
  it('reads rules with their defaults', () => {
    const parsed = parseApprovalRules(JSON.stringify({ rules: { 'prod-writes': { approverGroups: ['sre', 'data-owners', 'sre'], threshold: 2 } } }));
    expect(parsed.get('prod-writes')).toEqual({ name: 'prod-writes', approverGroups: ['sre', 'data-owners'], threshold: 2, pendingSeconds: 3600, approvalValidSeconds: 900 });
  });

  it('refuses what it cannot read, naming the rule and the field', () => {
    expect(() => parseApprovalRules('{ rules')).toThrow(/not JSON/);
    expect(rules({ rule: {} })).toThrow(/expected \{ "rules"|unknown field/);
    expect(rules({ rules: { 'prod-writes': { approverGroups: [], threshold: 1 } } })).toThrow(/"prod-writes": approverGroups/);
    expect(rules({ rules: { 'prod-writes': { approverGroups: ['sre'], threshold: 0 } } })).toThrow(/threshold must be a whole number from 1/);
    expect(rules({ rules: { 'prod-writes': { approverGroups: ['sre'], threshold: 1.5 } } })).toThrow(/threshold/);
    expect(rules({ rules: { 'prod-writes': { approverGroups: ['sre'], threshold: 1, pendingSeconds: 5 } } })).toThrow(/pendingSeconds/);
    expect(rules({ rules: { 'prod-writes': { approverGroups: ['sre'], threshold: 1, approvers: 3 } } })).toThrow(/unknown field\(s\) approvers/);
    expect(rules({ rules: { 'Prod Writes': { approverGroups: ['sre'], threshold: 1 } } })).toThrow(/rule name/);
    expect(rules({ rules: { x: { approverGroups: ['s r e'], threshold: 1 } } })).toThrow(/approverGroups/);
  });
});

describe('strictestRule', () => {
  const rule = (name: string, threshold: number, pendingSeconds = 3600): ApprovalRule => ({ name, approverGroups: ['sre'], threshold, pendingSeconds, approvalValidSeconds: 900 });

  it('takes the most approvals, then the shortest wait', () => {
    expect(strictestRule([rule('a', 1), rule('b', 2), rule('c', 1)])?.name).toBe('b');
    expect(strictestRule([rule('a', 2, 600), rule('b', 2, 60)])?.name).toBe('b');
    expect(strictestRule([])).toBeUndefined();
  });
});
