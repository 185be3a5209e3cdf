/** One resource (or resource prefix ending in "*") and the actions a workload may ever be granted on it. */
export interface Entitlement {
  readonly resource: string;
  readonly actions: readonly string[];
}

/**
 * Whether a ceiling entry covers a resource. An entry ending in "*" covers every resource that
 * starts with what precedes the star ("pg:orders-*" covers "pg:orders-eu"); otherwise the match
 * is exact.
 */
export function entitlementCovers(entitlement: Entitlement, resource: string): boolean {
  if (entitlement.resource.endsWith('*')) return resource.startsWith(entitlement.resource.slice(0, -1));
  return entitlement.resource === resource;
}

/** Splits the requested actions into those the ceiling allows on the resource and those it does not. */
export function checkCeiling(
  ceiling: readonly Entitlement[],
  resource: string,
  actions: readonly string[],
): { readonly within: string[]; readonly outside: string[] } {
  const allowed = new Set(ceiling.filter((e) => entitlementCovers(e, resource)).flatMap((e) => e.actions));
  return {
    within: actions.filter((action) => allowed.has(action)),
    outside: actions.filter((action) => !allowed.has(action)),
  };
}
