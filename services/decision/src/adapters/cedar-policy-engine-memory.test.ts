import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { RiskTier, Workload } from '@mayfly/proto';
import { CedarPolicyEngine, type CedarEngineOptions } from './cedar-policy-engine.js';
import type { PolicyAnswer, PolicyQuery } from '../domain/policy-engine.js';

// The engine remembers answers by what Cedar can see of a request. These tests check that a
// remembered answer is always the one Cedar gives, including for what policies read.
const POLICY_DIR = fileURLToPath(new URL('../../policies', import.meta.url));
const SCHEMA = readFileSync(`${POLICY_DIR}/schema.cedarschema`, 'utf8');
const engine = (texts: string[], options: CedarEngineOptions = {}) => CedarPolicyEngine.fromSources(texts.map((text, i) => ({ name: `p${i}`, text })), SCHEMA, undefined, options);

interface Variation {
  spiffeId?: string;
  environment?: string;
  riskTier?: RiskTier;
  taskId?: string;
  kind?: string;
  reference?: string;
  action?: string;
  resource?: string;
  ttl?: number;
  justification?: string;
  delegators?: string[];
  claims?: Record<string, string>;
  breakGlass?: boolean;
  now?: Date;
}

const query = (v: Variation = {}): PolicyQuery => ({
  workload: Workload.fromPartial({ spiffeId: v.spiffeId ?? 'spiffe://example.org/dev/svc', environment: v.environment ?? 'dev', riskTier: v.riskTier ?? RiskTier.RISK_TIER_LOW }),
  task: { id: v.taskId ?? 't1', kind: v.kind ?? 'ci-job', reference: v.reference ?? '', deadline: undefined },
  resource: v.resource ?? 'pg:orders-db',
  action: v.action ?? 'read',
  requestedTtlSeconds: v.ttl ?? 300,
  justification: v.justification ?? '',
  delegation: v.delegators ? { delegators: v.delegators, parentGrantIds: v.delegators.map((_, i) => `00000000-0000-4000-8000-00000000000${i}`) } : undefined,
  breakGlass: v.breakGlass ?? false,
  evidence: v.claims ? { attestor: 'oidc', issuer: 'https://issuer.example', claims: v.claims } : undefined,
  now: v.now ?? new Date('2026-11-22T10:00:00Z'),
});

const normalised = (answer: PolicyAnswer) => ({ ...answer, policyIds: [...answer.policyIds].sort(), errors: [...answer.errors].sort() });

describe('CedarPolicyEngine remembering answers', () => {
  it('answers from memory exactly as Cedar does, over many requests that vary everything policies can read', () => {
    const policies = [
      '@id("dev") @max_ttl_seconds("900") permit (principal, action, resource) when { principal.environment == "dev" && context.task.kind != "" };',
      '@id("task-ids") permit (principal, action == Mayfly::Action::"write", resource) when { context.task.id like "ok-*" };',
      '@id("night") forbid (principal, action, resource) when { context.hourUtc < 6 };',
      '@id("short") forbid (principal, action == Mayfly::Action::"deploy", resource) when { context.ttlSeconds > 600 };',
      '@id("main") forbid (principal, action, resource) when { context.evidence.claims has ref && context.evidence.claims.ref != "refs/heads/main" };',
      '@id("why") forbid (principal, action, resource) when { context.delegation.depth > 0 && context.justification == "" };',
      '@id("risky") forbid (principal, action, resource) when { principal.riskTier == "high" && resource.scheme == "pg" };',
      '@id("broken") forbid (principal, action == Mayfly::Action::"delete", resource) when { context.ttlSeconds * 9223372036854775807 > 1 };',
    ];
    const remembering = engine(policies);
    const asking = engine(policies, { answersRemembered: 0 });
    let seed = 7;
    const pick = <T>(choices: readonly T[]): T => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return choices[seed % choices.length]!;
    };
    const requests = 600;
    for (let i = 0; i < requests; i++) {
      const q = query({
        spiffeId: pick(['spiffe://example.org/a', 'spiffe://example.org/b']),
        environment: pick(['dev', 'prod']),
        riskTier: pick([RiskTier.RISK_TIER_LOW, RiskTier.RISK_TIER_HIGH]),
        taskId: pick(['ok-1', 'no-1', 'ok-2']),
        kind: pick(['ci-job', '']),
        action: pick(['read', 'write', 'deploy', 'delete']),
        resource: pick(['pg:orders', 'redis:cache']),
        ttl: pick([60, 900]),
        justification: pick(['', 'because']),
        delegators: pick([undefined, ['spiffe://example.org/p']]),
        claims: pick<Record<string, string> | undefined>([undefined, { ref: 'refs/heads/main' }, { ref: 'refs/heads/x' }, { repository: 'acme/app' }]),
        now: pick([new Date('2026-11-22T03:00:00Z'), new Date('2026-11-22T10:00:00Z')]),
      });
      // Cedar lists the deciding policies in no fixed order; which ones they are is the answer.
      expect(normalised(remembering.evaluate(q)), `request ${i}`).toEqual(normalised(asking.evaluate(q)));
    }
    // Repeats were answered from memory (otherwise this test would not test it).
    expect(remembering.answersHeld).toBeGreaterThan(0);
    expect(remembering.answersHeld).toBeLessThan(requests / 2);
    expect(asking.answersHeld).toBe(0);
  });

  it('keeps apart requests that differ only in what a policy reads: task id, the hour, a workload attribute', () => {
    const byTask = engine(['@id("ok") permit (principal, action, resource) when { context.task.id like "ok-*" };']);
    expect(byTask.evaluate(query({ taskId: 'ok-1' })).allowed).toBe(true);
    expect(byTask.evaluate(query({ taskId: 'bad-1' })).allowed).toBe(false);

    const byHour = engine(['@id("all") permit (principal, action, resource);', '@id("night") forbid (principal, action, resource) when { context.hourUtc < 6 };']);
    expect(byHour.evaluate(query({ now: new Date('2026-11-22T10:00:00Z') })).allowed).toBe(true);
    expect(byHour.evaluate(query({ now: new Date('2026-11-22T03:00:00Z') })).allowed).toBe(false);

    // The registry changed the workload's environment: same SPIFFE ID, new answer.
    const byEnvironment = engine(['@id("dev") permit (principal, action, resource) when { principal.environment == "dev" };']);
    expect(byEnvironment.evaluate(query({ environment: 'dev' })).allowed).toBe(true);
    expect(byEnvironment.evaluate(query({ environment: 'prod' })).allowed).toBe(false);
  });

  it('keeps apart a missing claim and a present one, and a value that errors from one that does not', () => {
    const e = engine(['@id("all") permit (principal, action, resource);', '@id("has-ref") forbid (principal, action, resource) when { context.evidence.claims has ref };']);
    expect(e.evaluate(query({ claims: {} })).allowed).toBe(true);
    expect(e.evaluate(query({ claims: { ref: '' } })).allowed).toBe(false);
    expect(e.evaluate(query({ claims: { repository: 'acme/app' } })).allowed).toBe(true);

    const overflowing = engine(['@id("all") permit (principal, action, resource);', '@id("big") forbid (principal, action, resource) when { context.ttlSeconds * 9223372036854775807 > 1 };']);
    expect(overflowing.evaluate(query({ ttl: 0 }))).toMatchObject({ allowed: true, errors: [] });
    expect(overflowing.evaluate(query({ ttl: 2 }))).toMatchObject({ allowed: false, policyIds: ['big'] });
    expect(overflowing.evaluate(query({ ttl: 2 })).errors[0]).toMatch(/^big: .*overflow/);
  });

  it('answers a new task of the same workload from memory when no policy reads the task id', () => {
    const shipped = CedarPolicyEngine.fromDirectory(POLICY_DIR);
    for (let i = 0; i < 50; i++) expect(shipped.evaluate(query({ taskId: `task-${i}`, now: new Date(Date.UTC(2026, 10, 22, i % 24)) })).allowed).toBe(true);
    expect(shipped.answersHeld).toBe(1);
  });

  it('remembers at most answersRemembered answers, and none at 0', () => {
    const policies = ['@id("ok") permit (principal, action, resource) when { context.task.id like "ok-*" };'];
    const small = engine(policies, { answersRemembered: 3 });
    for (let i = 0; i < 10; i++) small.evaluate(query({ taskId: `ok-${i}` }));
    expect(small.answersHeld).toBe(3);
    const none = engine(policies, { answersRemembered: 0 });
    none.evaluate(query());
    expect(none.answersHeld).toBe(0);
  });

  it('hands out remembered answers that nobody can change', () => {
    const e = engine(['@id("all") permit (principal, action, resource);']);
    const first = e.evaluate(query());
    expect(() => (first.policyIds as string[]).push('forged')).toThrow(TypeError);
    expect(() => Object.assign(first, { allowed: false })).toThrow(TypeError);
    expect(e.evaluate(query())).toMatchObject({ allowed: true, policyIds: ['all'] });
  });
});
