import { bindWorkload, createDatabase, migrateToLatest, upsertTrustedIssuer, upsertWorkload } from '@mayfly/db';
import type { DevIssuer } from './dev-issuer.js';

/** The demo's cast: one trusted development issuer, one CI workload bound to it, and the tool it delegates to. */
export const DEMO = {
  issuer: 'https://dev-issuer.mayfly.local',
  audience: 'mayfly',
  subject: 'system:serviceaccount:demo:report-builder',
  spiffeId: 'spiffe://demo.mayfly.local/ci/report-builder',
  resource: 'pg:orders-db',
} as const;

/** A production workload whose changes wait for two approvers (policy prod-changes-with-approval). */
export const DEMO_PROD = {
  subject: 'system:serviceaccount:demo:orders-writer',
  spiffeId: 'spiffe://demo.mayfly.local/prod/orders-writer',
} as const;

/** A tool the demo workload passes part of its access on to (DelegateGrant). */
export const DEMO_TOOL = {
  subject: 'system:serviceaccount:demo:report-tool',
  spiffeId: 'spiffe://demo.mayfly.local/agents/report-tool',
} as const;

/** Registers the demo issuer (with its JWKS inline) and workload. Idempotent. */
export async function seedDemo(databaseUrl: string, issuer: DevIssuer): Promise<void> {
  const db = createDatabase({ url: databaseUrl, maxConnections: 1 });
  try {
    await migrateToLatest(db, databaseUrl);
    await upsertTrustedIssuer(db, { issuer: DEMO.issuer, audience: DEMO.audience, jwks: issuer.jwks, algorithms: ['ES256'] });
    await upsertWorkload(db, {
      spiffeId: DEMO.spiffeId,
      ownerTeam: 'data-platform',
      ownerContact: 'data-platform@example.com',
      environment: 'dev',
      riskTier: 'low',
      ceiling: [{ resource: DEMO.resource, actions: ['read', 'write'] }],
    });
    await bindWorkload(db, { issuer: DEMO.issuer, subject: DEMO.subject, spiffeId: DEMO.spiffeId });
    await upsertWorkload(db, {
      spiffeId: DEMO_TOOL.spiffeId,
      ownerTeam: 'data-platform',
      ownerContact: 'data-platform@example.com',
      environment: 'dev',
      riskTier: 'low',
      ceiling: [{ resource: DEMO.resource, actions: ['read'] }],
    });
    await bindWorkload(db, { issuer: DEMO.issuer, subject: DEMO_TOOL.subject, spiffeId: DEMO_TOOL.spiffeId });
    await upsertWorkload(db, {
      spiffeId: DEMO_PROD.spiffeId,
      ownerTeam: 'orders',
      ownerContact: 'orders@example.com',
      environment: 'prod',
      riskTier: 'medium',
      ceiling: [{ resource: DEMO.resource, actions: ['read', 'write'] }],
    });
    await bindWorkload(db, { issuer: DEMO.issuer, subject: DEMO_PROD.subject, spiffeId: DEMO_PROD.spiffeId });
  } finally {
    await db.destroy();
  }
}
