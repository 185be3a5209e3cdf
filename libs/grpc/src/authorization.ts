import type { PeerCertificate } from 'node:tls';
import { componentSpiffeId, type ServiceName } from '@mayfly/config';
import { MayflyError } from '@mayfly/core';
import { spiffeIdsOf, transportSettings } from './credentials.js';

/**
 * Who may call an RPC: a list of Mayfly components (each by its mesh certificate), or
 * 'workloads' for the workload-facing RPCs, which any TLS client may reach because the request
 * itself carries the proof (evidence, or the grant's own token).
 */
export type AllowedCallers = readonly (ServiceName | 'operator' | 'console')[] | 'workloads';

/**
 * Which Mayfly components may call which RPC. Only issuance can cause a signature: it alone may
 * ask for attestation and decisions. An RPC missing from this table is refused for everyone
 * (default deny); a unit test checks that every RPC the proto files define is listed.
 */
export const ALLOWED_CALLERS: Readonly<Record<string, AllowedCallers>> = {
  'mayfly.v1.AttestationService/Attest': ['issuance'],
  'mayfly.v1.AttestationService/IssueSvid': ['issuance'],
  'mayfly.v1.AttestationService/RotateSvid': ['issuance'],
  'mayfly.v1.AttestationService/SetWorkloadEnabled': ['operator'],
  'mayfly.v1.AttestationService/RevokeSvids': ['operator'],
  // The workload registry: operators only (served by attestation).
  'mayfly.v1.RegistryService/CreateWorkload': ['operator'],
  'mayfly.v1.RegistryService/PutResource': ['operator'],
  'mayfly.v1.RegistryService/GetResource': ['operator'],
  'mayfly.v1.RegistryService/ListResources': ['operator'],
  'mayfly.v1.RegistryService/RemoveResource': ['operator'],
  // Issuance too: a person's ShrinkCeiling (the usage review), which issuance checks first.
  'mayfly.v1.RegistryService/UpdateWorkload': ['operator', 'issuance'],
  'mayfly.v1.RegistryService/GetWorkload': ['operator'],
  'mayfly.v1.RegistryService/ListWorkloads': ['operator'],
  'mayfly.v1.RegistryService/PutTrustedIssuer': ['operator'],
  'mayfly.v1.RegistryService/ListTrustedIssuers': ['operator'],
  'mayfly.v1.RegistryService/RemoveTrustedIssuer': ['operator'],
  'mayfly.v1.RegistryService/PutBinding': ['operator'],
  'mayfly.v1.RegistryService/RemoveBinding': ['operator'],
  'mayfly.v1.RegistryService/ListBindings': ['operator'],
  'mayfly.v1.RegistryService/CreateBindingRule': ['operator'],
  'mayfly.v1.RegistryService/RemoveBindingRule': ['operator'],
  'mayfly.v1.RegistryService/ListBindingRules': ['operator'],
  'mayfly.v1.RegistryService/CreateJoinToken': ['operator'],
  'mayfly.v1.RegistryService/ListJoinTokens': ['operator'],
  'mayfly.v1.RegistryService/RemoveJoinToken': ['operator'],
  'mayfly.v1.DecisionService/Decide': ['issuance'],
  'mayfly.v1.DecisionService/DecideBatch': ['issuance'],
  'mayfly.v1.DecisionService/DecideStream': ['issuance'],
  // A dry run for operators: it issues nothing (only Decide, from issuance, leads to a token).
  'mayfly.v1.DecisionService/Explain': ['operator'],
  'mayfly.v1.DecisionService/ValidatePolicies': ['operator'],
  'mayfly.v1.DecisionService/PushPolicies': ['operator'],
  'mayfly.v1.DecisionService/ListPolicyVersions': ['operator'],
  'mayfly.v1.DecisionService/GetPolicyVersion': ['operator'],
  'mayfly.v1.DecisionService/RollbackPolicies': ['operator'],
  'mayfly.v1.AuditService/Record': ['issuance', 'revocation', 'attestation', 'decision', 'edge-verifier'],
  // The console reads the trail for people issuance says are readers (ApprovalService/WhoAmI); it can change nothing.
  'mayfly.v1.AuditService/ListEvents': ['operator', 'console'],
  'mayfly.v1.AuditService/UsageReport': ['operator', 'console'],
  'mayfly.v1.AuditService/ChainStatus': ['operator', 'console'],
  'mayfly.v1.RevocationService/Revoke': ['issuance', 'operator'],
  // An edge consumes a single-use token before accepting it: the first one wins, in PostgreSQL.
  'mayfly.v1.RevocationService/Consume': ['edge-verifier'],
  'mayfly.v1.IssuanceService/StartSession': 'workloads',
  'mayfly.v1.IssuanceService/RequestGrant': 'workloads',
  'mayfly.v1.IssuanceService/RequestGrantStream': 'workloads',
  'mayfly.v1.IssuanceService/CompleteGrant': 'workloads',
  'mayfly.v1.IssuanceService/RenewGrant': 'workloads',
  'mayfly.v1.IssuanceService/CompleteTask': 'workloads',
  'mayfly.v1.IssuanceService/Heartbeat': 'workloads',
  'mayfly.v1.IssuanceService/DelegateGrant': 'workloads',
  'mayfly.v1.IssuanceService/WatchGrant': 'workloads',
  // People: authenticated by their OIDC ID token in the request (listing also by the operator identity).
  'mayfly.v1.ApprovalService/ListPending': 'workloads',
  'mayfly.v1.ApprovalService/Approve': 'workloads',
  'mayfly.v1.ApprovalService/Reject': 'workloads',
  'mayfly.v1.ApprovalService/ListBreakGlass': 'workloads',
  'mayfly.v1.ApprovalService/ReviewBreakGlass': 'workloads',
  'mayfly.v1.ApprovalService/ListGrants': 'workloads',
  'mayfly.v1.ApprovalService/GetGrant': 'workloads',
  'mayfly.v1.ApprovalService/RevokeGrants': 'workloads',
  'mayfly.v1.ApprovalService/WhoAmI': 'workloads',
  'mayfly.v1.ApprovalService/ShrinkCeiling': 'workloads',
  'mayfly.v1.EdgeVerifierService/Verify': 'workloads',
};

/** gRPC services served by a component other than their name says. */
const HOSTED_BY: Readonly<Record<string, ServiceName>> = { Approval: 'issuance', Registry: 'attestation' };

/** The component that serves `method`: "mayfly.v1.EdgeVerifierService/Verify" → "edge-verifier". */
export function componentOfMethod(method: string): ServiceName {
  const name = /\.(\w+)Service\//.exec(method)?.[1] ?? '';
  return HOSTED_BY[name] ?? (name.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase() as ServiceName);
}

/**
 * Callers already let in, by certificate and method. verifiedPeerCertificate keeps one
 * certificate object per connection, so every call after a connection's first skips reading the
 * TLS settings from the environment and parsing the certificate's SAN (measured ~1% of decision's
 * and issuance's CPU per call). Only admissions are remembered: a refusal is worked out again.
 */
const admitted = new WeakMap<PeerCertificate, Map<string, string | undefined>>();

/**
 * Throws unless the call's client certificate names a component allowed to call `method`.
 * Returns the caller's SPIFFE ID from that certificate (undefined when it presented none, which
 * only workload-facing RPCs and insecure development mode allow): the identity audit records
 * name, never a caller-supplied string.
 */
export function authorizeCaller(method: string, peerCertificate: PeerCertificate | undefined): string | undefined {
  const known = peerCertificate ? admitted.get(peerCertificate) : undefined;
  if (known?.has(method)) return known.get(method);
  const caller = admit(method, peerCertificate);
  if (peerCertificate) {
    if (known) known.set(method, caller);
    else admitted.set(peerCertificate, new Map([[method, caller]]));
  }
  return caller;
}

function admit(method: string, peerCertificate: PeerCertificate | undefined): string | undefined {
  const allowed = ALLOWED_CALLERS[method];
  if (!allowed) {
    throw new MayflyError('ERR_CALLER_NOT_ALLOWED', `${method} is not in Mayfly's caller table; nobody may call it`);
  }
  const callers = spiffeIdsOf(peerCertificate);
  if (allowed === 'workloads') return callers[0];
  const settings = transportSettings(true);
  if (settings.mode === 'insecure') return callers[0]; // development only; the service warned at start
  if (callers.length === 0) {
    throw new MayflyError('ERR_CALLER_UNAUTHENTICATED', `${method} needs a client certificate naming the caller's SPIFFE ID`);
  }
  const permitted = new Set(allowed.map((name) => componentSpiffeId(settings.trustDomain, name)));
  const caller = callers.find((id) => permitted.has(id));
  if (!caller) {
    throw new MayflyError('ERR_CALLER_NOT_ALLOWED', `${callers.join(', ')} may not call ${method}; allowed: ${[...permitted].join(', ')}`);
  }
  return caller;
}
