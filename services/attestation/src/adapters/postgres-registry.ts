import { bindingRulesMatching, consumeEvidenceAndFindWorkload, findWorkload, toWorkloadMessage, type Database, type Kysely, type WorkloadRow } from '@mayfly/db';
import { resolveBindingRules } from '../domain/binding-rule.js';
import type { EvidenceUse, RegistryAnswer, WorkloadRegistry } from '../domain/registry.js';

/**
 * Finds the workload evidence proves: a join token names it; else an exact (issuer, subject)
 * binding, looked up in the same statement that records the evidence use; else the issuer's
 * binding rules whose match the claims contain, which must all agree.
 */
export class PostgresWorkloadRegistry implements WorkloadRegistry {
  constructor(private readonly db: Kysely<Database>) {}

  async consumeAndFind(use: EvidenceUse): Promise<RegistryAnswer> {
    const { firstUse, workload } = await consumeEvidenceAndFindWorkload(this.db, use);
    if (use.boundSpiffeId) return answer(firstUse, await findWorkload(this.db, use.boundSpiffeId), 'join token', use.boundSpiffeId);
    if (workload) return answer(firstUse, workload, 'binding');
    const rules = await bindingRulesMatching(this.db, use.issuer, use.claims);
    const bound = resolveBindingRules(
      rules.map((rule) => ({ id: rule.id, match: rule.match, spiffeIdTemplate: rule.spiffe_id_template })),
      use.claims,
    );
    if (!bound) return { firstUse, workload: undefined, disabled: false };
    if ('problem' in bound) return { firstUse, workload: undefined, disabled: false, problem: bound.problem };
    return answer(firstUse, await findWorkload(this.db, bound.spiffeId), `binding rule ${bound.ruleIds.join(', ')}`, bound.spiffeId);
  }
}

function answer(firstUse: boolean, row: WorkloadRow | undefined, boundBy: string, spiffeId?: string): RegistryAnswer {
  if (!row) return { firstUse, workload: undefined, disabled: false, boundBy, ...(spiffeId ? { unregisteredSpiffeId: spiffeId } : {}) };
  return { firstUse, workload: toWorkloadMessage(row), disabled: row.disabled_at != null, boundBy };
}
