import { MayflyError } from '@mayfly/core';

/** The file beside the policies that defines the approval rules they name with @approval("…"). */
export const APPROVAL_RULES_FILE = 'approval-rules.json';

/**
 * How a request that needs approval is approved: by people in one of `approverGroups`, at least
 * `threshold` distinct ones; it waits at most `pendingSeconds`, and once approved the workload
 * has `approvalValidSeconds` to collect its token.
 */
export interface ApprovalRule {
  readonly name: string;
  readonly approverGroups: readonly string[];
  readonly threshold: number;
  readonly pendingSeconds: number;
  readonly approvalValidSeconds: number;
}

const NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
const GROUP = /^[A-Za-z0-9._:@-]{1,128}$/;
const DAY = 86_400;

/**
 * Reads approval-rules.json: `{ "rules": { "<name>": { "approverGroups": [...], "threshold": 2,
 * "pendingSeconds": 3600, "approvalValidSeconds": 900 } } }`. Anything else — an unknown field,
 * a threshold above the number of people who could ever approve, a bound out of range — is a
 * start-up error that names the rule and the field.
 */
export function parseApprovalRules(text: string, source = APPROVAL_RULES_FILE): ReadonlyMap<string, ApprovalRule> {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new MayflyError('ERR_CONFIG', `${source}: not JSON (${(error as Error).message})`);
  }
  const rules = (document as { rules?: unknown } | null)?.rules;
  if (typeof rules !== 'object' || rules === null || Array.isArray(rules)) throw new MayflyError('ERR_CONFIG', `${source}: expected { "rules": { "<name>": { … } } }`);
  const extra = Object.keys(document as object).filter((key) => key !== 'rules' && key !== '$comment');
  if (extra.length > 0) throw new MayflyError('ERR_CONFIG', `${source}: unknown field(s) ${extra.join(', ')}`);
  const parsed = new Map<string, ApprovalRule>();
  for (const [name, raw] of Object.entries(rules as Record<string, unknown>)) {
    parsed.set(name, readRule(name, raw, source));
  }
  return parsed;
}

function readRule(name: string, raw: unknown, source: string): ApprovalRule {
  const fail = (message: string): never => {
    throw new MayflyError('ERR_CONFIG', `${source}: rule "${name}": ${message}`);
  };
  if (!NAME.test(name)) fail('a rule name is 1 to 63 of a-z 0-9 - (starting with a letter or digit)');
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return fail('must be an object');
  const fields = raw as Record<string, unknown>;
  const unknown = Object.keys(fields).filter((key) => !['approverGroups', 'threshold', 'pendingSeconds', 'approvalValidSeconds', '$comment'].includes(key));
  if (unknown.length > 0) fail(`unknown field(s) ${unknown.join(', ')}`);
  const groups = fields['approverGroups'];
  if (!Array.isArray(groups) || groups.length === 0 || !groups.every((group) => typeof group === 'string' && GROUP.test(group))) {
    fail('approverGroups must list at least one group name (1 to 128 of A-Z a-z 0-9 . _ : @ -)');
  }
  const whole = (field: string, min: number, max: number, fallback?: number): number => {
    const value = fields[field] ?? fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) fail(`${field} must be a whole number from ${min} to ${max}`);
    return value as number;
  };
  return {
    name,
    approverGroups: [...new Set(groups as string[])],
    threshold: whole('threshold', 1, 10),
    pendingSeconds: whole('pendingSeconds', 10, 7 * DAY, 3_600),
    approvalValidSeconds: whole('approvalValidSeconds', 10, DAY, 900),
  };
}

/**
 * When several matching policies name rules, the request must satisfy the strictest: the most
 * approvals; then the shortest wait and validity. Its groups are that rule's.
 */
export function strictestRule(rules: readonly ApprovalRule[]): ApprovalRule | undefined {
  return [...rules].sort((a, b) => b.threshold - a.threshold || a.pendingSeconds - b.pendingSeconds || a.approvalValidSeconds - b.approvalValidSeconds || a.name.localeCompare(b.name))[0];
}
