/**
 * Which parts of `context` a Cedar policy set can read, found in the policies' JSON form
 * (cedar.policyToJson). Cedar evaluation is a pure function of the request and the entities,
 * so two requests that agree on the principal, action, resource, entities and every context
 * path read here get the same answer — which is what lets the engine remember answers (see
 * cedar-policy-engine.ts) without remembering per task.
 *
 * Conservative by construction: a read is recognised only as a chain of attribute accesses
 * (`.` or `has`) that starts at `context`; `context` anywhere else (compared whole, put in a
 * record, passed to a function) makes the whole context count as read.
 */
export type ContextReads = { readonly whole: true } | { readonly whole: false; readonly paths: readonly (readonly string[])[] };

export const WHOLE_CONTEXT: ContextReads = { whole: true };

/** What the given policies (each cedar.policyToJson's `json`) read of `context`. */
export function contextReads(policies: readonly unknown[]): ContextReads {
  const paths = new Map<string, readonly string[]>();
  let whole = false;
  const walk = (node: unknown): void => {
    if (whole || node === null || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      node.forEach(walk);
      return;
    }
    const path = contextPath(node);
    if (path) {
      paths.set(JSON.stringify(path), path);
      return;
    }
    if ((node as { Var?: unknown }).Var === 'context') {
      whole = true;
      return;
    }
    Object.values(node).forEach(walk);
  };
  policies.forEach(walk);
  return whole ? WHOLE_CONTEXT : { whole: false, paths: [...paths.values()] };
}

/**
 * The attribute path of `context.a.b` (`{".": {left: {".": {left: {Var: "context"}, attr: "a"}}, attr: "b"}}`)
 * or `context.a has b`; undefined for anything else.
 */
function contextPath(node: object): readonly string[] | undefined {
  const access = (node as { '.'?: unknown })['.'] ?? (node as { has?: unknown }).has;
  if (access === null || typeof access !== 'object') return undefined;
  const { left, attr } = access as { left?: unknown; attr?: unknown };
  if (typeof attr !== 'string' || left === null || typeof left !== 'object') return undefined;
  if ((left as { Var?: unknown }).Var === 'context' && Object.keys(left).length === 1) return [attr];
  // Only `.` continues a chain: `has` answers a boolean, which has no attributes.
  if (!('.' in left)) return undefined;
  const inner = contextPath(left);
  return inner ? [...inner, attr] : undefined;
}

/**
 * The values a request's context holds at the paths read, as one string: what, besides the
 * entities, action and resource, decides the answer. Where a path breaks off (an attribute
 * missing, or not a record), the key holds where and the value it broke off at: Cedar's answer
 * (false for `has`, an error naming the attribute otherwise) depends on both.
 */
export function readContextKey(context: Record<string, unknown>, reads: ContextReads): string {
  if (reads.whole) return JSON.stringify(context);
  return JSON.stringify(reads.paths.map((path) => valueAt(context, path)));
}

/** [value] where the path leads somewhere; where it breaks off, how far it got and what it found there. */
function valueAt(context: Record<string, unknown>, path: readonly string[]): [unknown] | { brokeOffAt: number; found: unknown } {
  let at: unknown = context;
  for (const [depth, attr] of path.entries()) {
    if (at === null || typeof at !== 'object' || Array.isArray(at) || !Object.hasOwn(at, attr)) return { brokeOffAt: depth, found: at };
    at = (at as Record<string, unknown>)[attr];
  }
  return [at];
}
