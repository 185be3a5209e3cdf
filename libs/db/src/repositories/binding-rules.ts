import { sql, type Kysely } from 'kysely';
import type { BindingRuleRow, Database } from '../schema.js';

export interface NewBindingRule {
  id: string;
  issuer: string;
  match: Record<string, string>;
  spiffeIdTemplate: string;
  description: string;
  createdBy: string;
}

export async function insertBindingRule(db: Kysely<Database>, rule: NewBindingRule): Promise<BindingRuleRow> {
  return db
    .insertInto('binding_rules')
    .values({ id: rule.id, issuer: rule.issuer, match: JSON.stringify(rule.match), spiffe_id_template: rule.spiffeIdTemplate, description: rule.description, created_by: rule.createdBy })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Removes a rule; returns it, or undefined if there was none. */
export async function deleteBindingRule(db: Kysely<Database>, id: string): Promise<BindingRuleRow | undefined> {
  return db.deleteFrom('binding_rules').where('id', '=', id).returningAll().executeTakeFirst();
}

/** Rules, oldest first; only one issuer's when given. */
export async function listBindingRules(db: Kysely<Database>, issuer: string | undefined): Promise<BindingRuleRow[]> {
  let query = db.selectFrom('binding_rules').selectAll();
  if (issuer) query = query.where('issuer', '=', issuer);
  return query.orderBy('issuer').orderBy('created_at').orderBy('id').execute();
}

/** The rules of one issuer whose every match value the claims carry (JSON containment). */
export async function bindingRulesMatching(db: Kysely<Database>, issuer: string, claims: Readonly<Record<string, string>>): Promise<BindingRuleRow[]> {
  return db
    .selectFrom('binding_rules')
    .selectAll()
    .where('issuer', '=', issuer)
    .where(sql<boolean>`${JSON.stringify(claims)}::jsonb @> match`)
    .orderBy('created_at')
    .execute();
}
