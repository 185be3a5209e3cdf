import { isMayflyError } from '@mayfly/core';
import { callUnary } from '@mayfly/grpc';
import { IssuerKind, RiskTier, TrustedIssuer, Workload, type RegistryServiceClient } from '@mayfly/proto';
import type { DevIssuer } from './dev-issuer.js';
import { DEMO_ORDERS_DB, registerDemoOrdersDb, type DemoOrdersDb } from './demo-orders-db.js';

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

/** The demo's registry entries: who may ever get what, and who owns it. */
const DEMO_WORKLOADS = [
  { ...DEMO, ownerTeam: 'data-platform', ownerContact: 'data-platform@example.com', environment: 'dev', riskTier: 'low', actions: ['read', 'write'], breakGlassAllowed: false },
  { ...DEMO_TOOL, ownerTeam: 'data-platform', ownerContact: 'data-platform@example.com', environment: 'dev', riskTier: 'low', actions: ['read'], breakGlassAllowed: false },
  // The one workload registered for break-glass (an on-call fix in production, demo step 10).
  { ...DEMO_PROD, ownerTeam: 'orders', ownerContact: 'orders@example.com', environment: 'prod', riskTier: 'medium', actions: ['read', 'write'], breakGlassAllowed: true },
] as const;

const RISK_TIERS = { low: RiskTier.RISK_TIER_LOW, medium: RiskTier.RISK_TIER_MEDIUM } as const;

/**
 * Registers the demo issuer (its JWKS inline), workloads and bindings through the running mesh's
 * RegistryService, as an operator would (`npm start`, `mayfly mesh seed`): each change audited
 * with the operator's identity. Idempotent: a workload that exists is updated to the demo's record.
 */
export async function registerDemo(registry: RegistryServiceClient, issuer: DevIssuer, ordersDb?: DemoOrdersDb): Promise<void> {
  const call = { target: 'attestation' as const };
  // Before the workloads whose ceiling names it: a grant on it must find it registered.
  if (ordersDb) await registerDemoOrdersDb(registry, ordersDb);
  await callUnary(registry, registry.putTrustedIssuer, { issuer: TrustedIssuer.fromPartial({ issuer: DEMO.issuer, kind: IssuerKind.ISSUER_KIND_OIDC, audiences: [DEMO.audience], jwksJson: JSON.stringify(issuer.jwks), algorithms: ['ES256'], requireLowS: true }), reason: 'demo seed' }, call);
  for (const entry of DEMO_WORKLOADS) {
    const workload = Workload.fromPartial({ spiffeId: entry.spiffeId, ownerTeam: entry.ownerTeam, ownerContact: entry.ownerContact, environment: entry.environment, riskTier: RISK_TIERS[entry.riskTier], ceiling: [{ resource: DEMO.resource, actions: [...entry.actions] }, ...(entry.spiffeId === DEMO.spiffeId ? [{ resource: DEMO_ORDERS_DB.resource, actions: ['read'] }] : [])], breakGlassAllowed: entry.breakGlassAllowed });
    await callUnary(registry, registry.createWorkload, { workload, reason: 'demo seed' }, call).catch(async (error: unknown) => {
      if (!isMayflyError(error, 'ERR_ALREADY_EXISTS')) throw error;
      await callUnary(registry, registry.updateWorkload, { workload, reason: 'demo seed' }, call);
    });
    await callUnary(registry, registry.putBinding, { binding: { issuer: DEMO.issuer, subject: entry.subject, spiffeId: entry.spiffeId }, reason: 'demo seed' }, call);
  }
}
