import type { JWTPayload } from 'jose';
import { pickClaims, type MappedClaims } from '../claims.js';

/**
 * A projected service-account token (audience-bound, expiring) names its namespace, service
 * account and — when kubelet minted it for a pod — the pod and node, under "kubernetes.io".
 * Its sub must agree ("system:serviceaccount:<namespace>:<name>"). A legacy secret-based token
 * has no "kubernetes.io" claim (and no exp) and is refused.
 *
 * That the pod still exists is not checked offline: the token stays valid until exp after its
 * pod is deleted (kubelet stops renewing it). Checking would need the TokenReview API, which is
 * a later option; the short exp of projected tokens bounds it today.
 */
export function kubernetesClaims(payload: JWTPayload): MappedClaims {
  const k8s = payload['kubernetes.io'] as KubernetesClaim | undefined;
  if (!k8s || typeof k8s !== 'object') return { problem: 'not a projected Kubernetes service-account token (no "kubernetes.io" claim); mount a projected token with an audience and expiry' };
  const namespace = k8s.namespace;
  const serviceAccount = k8s.serviceaccount?.name;
  if (typeof namespace !== 'string' || typeof serviceAccount !== 'string') return { problem: 'the "kubernetes.io" claim names no namespace or service account' };
  if (payload.sub !== `system:serviceaccount:${namespace}:${serviceAccount}`) {
    return { problem: `sub "${String(payload.sub)}" does not match the token's namespace and service account (system:serviceaccount:${namespace}:${serviceAccount})` };
  }
  return pickClaims(
    {
      sub: payload.sub,
      namespace,
      service_account: serviceAccount,
      service_account_uid: k8s.serviceaccount?.uid,
      pod_name: k8s.pod?.name,
      pod_uid: k8s.pod?.uid,
      node_name: k8s.node?.name,
    },
    ['sub', 'namespace', 'service_account', 'service_account_uid', 'pod_name', 'pod_uid', 'node_name'],
  );
}

interface KubernetesClaim {
  namespace?: unknown;
  serviceaccount?: { name?: unknown; uid?: unknown };
  pod?: { name?: unknown; uid?: unknown };
  node?: { name?: unknown; uid?: unknown };
}
