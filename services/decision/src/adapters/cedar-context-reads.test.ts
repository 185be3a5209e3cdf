import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { describe, expect, it } from 'vitest';
import { contextReads, readContextKey } from './cedar-context-reads.js';

const json = (...texts: string[]): unknown[] =>
  texts.map((text) => {
    const answer = cedar.policyToJson(text);
    if (answer.type === 'failure') throw new Error(answer.errors.map((e) => e.message).join('; '));
    return answer.json;
  });
const pathsOf = (...texts: string[]) => {
  const reads = contextReads(json(...texts));
  return reads.whole ? 'whole' : reads.paths.map((path) => path.join('.')).sort();
};

describe('contextReads', () => {
  it('finds attribute chains from context, in dot, index and has form, once each', () => {
    expect(
      pathsOf(
        'permit (principal, action, resource) when { context.task.kind != "" && context["task"]["kind"] != "x" };',
        'forbid (principal, action, resource) when { context.evidence.claims has ref && context.evidence.claims.ref != "main" };',
        'forbid (principal, action, resource) when { context.delegation.depth > 0 && context.justification == "" } unless { context.breakGlass };',
      ),
    ).toEqual(['breakGlass', 'delegation.depth', 'evidence.claims.ref', 'justification', 'task.kind']);
  });

  it('reads nothing of context when no policy mentions it', () => {
    expect(pathsOf('permit (principal, action, resource) when { principal.environment == "dev" };')).toEqual([]);
  });

  it('finds reads inside records, sets, conditionals and functions', () => {
    expect(pathsOf('permit (principal, action, resource) when { {a: context.task.id}.a == "" && [context.ttlSeconds].contains(1) && (if context.breakGlass then true else false) && context.justification like "x*" };')).toEqual([
      'breakGlass',
      'justification',
      'task.id',
      'ttlSeconds',
    ]);
  });

  it('counts the whole context as read when context is used other than through its attributes', () => {
    expect(pathsOf('permit (principal, action, resource) when { context.task.kind != "" } unless { context == {} };')).toBe('whole');
    expect(pathsOf('permit (principal, action, resource) when { {c: context}.c.task.kind == "" };')).toBe('whole');
    expect(pathsOf('permit (principal, action, resource) when { context has task };')).toEqual(['task']);
  });
});

describe('readContextKey', () => {
  const reads = { whole: false as const, paths: [['task', 'kind'], ['evidence', 'claims', 'ref']] };
  const context = (kind: string, claims: Record<string, string>) => ({ task: { id: String(Math.random()), kind }, evidence: { claims } });

  it('ignores what no policy reads and tells apart what one does', () => {
    expect(readContextKey(context('ci', { ref: 'main' }), reads)).toBe(readContextKey(context('ci', { ref: 'main' }), reads));
    expect(readContextKey(context('ci', { ref: 'main' }), reads)).not.toBe(readContextKey(context('cd', { ref: 'main' }), reads));
    expect(readContextKey(context('ci', { ref: 'main' }), reads)).not.toBe(readContextKey(context('ci', { ref: 'dev' }), reads));
  });

  it('never gives a missing attribute the key of a present one', () => {
    const keys = [context('ci', {}), context('ci', { ref: '' }), context('ci', { ref: '0' }), { task: { kind: 'ci' }, evidence: {} }, { task: { kind: 'ci' } }].map((c) => readContextKey(c, reads));
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('keys the whole context when the policies read it whole', () => {
    expect(readContextKey(context('ci', {}), { whole: true })).not.toBe(readContextKey(context('ci', {}), { whole: true }));
  });
});
