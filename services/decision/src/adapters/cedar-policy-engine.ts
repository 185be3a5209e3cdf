import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { MayflyError, allEvidenceClaimNames } from '@mayfly/core';
import { RiskTier, riskTierToJSON } from '@mayfly/proto';
import { APPROVAL_RULES_FILE, parseApprovalRules, type ApprovalRule } from '../domain/approval-rules.js';
import type { PolicyAnswer, PolicyEngine, PolicyQuery } from '../domain/policy-engine.js';
import { contextReads, readContextKey, type ContextReads } from './cedar-context-reads.js';

/** The schema file every policy directory must hold (see policies/schema.cedarschema). */
export const SCHEMA_FILE = 'schema.cedarschema';

/**
 * Cedar policies, loaded from the *.cedar files of one directory, validated against the
 * directory's schema.cedarschema and parsed once at start-up.
 *
 * Entity model the policies are written against:
 * - principal `Mayfly::Workload::"<spiffe id>"` with attributes environment, riskTier
 *   ("low" | "medium" | "high" | "critical"), ownerTeam, shared;
 * - action `Mayfly::Action::"<action>"`;
 * - resource `Mayfly::Resource::"<resource>"` with attribute scheme (text before the first ":");
 * - context { task: { id, kind, reference, hasDeadline }, ttlSeconds, justification, hourUtc,
 *   delegation: { depth, onBehalfOf, delegatedBy, delegators }, breakGlass,
 *   evidence: { attestor, issuer, claims: { <claim>?: String } } }.
 *
 * Annotations: `@id("...")` names a policy (default `<file>#<n>`); `@max_ttl_seconds("N")` on
 * a permit caps the lifetime of each token it allows; `@max_grant_seconds("N")` caps how long
 * the grant may be renewed for, counted from its issue; `@heartbeat_seconds("N")` requires the
 * workload to send a heartbeat at least every N seconds, or lose the grant;
 * `@approval("rule")` makes what the permit allows wait for people, as the rule of that name in
 * approval-rules.json says; `@break_glass("rule")` marks a permit that allows break-glass
 * requests (its condition must test context.breakGlass, so that it never allows anything else),
 * reviewed afterwards by the named rule's approver groups.
 *
 * A policy that fails to evaluate for a request (an overflow, a missing attribute) makes the
 * answer deny: Cedar itself would skip it, which turns a broken forbid into an allow.
 *
 * Answers are remembered (up to `answersRemembered`, oldest forgotten first) under everything
 * evaluation can see: the principal and resource entities with their attributes, the action,
 * and the values of the context paths the policies read (cedar-context-reads.ts). A workload's
 * hundredth grant for a new task on the same resource then costs a map lookup instead of a Cedar
 * evaluation (~130 µs). An engine is one policy set version, so a push starts with none remembered.
 */
export class CedarPolicyEngine implements PolicyEngine {
  readonly version: string;
  private readonly setId: string;
  private readonly limitsById: ReadonlyMap<string, PolicyLimits>;
  private readonly reads: ContextReads;
  private readonly answersRemembered: number;
  /** Answers by what decided them, oldest first (a Map keeps insertion order). */
  private readonly answers = new Map<string, PolicyAnswer>();

  private constructor(setId: string, version: string, limitsById: ReadonlyMap<string, PolicyLimits>, reads: ContextReads, options: CedarEngineOptions) {
    this.setId = setId;
    this.version = version;
    this.limitsById = limitsById;
    this.reads = reads;
    this.answersRemembered = options.answersRemembered ?? DEFAULT_ANSWERS_REMEMBERED;
  }

  static fromDirectory(directory: string, options: CedarEngineOptions = {}): CedarPolicyEngine {
    let files: string[];
    try {
      files = readdirSync(directory).filter((f) => f.endsWith('.cedar')).sort();
    } catch (error) {
      throw new MayflyError('ERR_CONFIG', `cannot read policy directory ${directory}: ${(error as Error).message}`);
    }
    if (files.length === 0) throw new MayflyError('ERR_CONFIG', `no *.cedar policy files in ${directory}`);
    let schema: string;
    try {
      schema = readFileSync(join(directory, SCHEMA_FILE), 'utf8');
    } catch {
      throw new MayflyError(
        'ERR_CONFIG',
        `no ${SCHEMA_FILE} in ${directory}: policies are validated against a schema at start; copy services/decision/policies/${SCHEMA_FILE} and declare your actions in it`,
      );
    }
    return CedarPolicyEngine.fromSources(
      files.map((file) => ({ name: basename(file, '.cedar'), text: readFileSync(join(directory, file), 'utf8') })),
      schema,
      readOptional(join(directory, APPROVAL_RULES_FILE)),
      options,
    );
  }

  /** `approvalRules`: the text of approval-rules.json, if there is one; versioned with the policies. */
  static fromSources(sources: readonly { name: string; text: string }[], schema: string, approvalRules?: string, options: CedarEngineOptions = {}): CedarPolicyEngine {
    const { policies, policyJson, limitsById, problems, digest } = readPolicies(sources, schema, approvalRules);
    if (problems.length > 0) {
      throw new MayflyError('ERR_CONFIG', `Cedar policies refused (unreadable, or they do not match the schema): ${problems.map(formatProblem).join('; ')}`);
    }
    const version = digest;
    const setId = `mayfly-${version}`;
    const parsed = cedar.preparsePolicySet(setId, { staticPolicies: policies });
    if (parsed.type === 'failure') throw new MayflyError('ERR_CONFIG', `cannot load the Cedar policy set: ${parsed.errors.map((e) => e.message).join('; ')}`);
    return new CedarPolicyEngine(setId, version, limitsById, contextReads(policyJson), options);
  }

  /**
   * Everything wrong with a policy set, each problem with its file and line (what `mayfly policy
   * validate` prints), and the version the set would have: nothing is loaded.
   */
  static check(sources: readonly { name: string; text: string }[], schema: string, approvalRules?: string): { version: string; problems: PolicyProblem[] } {
    try {
      const { problems, digest } = readPolicies(sources, schema, approvalRules);
      return { version: digest, problems };
    } catch (error) {
      return { version: '', problems: [{ file: APPROVAL_RULES_FILE, line: 1, policyId: '', message: (error as Error).message }] };
    }
  }

  evaluate(query: PolicyQuery): PolicyAnswer {
    const principal = { type: 'Mayfly::Workload', id: query.workload.spiffeId };
    const resource = { type: 'Mayfly::Resource', id: query.resource };
    const action = { type: 'Mayfly::Action', id: query.action };
    const context = {
      task: {
        id: query.task.id,
        kind: query.task.kind,
        reference: query.task.reference,
        hasDeadline: query.task.deadline !== undefined,
      },
      ttlSeconds: query.requestedTtlSeconds,
      justification: query.justification,
      hourUtc: query.now.getUTCHours(),
      delegation: delegationContext(query),
      breakGlass: query.breakGlass,
      evidence: evidenceContext(query),
    };
    const entities: cedar.EntityJson[] = [
      {
        uid: principal,
        attrs: {
          environment: query.workload.environment,
          riskTier: riskTierName(query.workload.riskTier),
          ownerTeam: query.workload.ownerTeam,
          shared: query.workload.shared,
        },
        parents: [],
      },
      { uid: resource, attrs: { scheme: query.resource.split(':', 1)[0] ?? '' }, parents: [] },
    ];
    if (this.answersRemembered === 0) return this.answer(cedar.statefulIsAuthorized({ principal, action, resource, context, preparsedPolicySetId: this.setId, entities }));
    const key = `${JSON.stringify([entities, query.action])}\n${readContextKey(context, this.reads)}`;
    const remembered = this.answers.get(key);
    if (remembered) return remembered;
    const answer = this.answer(cedar.statefulIsAuthorized({ principal, action, resource, context, preparsedPolicySetId: this.setId, entities }));
    if (this.answers.size >= this.answersRemembered) this.answers.delete(this.answers.keys().next().value as string);
    // Shared by every request with this key from now on: nobody may change it.
    this.answers.set(key, deepFreeze(answer));
    return answer;
  }

  /** How many answers are remembered now (for tests and metrics). */
  get answersHeld(): number {
    return this.answers.size;
  }

  /** Cedar's answer as Mayfly's: the limits of the policies that decided it, any error a deny. */
  private answer(answer: cedar.AuthorizationAnswer): PolicyAnswer {
    if (answer.type === 'failure') {
      // Cannot evaluate means cannot allow.
      return { ...NOTHING_ALLOWED, policyIds: [], errors: answer.errors.map((e) => e.message) };
    }
    const { decision, diagnostics } = answer.response;
    if (diagnostics.errors.length > 0) {
      // Cedar skips a policy that errors. For a forbid that would mean "allow"; so any error
      // denies, naming the policies that failed.
      return { ...NOTHING_ALLOWED, policyIds: [...new Set(diagnostics.errors.map((e) => e.policyId))], errors: diagnostics.errors.map((e) => `${e.policyId}: ${e.error.message}`) };
    }
    const limits = diagnostics.reason.map((id) => this.limitsById.get(id)).filter((found): found is PolicyLimits => found !== undefined);
    const strictest = (limit: 'maxTtlSeconds' | 'maxGrantSeconds' | 'heartbeatSeconds'): number | undefined => {
      const values = limits.map((found) => found[limit]).filter((value): value is number => value !== undefined);
      return values.length > 0 ? Math.min(...values) : undefined;
    };
    const allowed = decision === 'allow';
    return {
      allowed,
      policyIds: diagnostics.reason,
      maxTtlSeconds: strictest('maxTtlSeconds'),
      maxGrantSeconds: strictest('maxGrantSeconds'),
      heartbeatSeconds: strictest('heartbeatSeconds'),
      approvalRules: allowed ? limits.flatMap((found) => (found.approvalRule ? [found.approvalRule] : [])) : [],
      breakGlass: allowed && limits.some((found) => found.breakGlassReview !== undefined),
      breakGlassReviewerGroups: allowed ? [...new Set(limits.flatMap((found) => found.breakGlassReview?.approverGroups ?? []))] : [],
      errors: [],
    };
  }
}

function deepFreeze(answer: PolicyAnswer): PolicyAnswer {
  for (const value of Object.values(answer)) if (typeof value === 'object' && value !== null) Object.freeze(value);
  answer.approvalRules.forEach((rule) => Object.freeze(rule.approverGroups));
  return Object.freeze(answer);
}

export interface CedarEngineOptions {
  /** How many answers to remember (MAYFLY_DECISION_ANSWERS_REMEMBERED); 0 asks Cedar every time. */
  readonly answersRemembered?: number;
}

export const DEFAULT_ANSWERS_REMEMBERED = 10_000;

/** What a policy's annotations limit: each token's lifetime, the grant's renewals, who must approve. */
interface PolicyLimits {
  readonly maxTtlSeconds: number | undefined;
  readonly maxGrantSeconds: number | undefined;
  readonly heartbeatSeconds: number | undefined;
  readonly approvalRule: ApprovalRule | undefined;
  /** Set on a @break_glass permit: the rule whose approver groups review what it allowed. */
  readonly breakGlassReview: ApprovalRule | undefined;
}

const NOTHING_ALLOWED = { allowed: false, maxTtlSeconds: undefined, maxGrantSeconds: undefined, heartbeatSeconds: undefined, approvalRules: [], breakGlass: false, breakGlassReviewerGroups: [] } as const;

function readOptional(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new MayflyError('ERR_CONFIG', `cannot read ${path}: ${(error as Error).message}`);
  }
}

/** @approval("rule") on a permit names a rule that must exist. */
function approvalAnnotation(id: string, annotations: Record<string, string>, rules: ReadonlyMap<string, ApprovalRule>, effect: string): ApprovalRule | undefined {
  const name = annotations['approval'];
  if (name === undefined) return undefined;
  if (effect !== 'permit') throw new MayflyError('ERR_CONFIG', `policy "${id}": @approval belongs on a permit (a forbid has nothing to approve)`);
  const rule = rules.get(name);
  if (!rule) throw new MayflyError('ERR_CONFIG', `policy "${id}": @approval("${name}") names no rule in ${APPROVAL_RULES_FILE}${rules.size > 0 ? ` (it has ${[...rules.keys()].join(', ')})` : ''}`);
  return rule;
}

/**
 * @break_glass("rule") on a permit lets it allow break-glass requests without approval; the
 * approver groups of the named rule review each such grant afterwards (nobody outside them may).
 * It must test context.breakGlass: a break-glass policy that could match an ordinary request
 * would let that request skip its approval. Returns the review rule.
 */
function breakGlassAnnotation(id: string, annotations: Record<string, string>, text: string, effect: string, rules: ReadonlyMap<string, ApprovalRule>): ApprovalRule | undefined {
  const name = annotations['break_glass'];
  if (name === undefined) return undefined;
  if (effect !== 'permit') throw new MayflyError('ERR_CONFIG', `policy "${id}": @break_glass belongs on a permit`);
  if (!/context\.breakGlass\b/.test(text)) throw new MayflyError('ERR_CONFIG', `policy "${id}": a @break_glass permit must require context.breakGlass in its condition`);
  if (annotations['approval'] !== undefined) throw new MayflyError('ERR_CONFIG', `policy "${id}": @break_glass and @approval contradict each other`);
  // A bare annotation reads as null (or an empty string).
  if (name === '' || (name as string | null) === null) throw new MayflyError('ERR_CONFIG', `policy "${id}": @break_glass must name the rule in ${APPROVAL_RULES_FILE} whose approver groups review what it allows: @break_glass("<rule>")`);
  const rule = rules.get(name);
  if (!rule) throw new MayflyError('ERR_CONFIG', `policy "${id}": @break_glass("${name}") names no rule in ${APPROVAL_RULES_FILE}${rules.size > 0 ? ` (it has ${[...rules.keys()].join(', ')})` : ''}`);
  return rule;
}

function secondsAnnotation(id: string, annotations: Record<string, string>, name: string): number | undefined {
  const value = annotations[name];
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (!Number.isInteger(seconds) || seconds <= 0) throw new MayflyError('ERR_CONFIG', `policy "${id}": @${name} must be a positive whole number`);
  return seconds;
}

function riskTierName(tier: RiskTier): string {
  return riskTierToJSON(tier).replace('RISK_TIER_', '').toLowerCase();
}

/** One thing wrong with a policy set, where it is. */
export interface PolicyProblem {
  readonly file: string;
  /** 1-based. */
  readonly line: number;
  /** The policy's @id (or file#n), when the problem is in one policy. */
  readonly policyId: string;
  readonly message: string;
}

const formatProblem = (problem: PolicyProblem): string => `${problem.file}:${problem.line}: ${problem.policyId ? `${problem.policyId}: ` : ''}${problem.message}`;
const lineAt = (text: string, offset: number): number => text.slice(0, Math.max(0, offset)).split('\n').length;

/**
 * Parses every file, reads each policy's annotations and validates the set against the schema
 * (strict mode), collecting every problem with its file and line instead of stopping at the first.
 */
function readPolicies(sources: readonly { name: string; text: string }[], schema: string, approvalRules: string | undefined) {
  const policies: Record<string, string> = {};
  const policyJson: unknown[] = [];
  const where = new Map<string, { file: string; text: string; offset: number }>();
  const limitsById = new Map<string, PolicyLimits>();
  const problems: PolicyProblem[] = [];
  const rules = approvalRules === undefined ? new Map<string, ApprovalRule>() : parseApprovalRules(approvalRules);
  const hash = createHash('sha256');
  if (approvalRules !== undefined) hash.update(APPROVAL_RULES_FILE).update('\0').update(approvalRules).update('\0');
  for (const source of sources) {
    hash.update(source.name).update('\0').update(source.text).update('\0');
    const parts = cedar.policySetTextToParts(source.text);
    if (parts.type === 'failure') {
      for (const error of parts.errors) problems.push({ file: source.name, line: lineAt(source.text, (error as { sourceLocations?: { start: number }[] }).sourceLocations?.[0]?.start ?? 0), policyId: '', message: `cannot parse Cedar policies in ${source.name}: ${error.message}` });
      continue;
    }
    let cursor = 0;
    for (const [index, text] of parts.policies.entries()) {
      const found = source.text.indexOf(text.trim().slice(0, 40), cursor);
      const offset = found >= 0 ? found : cursor;
      cursor = found >= 0 ? found + 1 : cursor;
      const json = cedar.policyToJson(text);
      if (json.type === 'failure') {
        problems.push({ file: source.name, line: lineAt(source.text, offset), policyId: `${source.name}#${index}`, message: `cannot parse Cedar policies in ${source.name}: ${json.errors.map((e) => e.message).join('; ')}` });
        continue;
      }
      const annotations = json.json.annotations ?? {};
      const id = annotations['id'] ?? `${source.name}#${index}`;
      const at = { file: source.name, line: lineAt(source.text, offset), policyId: id };
      if (Object.hasOwn(policies, id)) {
        problems.push({ ...at, message: `policy id "${id}" is used twice` });
        continue;
      }
      try {
        limitsById.set(id, {
          maxTtlSeconds: secondsAnnotation(id, annotations, 'max_ttl_seconds'),
          maxGrantSeconds: secondsAnnotation(id, annotations, 'max_grant_seconds'),
          heartbeatSeconds: secondsAnnotation(id, annotations, 'heartbeat_seconds'),
          approvalRule: approvalAnnotation(id, annotations, rules, json.json.effect),
          breakGlassReview: breakGlassAnnotation(id, annotations, text, json.json.effect, rules),
        });
      } catch (error) {
        problems.push({ ...at, message: (error as Error).message });
      }
      policies[id] = text;
      policyJson.push(json.json);
      where.set(id, { file: source.name, text, offset });
    }
  }
  hash.update(schema);
  const result = cedar.validate({ schema, policies: { staticPolicies: policies }, validationSettings: { mode: 'strict' } });
  if (result.type === 'failure') {
    problems.push({ file: SCHEMA_FILE, line: 1, policyId: '', message: `cannot read the Cedar schema ${SCHEMA_FILE}: ${result.errors.map((e) => e.message).join('; ')}` });
  } else {
    for (const e of result.validationErrors) {
      const place = where.get(e.policyId);
      const within = e.error.sourceLocations?.[0]?.start ?? 0;
      const source = sources.find((candidate) => candidate.name === place?.file);
      const line = place && source ? lineAt(source.text, place.offset) + lineAt(place.text, within) - 1 : 1;
      problems.push({ file: place?.file ?? '?', line, policyId: e.policyId, message: `${e.error.message}${e.error.help ? ` (${e.error.help})` : ''}` });
    }
  }
  return { policies, policyJson, limitsById, problems, digest: hash.digest('hex').slice(0, 16) };
}

/**
 * context.evidence: what the workload's evidence proved — attestor, issuer and the claims its
 * kind maps (EVIDENCE_CLAIMS), each optional, so a policy tests `has` before reading one. Empty
 * for a delegated grant (the delegate presented no evidence of its own).
 */
function evidenceContext(query: PolicyQuery): { attestor: string; issuer: string; claims: Record<string, string> } {
  const claims: Record<string, string> = {};
  for (const [name, value] of Object.entries(query.evidence?.claims ?? {})) {
    if (CLAIM_NAMES.has(name)) claims[name] = value;
  }
  return { attestor: query.evidence?.attestor ?? '', issuer: query.evidence?.issuer ?? '', claims };
}

const CLAIM_NAMES = new Set(allEvidenceClaimNames());

/**
 * context.delegation: depth 0 and empty names for a grant requested directly. For a delegated
 * one, depth is how many times access was passed on to reach this workload, onBehalfOf the
 * principal the chain acts for, delegatedBy the workload passing it on now, delegators all of them.
 */
function delegationContext(query: PolicyQuery): { depth: number; onBehalfOf: string; delegatedBy: string; delegators: string[] } {
  const delegators = query.delegation?.delegators ?? [];
  return { depth: delegators.length, onBehalfOf: delegators[0] ?? '', delegatedBy: delegators.at(-1) ?? '', delegators: [...delegators] };
}
