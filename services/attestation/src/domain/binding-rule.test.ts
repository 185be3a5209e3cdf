import { describe, expect, it } from 'vitest';
import { applyBindingRule, checkBindingRule, resolveBindingRules } from './binding-rule.js';

const k8sTemplate = 'spiffe://{trust_domain}/ns/{namespace}/sa/{service_account}';
const k8sClaims = { sub: 'system:serviceaccount:payments:api', trust_domain: 'example.org', namespace: 'payments', service_account: 'api' };

describe('checkBindingRule', () => {
  it('accepts exact claims of the kind and templates of its claims', () => {
    expect(() => checkBindingRule('kubernetes', {}, k8sTemplate, '')).not.toThrow();
    expect(() => checkBindingRule('github-actions', { repository: 'acme/deployer', ref: 'refs/heads/main' }, 'spiffe://example.org/ci/deployer', 'main only')).not.toThrow();
  });

  it('refuses a rule that names no claim: it would bind every token of the issuer', () => {
    expect(() => checkBindingRule('kubernetes', {}, 'spiffe://example.org/anything', '')).toThrow(/names no claim/);
  });

  it('refuses claims and placeholders the kind does not yield', () => {
    expect(() => checkBindingRule('kubernetes', { repository: 'acme/x' }, 'spiffe://example.org/x', '')).toThrow(/not a claim of kubernetes evidence/);
    expect(() => checkBindingRule('github-actions', {}, 'spiffe://example.org/{aud}', '')).toThrow(/\{aud\} is not a claim/);
  });

  it('refuses pattern characters, empty values and broken templates', () => {
    expect(() => checkBindingRule('github-actions', { repository: 'acme/*' }, 'spiffe://example.org/x', '')).toThrow(/exact value/);
    expect(() => checkBindingRule('github-actions', { repository: ' ' }, 'spiffe://example.org/x', '')).toThrow(/needs a value/);
    expect(() => checkBindingRule('kubernetes', {}, 'https://example.org/{namespace}', '')).toThrow(/SPIFFE ID/);
    expect(() => checkBindingRule('kubernetes', {}, 'spiffe://example.org/{namespace', '')).toThrow(/brace/);
  });
});

describe('applyBindingRule', () => {
  it('fills the template from the claims when every match holds', () => {
    expect(applyBindingRule({ id: 'r', match: {}, spiffeIdTemplate: k8sTemplate }, k8sClaims)).toBe('spiffe://example.org/ns/payments/sa/api');
    expect(applyBindingRule({ id: 'r', match: { namespace: 'payments' }, spiffeIdTemplate: 'spiffe://example.org/payments' }, k8sClaims)).toBe('spiffe://example.org/payments');
    expect(applyBindingRule({ id: 'r', match: { namespace: 'billing' }, spiffeIdTemplate: 'spiffe://example.org/payments' }, k8sClaims)).toBeUndefined();
  });

  it('does not apply when a placeholder claim is missing or is not one plain path segment', () => {
    const rule = { id: 'r', match: {}, spiffeIdTemplate: 'spiffe://example.org/ci/{environment}' };
    expect(applyBindingRule(rule, { sub: 'x' })).toBeUndefined();
    expect(applyBindingRule(rule, { environment: '../admin' })).toBeUndefined();
    expect(applyBindingRule(rule, { environment: 'a/b' })).toBeUndefined();
    expect(applyBindingRule(rule, { environment: '..' })).toBeUndefined();
    expect(applyBindingRule(rule, { environment: 'prod' })).toBe('spiffe://example.org/ci/prod');
  });
});

describe('resolveBindingRules', () => {
  it('agrees, refuses disagreement, or finds nothing', () => {
    const a = { id: 'a', match: { namespace: 'payments' }, spiffeIdTemplate: 'spiffe://example.org/payments' };
    const b = { id: 'b', match: {}, spiffeIdTemplate: k8sTemplate };
    const c = { id: 'c', match: { service_account: 'api' }, spiffeIdTemplate: 'spiffe://example.org/payments' };
    expect(resolveBindingRules([a, c], k8sClaims)).toEqual({ spiffeId: 'spiffe://example.org/payments', ruleIds: ['a', 'c'] });
    expect(resolveBindingRules([a, b], k8sClaims)).toEqual({ problem: expect.stringMatching(/disagree.*rule a.*rule b/) });
    expect(resolveBindingRules([a], { ...k8sClaims, namespace: 'billing' })).toBeUndefined();
  });
});
