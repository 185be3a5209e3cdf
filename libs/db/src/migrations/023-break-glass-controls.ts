import { sql, type Kysely } from 'kysely';

/**
 * Break-glass is no longer a door any workload may use: a workload may ask for it only when an
 * operator registered it so (`break_glass_allowed`, default false), and a break-glass grant keeps
 * the groups that must review it (the approver groups of the rule its @break_glass("rule")
 * policy names). Grants issued before keep an empty list: their review needs any approver group.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE workloads ADD COLUMN break_glass_allowed boolean NOT NULL DEFAULT false;
    ALTER TABLE grants ADD COLUMN review_groups text[] NOT NULL DEFAULT '{}';
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE grants DROP COLUMN review_groups; ALTER TABLE workloads DROP COLUMN break_glass_allowed`.execute(db);
}
