import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MayflyError, allEvidenceClaimNames } from '@mayfly/core';
import { RiskTier, Workload } from '@mayfly/proto';
import { CedarPolicyEngine } from './cedar-policy-engine.js';

const POLICY_DIR = fileURLToPath(new URL('../../policies', import.meta.url));
const shipped = CedarPolicyEngine.fromDirectory(POLICY_DIR);
const SCHEMA = readFileSync(`${POLICY_DIR}/schema.cedarschema`, 'utf8');
const engine = (...texts: string[]) => CedarPolicyEngine.fromSources(texts.map((text, i) => ({ name: `p${i}`, text })), SCHEMA);

const workload = (environment: string, riskTier: RiskTier): Workload =>
  Workload.fromPartial({ spiffeId: `spiffe://example.org/${environment}/svc`, environment, riskTier });

const query = (w: Workload, action: string, reference = '', more: { justification?: string; delegators?: string[]; kind?: string; breakGlass?: boolean; claims?: Record<string, string> } = {}) => ({
  workload: w,
  task: { id: 't1', kind: more.kind ?? 'ci-job', reference, deadline: undefined },
  resource: 'pg:orders-db',
  action,
  requestedTtlSeconds: 300,
  justification: more.justification ?? '',
  delegation: more.delegators ? { delegators: more.delegators, parentGrantIds: more.delegators.map((_, i) => `00000000-0000-4000-8000-00000000000${i}`) } : undefined,
  breakGlass: more.breakGlass ?? false,
  evidence: more.claims ? { attestor: 'oidc', issuer: 'https://token.actions.githubusercontent.com', claims: more.claims } : undefined,
  now: new Date('2026-11-22T10:00:00Z'),
});

describe('CedarPolicyEngine with the shipped policies', () => {
  it('lets a CI run deploy only from the main branch (GitHub and GitLab spellings), and leaves evidence without a ref alone', () => {
    const ci = workload('dev', RiskTier.RISK_TIER_LOW);
    const deploy = (claims?: Record<string, string>) => shipped.evaluate(query(ci, 'deploy', '', claims ? { claims } : {}));
    expect(deploy({ repository: 'acme/app', ref: 'refs/heads/main' }).allowed).toBe(true);
    expect(deploy({ project_path: 'acme/app', ref: 'main', ref_type: 'branch' }).allowed).toBe(true);
    expect(deploy({ repository: 'acme/app', ref: 'refs/heads/feature' })).toMatchObject({ allowed: false, policyIds: ['ci-deploys-from-main-only'] });
    expect(deploy({ project_path: 'acme/app', ref: 'main', ref_type: 'tag' })).toMatchObject({ allowed: false, policyIds: ['ci-deploys-from-main-only'] });
    expect(deploy({ namespace: 'payments', service_account: 'api' }).allowed).toBe(true);
    expect(deploy().allowed).toBe(true);
    // Other actions are not this policy's business.
    expect(shipped.evaluate(query(ci, 'read', '', { claims: { ref: 'refs/heads/feature' } })).allowed).toBe(true);
  });

  it('declares every evidence claim of the catalog in the shipped schema, and passes no other', () => {
    for (const name of allEvidenceClaimNames()) expect(SCHEMA).toMatch(new RegExp(`\\b${name}\\?: String,`));
    const strict = engine('@id("p") permit (principal, action, resource) when { context.evidence.claims has namespace && context.evidence.claims.namespace == "payments" };');
    const asked = (claims: Record<string, string>) => strict.evaluate(query(workload('dev', RiskTier.RISK_TIER_LOW), 'read', '', { claims })).allowed;
    expect(asked({ namespace: 'payments' })).toBe(true);
    expect(asked({ namespace: 'billing' })).toBe(false);
    expect(asked({ not_a_claim: 'x', namespace: 'payments' })).toBe(true);
  });

  it('permits low-risk dev workloads, with the policy id and its max TTL', () => {
    const answer = shipped.evaluate(query(workload('dev', RiskTier.RISK_TIER_LOW), 'write'));
    expect(answer).toMatchObject({ allowed: true, policyIds: ['dev-low-risk-task-access'], maxTtlSeconds: 900, maxGrantSeconds: 7200 });
  });

  it('does not permit high-risk dev workloads', () => {
    expect(shipped.evaluate(query(workload('dev', RiskTier.RISK_TIER_HIGH), 'read')).allowed).toBe(false);
  });

  it('lets prod read only with a task reference, for 5 minutes, and forbids deletes outright', () => {
    const prod = workload('prod', RiskTier.RISK_TIER_MEDIUM);
    expect(shipped.evaluate(query(prod, 'read')).allowed).toBe(false);
    expect(shipped.evaluate(query(prod, 'read', 'INC-42'))).toMatchObject({ allowed: true, maxTtlSeconds: 300, maxGrantSeconds: 1800 });
    expect(shipped.evaluate(query(prod, 'write', 'INC-42')).allowed).toBe(false);
    expect(shipped.evaluate(query(prod, 'delete', 'INC-42'))).toMatchObject({ allowed: false, policyIds: ['no-delete-in-prod'] });
  });

  it('refuses a delegation without a justification, and allows it with one', () => {
    const tool = workload('dev', RiskTier.RISK_TIER_LOW);
    const delegators = ['spiffe://example.org/dev/agent'];
    expect(shipped.evaluate(query(tool, 'read', '', { delegators }))).toMatchObject({ allowed: false, policyIds: ['delegation-needs-justification'] });
    expect(shipped.evaluate(query(tool, 'read', '', { delegators, justification: 'summarise the orders' }))).toMatchObject({ allowed: true, policyIds: ['dev-low-risk-task-access'] });
    // Not delegated: no justification needed.
    expect(shipped.evaluate(query(tool, 'read')).allowed).toBe(true);
  });

  it('shows policies the delegation chain: depth, the principal, who passes it on, everyone in it', () => {
    const chainAware = engine(
      '@id("allow-all") permit (principal, action, resource);',
      '@id("one-hop-only") forbid (principal, action, resource) when { context.delegation.depth > 1 };',
      '@id("not-for-intern") forbid (principal, action, resource) when { context.delegation.onBehalfOf == "spiffe://example.org/intern" };',
      '@id("no-relay-via-x") forbid (principal, action, resource) when { context.delegation.delegators.contains("spiffe://example.org/x") && context.delegation.delegatedBy != "spiffe://example.org/x" };',
    );
    const tool = workload('dev', RiskTier.RISK_TIER_LOW);
    expect(chainAware.evaluate(query(tool, 'read')).allowed).toBe(true);
    expect(chainAware.evaluate(query(tool, 'read', '', { delegators: ['spiffe://example.org/agent'] })).allowed).toBe(true);
    expect(chainAware.evaluate(query(tool, 'read', '', { delegators: ['spiffe://example.org/agent', 'spiffe://example.org/sub'] })).policyIds).toEqual(['one-hop-only']);
    expect(chainAware.evaluate(query(tool, 'read', '', { delegators: ['spiffe://example.org/intern'] })).policyIds).toEqual(['not-for-intern']);
    expect(chainAware.evaluate(query(tool, 'read', '', { delegators: ['spiffe://example.org/x'] })).allowed).toBe(true);
  });

  it('sends production changes for approval as rule "prod-writes" says, and lets break-glass through only its own policy', () => {
    const prod = workload('prod', RiskTier.RISK_TIER_MEDIUM);
    const change = shipped.evaluate(query(prod, 'write', 'CHG-7', { kind: 'change' }));
    expect(change).toMatchObject({ allowed: true, policyIds: ['prod-changes-with-approval'], maxTtlSeconds: 600, breakGlass: false });
    expect(change.approvalRules.map((rule) => [rule.name, rule.threshold, rule.approverGroups])).toEqual([['prod-writes', 2, ['sre', 'data-owners']]]);
    // Break-glass: an incident, its reference and a justification.
    const glass = shipped.evaluate(query(prod, 'write', 'INC-9', { kind: 'incident', breakGlass: true, justification: 'orders stuck' }));
    expect(glass).toMatchObject({ allowed: true, policyIds: ['break-glass-incident'], breakGlass: true, approvalRules: [], breakGlassReviewerGroups: ['sre', 'security'] });
    expect(shipped.evaluate(query(prod, 'write', 'INC-9', { kind: 'incident', breakGlass: true })).allowed).toBe(false); // no justification
    expect(shipped.evaluate(query(prod, 'write', 'INC-9', { kind: 'incident', justification: 'orders stuck' })).allowed).toBe(false); // not asked as break-glass
    expect(shipped.evaluate(query(prod, 'delete', 'INC-9', { kind: 'incident', breakGlass: true, justification: 'x' })).allowed).toBe(false);
  });

  it('refuses, at load time, @approval naming no rule and @break_glass that does not test context.breakGlass', () => {
    const rules = JSON.stringify({ rules: { 'two-sre': { approverGroups: ['sre'], threshold: 2 } } });
    expect(() => CedarPolicyEngine.fromSources([{ name: 'a', text: '@approval("nope") permit (principal, action, resource);' }], SCHEMA, rules)).toThrow(/names no rule .* \(it has two-sre\)/);
    expect(() => CedarPolicyEngine.fromSources([{ name: 'a', text: '@approval("two-sre") forbid (principal, action, resource);' }], SCHEMA, rules)).toThrow(/belongs on a permit/);
    expect(() => CedarPolicyEngine.fromSources([{ name: 'a', text: '@break_glass("two-sre") permit (principal, action, resource);' }], SCHEMA, rules)).toThrow(/must require context.breakGlass/);
    // Who reviews a break-glass grant must be named (issue 20, point 8).
    const glass = (annotation: string) => `${annotation} permit (principal, action, resource) when { context.breakGlass };`;
    expect(() => CedarPolicyEngine.fromSources([{ name: 'a', text: glass('@break_glass') }], SCHEMA, rules)).toThrow(/must name the rule .* whose approver groups review/);
    expect(() => CedarPolicyEngine.fromSources([{ name: 'a', text: glass('@break_glass("nobody")') }], SCHEMA, rules)).toThrow(/@break_glass\("nobody"\) names no rule/);
    const versioned = (text: string) => CedarPolicyEngine.fromSources([{ name: 'a', text: '@approval("two-sre") permit (principal, action, resource);' }], SCHEMA, text).version;
    expect(versioned(rules)).not.toBe(versioned(JSON.stringify({ rules: { 'two-sre': { approverGroups: ['sre'], threshold: 3 } } })));
  });

  it('check names the file and line of every problem, and the version a valid set would have', () => {
    const text = '// header\n@id("ok") permit (principal, action, resource);\n\n@id("typo")\nforbid (principal, action, resource)\nwhen { principal.enviroment == "prod" };\n';
    const checked = CedarPolicyEngine.check([{ name: 'a', text }, { name: 'b', text: 'permit (principal, action' }], SCHEMA);
    expect(checked.problems.map((problem) => [problem.file, problem.line, problem.policyId])).toEqual([
      ['b', 1, ''],
      ['a', 6, 'typo'],
    ]);
    expect(CedarPolicyEngine.check([{ name: 'a', text: '@id("ok") permit (principal, action, resource);' }], SCHEMA)).toMatchObject({ problems: [], version: expect.stringMatching(/^[0-9a-f]{16}$/) });
  });

  it('names its policy set by a digest of the sources', () => {
    const a = CedarPolicyEngine.fromSources([{ name: 'a', text: 'permit (principal, action, resource);' }], SCHEMA);
    const b = CedarPolicyEngine.fromSources([{ name: 'a', text: 'forbid (principal, action, resource);' }], SCHEMA);
    expect(a.version).toMatch(/^[0-9a-f]{16}$/);
    expect(a.version).not.toBe(b.version);
    expect(a.evaluate(query(workload('x', RiskTier.RISK_TIER_LOW), 'read'))).toMatchObject({ allowed: true, policyIds: ['a#0'] });
  });

  it('refuses unparseable policies and bad annotations at load time', () => {
    expect(() => engine('permit (principal, action')).toThrow(MayflyError);
    expect(() => engine('@max_ttl_seconds("soon") permit (principal, action, resource);')).toThrow(/max_ttl_seconds/);
    expect(() => engine('@max_grant_seconds("0") permit (principal, action, resource);')).toThrow(/max_grant_seconds/);
  });

  it('refuses, at load time, policies that do not match the schema, naming the policy', () => {
    expect(() => engine('@id("typo") forbid (principal, action, resource) when { principal.enviroment == "prod" };')).toThrow(
      /typo: .*enviroment/,
    );
    expect(() => engine('permit (principal, action == Mayfly::Action::"launch-missiles", resource);')).toThrow(/do not match the schema/);
    expect(() => CedarPolicyEngine.fromSources([{ name: 'a', text: 'permit (principal, action, resource);' }], 'namespace {')).toThrow(/schema/);
  });

  it('denies when a forbid fails to evaluate, naming the policy that errored (Cedar alone would allow)', () => {
    const broken = engine(
      '@id("allow-all") permit (principal, action, resource);',
      '@id("overflowing-forbid") forbid (principal, action, resource) when { context.ttlSeconds + 9223372036854775807 > 0 };',
    );
    const answer = broken.evaluate(query(workload('dev', RiskTier.RISK_TIER_LOW), 'read'));
    expect(answer.allowed).toBe(false);
    expect(answer.policyIds).toEqual(['overflowing-forbid']);
    expect(answer.errors[0]).toMatch(/^overflowing-forbid: .*overflow/);
  });

  it('denies when a permit fails to evaluate, even if another permit allows', () => {
    const broken = engine(
      '@id("allow-all") permit (principal, action, resource);',
      '@id("overflowing-permit") permit (principal, action, resource) when { context.hourUtc * 9223372036854775807 > 1 };',
    );
    expect(broken.evaluate(query(workload('dev', RiskTier.RISK_TIER_LOW), 'read'))).toMatchObject({ allowed: false, policyIds: ['overflowing-permit'] });
  });
});
