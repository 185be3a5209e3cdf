import type { PeerCertificate } from 'node:tls';
import { componentSpiffeId, type ServiceName } from '@mayfly/config';
import { MayflyError } from '@mayfly/core';
import { spiffeIdsOf, transportSettings } from './credentials.js';

/**
 * Which Mayfly components may call which internal RPC. Only issuance can cause a signature:
 * it alone may ask for attestation and decisions. Methods not listed are workload-facing
 * (issuance, the edge verifier) and authenticate their callers otherwise.
 */
export const ALLOWED_CALLERS: Readonly<Record<string, readonly (ServiceName | 'operator')[]>> = {
  'mayfly.v1.AttestationService/Attest': ['issuance'],
  'mayfly.v1.DecisionService/Decide': ['issuance'],
  'mayfly.v1.AuditService/Record': ['issuance', 'revocation'],
  'mayfly.v1.AuditService/ListEvents': ['operator'],
  'mayfly.v1.RevocationService/Revoke': ['issuance', 'operator'],
};

/** Throws unless the call's client certificate names a component allowed to call `method`. */
export function authorizeCaller(method: string, peerCertificate: PeerCertificate | undefined): void {
  const allowed = ALLOWED_CALLERS[method];
  if (!allowed) return;
  const settings = transportSettings(true);
  if (settings.mode === 'insecure') return; // development only; the service warned at start
  const callers = spiffeIdsOf(peerCertificate);
  if (callers.length === 0) {
    throw new MayflyError('ERR_CALLER_UNAUTHENTICATED', `${method} needs a client certificate naming the caller's SPIFFE ID`);
  }
  const permitted = new Set(allowed.map((name) => componentSpiffeId(settings.trustDomain, name)));
  if (!callers.some((id) => permitted.has(id))) {
    throw new MayflyError('ERR_CALLER_NOT_ALLOWED', `${callers.join(', ')} may not call ${method}; allowed: ${[...permitted].join(', ')}`);
  }
}
