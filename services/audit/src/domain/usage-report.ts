/** Resources and the actions on each. */
export type Entitlements = ReadonlyMap<string, ReadonlySet<string>>;

export interface WorkloadUsageReport {
  readonly spiffeId: string;
  readonly ceiling: Entitlements;
  readonly granted: Entitlements;
  readonly used: Entitlements;
  /** The smallest ceiling covering what was used: only used actions, and only those the ceiling allows. */
  readonly proposedCeiling: Entitlements;
  readonly grants: number;
  readonly uses: number;
}

/** A grant.issued event: whose, on what. A grant.used event: whose, what, how often. */
export interface IssuedFact {
  readonly spiffeId: string;
  readonly resource: string;
  readonly actions: readonly string[];
}
export interface UsedFact {
  readonly spiffeId: string;
  readonly resource: string;
  readonly action: string;
  readonly count: number;
}

function add(into: Map<string, Set<string>>, resource: string, actions: readonly string[]): void {
  const set = into.get(resource) ?? new Set<string>();
  for (const action of actions) if (action) set.add(action);
  into.set(resource, set);
}

/**
 * The usage review, from the registry's ceilings and the audit log's facts: per workload, what it
 * may do, what it was granted, what it did — and a proposal to shrink the ceiling to what it did.
 * Pure.
 */
export function buildUsageReport(input: {
  ceilings: ReadonlyMap<string, readonly { resource: string; actions: readonly string[] }[]>;
  issued: readonly IssuedFact[];
  used: readonly UsedFact[];
}): WorkloadUsageReport[] {
  const workloads = new Map<string, { granted: Map<string, Set<string>>; used: Map<string, Set<string>>; grants: number; uses: number }>();
  const of = (spiffeId: string) => {
    let entry = workloads.get(spiffeId);
    if (!entry) workloads.set(spiffeId, (entry = { granted: new Map(), used: new Map(), grants: 0, uses: 0 }));
    return entry;
  };
  for (const spiffeId of input.ceilings.keys()) of(spiffeId);
  for (const fact of input.issued) {
    const entry = of(fact.spiffeId);
    add(entry.granted, fact.resource, fact.actions);
    entry.grants += 1;
  }
  for (const fact of input.used) {
    const entry = of(fact.spiffeId);
    add(entry.used, fact.resource, [fact.action]);
    entry.uses += fact.count;
  }
  return [...workloads.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([spiffeId, entry]) => {
      const ceiling = new Map<string, Set<string>>();
      for (const entitlement of input.ceilings.get(spiffeId) ?? []) add(ceiling, entitlement.resource, entitlement.actions);
      const proposedCeiling = new Map<string, Set<string>>();
      for (const [resource, actions] of entry.used) {
        const allowed = [...actions].filter((action) => ceiling.get(resource)?.has(action));
        if (allowed.length > 0) add(proposedCeiling, resource, allowed);
      }
      return { spiffeId, ceiling, granted: entry.granted, used: entry.used, proposedCeiling, grants: entry.grants, uses: entry.uses };
    });
}
