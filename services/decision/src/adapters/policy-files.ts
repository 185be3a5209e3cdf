import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { MayflyError } from '@mayfly/core';
import { APPROVAL_RULES_FILE } from '../domain/approval-rules.js';
import { CedarPolicyEngine, SCHEMA_FILE, type CedarEngineOptions, type PolicyProblem } from './cedar-policy-engine.js';

/** One file of a policy set: a *.cedar file, schema.cedarschema or approval-rules.json. */
export interface PolicyFile {
  readonly name: string;
  readonly text: string;
}

const MAX_FILES = 200;
const MAX_FILE_BYTES = 1_000_000;

/** The files of a policy directory that make up its set, sorted by name. */
export function readPolicyDirectory(directory: string): PolicyFile[] {
  let names: string[];
  try {
    names = readdirSync(directory).filter((name) => name.endsWith('.cedar') || name === SCHEMA_FILE || name === APPROVAL_RULES_FILE).sort();
  } catch (error) {
    throw new MayflyError('ERR_CONFIG', `cannot read policy directory ${directory}: ${(error as Error).message}`);
  }
  return names.map((name) => ({ name, text: readFileSync(join(directory, name), 'utf8') }));
}

/**
 * Everything wrong with a set of files, each problem with its file and line, and the version
 * (digest) the set would have — what ValidatePolicies answers and PushPolicies requires empty.
 */
export function checkPolicyFiles(files: readonly PolicyFile[]): { version: string; problems: PolicyProblem[] } {
  if (files.length > MAX_FILES || files.some((file) => file.text.length > MAX_FILE_BYTES)) {
    return { version: '', problems: [{ file: '*', line: 1, policyId: '', message: `at most ${MAX_FILES} files of at most 1 MB each` }] };
  }
  const names = new Set<string>();
  for (const file of files) {
    if (!(file.name.endsWith('.cedar') || file.name === SCHEMA_FILE || file.name === APPROVAL_RULES_FILE) || file.name.includes('/')) {
      return { version: '', problems: [{ file: file.name, line: 1, policyId: '', message: `not part of a policy set: only *.cedar, ${SCHEMA_FILE} and ${APPROVAL_RULES_FILE}` }] };
    }
    if (names.has(file.name)) return { version: '', problems: [{ file: file.name, line: 1, policyId: '', message: 'given twice' }] };
    names.add(file.name);
  }
  const { schema, policies, approvalRules } = split(files);
  if (schema === undefined) return { version: '', problems: [{ file: SCHEMA_FILE, line: 1, policyId: '', message: `missing: every policy set holds the ${SCHEMA_FILE} its policies are checked against` }] };
  if (policies.length === 0) return { version: '', problems: [{ file: '*.cedar', line: 1, policyId: '', message: 'no *.cedar policy files' }] };
  const { version, problems } = CedarPolicyEngine.check(policies, schema, approvalRules);
  return { version: problems.length === 0 ? version : '', problems: problems.map((problem) => ({ ...problem, file: problem.file.includes('.') ? problem.file : `${problem.file}.cedar` })) };
}

/** Loads a set (checked when it was stored; a problem here is ERR_CONFIG). */
export function engineFromFiles(files: readonly PolicyFile[], options: CedarEngineOptions = {}): CedarPolicyEngine {
  const { schema, policies, approvalRules } = split(files);
  if (schema === undefined) throw new MayflyError('ERR_CONFIG', `the policy set has no ${SCHEMA_FILE}`);
  return CedarPolicyEngine.fromSources(policies, schema, approvalRules, options);
}

function split(files: readonly PolicyFile[]): { schema: string | undefined; policies: { name: string; text: string }[]; approvalRules: string | undefined } {
  return {
    schema: files.find((file) => file.name === SCHEMA_FILE)?.text,
    policies: files.filter((file) => file.name.endsWith('.cedar')).map((file) => ({ name: file.name.replace(/\.cedar$/, ''), text: file.text })),
    approvalRules: files.find((file) => file.name === APPROVAL_RULES_FILE)?.text,
  };
}
