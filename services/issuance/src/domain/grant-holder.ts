import { MayflyError } from '@mayfly/core';
import type { PresentedCredential } from '../credentials/credential-format.js';
import type { GrantCall } from './grant-flow.js';
import type { SessionCertificate } from './workload-identity.js';

export interface HolderPorts {
  /** Throws ERR_SVID_REJECTED unless the session certificate is still accepted. */
  checkSession(certificate: SessionCertificate): Promise<unknown>;
  /** Throws ERR_SVID_REJECTED unless the workload is still registered and enabled. */
  checkWorkloadEnabled(spiffeId: string): Promise<void>;
}

/**
 * Proof that the caller holds a grant, for every call a grant's token authenticates (renew,
 * heartbeat, delegate, complete): the token must be this grant's and unexpired, and a token
 * bound to a session certificate (cnf.x5t#S256) counts only when presented over mutual TLS with
 * that very certificate — a stolen bound token can neither extend nor end its grant.
 * `action` names the call in the messages ("renew", "complete the grant", ...).
 */
export async function authenticateHolder(presented: PresentedCredential, grantId: string, call: GrantCall, ports: HolderPorts, action = 'renew'): Promise<void> {
  if (presented.grantId !== grantId) throw new MayflyError('ERR_TOKEN_INVALID', `access_token was not issued for this grant_id: ${action} with one of the grant's own tokens`);
  if (presented.expired) throw new MayflyError('ERR_TOKEN_INVALID', `access_token has expired: ${action} before the current token expires, or request a new grant`);
  await requireBinding(presented, call, ports, action);
}

/**
 * A token bound to a session certificate is honoured only over mutual TLS with that
 * certificate, still accepted by the registry; an unbound token only while its workload is
 * registered and enabled.
 */
export async function requireBinding(presented: PresentedCredential, call: GrantCall, ports: HolderPorts, action: string): Promise<void> {
  if (presented.certificateThumbprint === undefined) {
    await ports.checkWorkloadEnabled(presented.spiffeId);
    return;
  }
  if (call.sessionProblem) throw new MayflyError('ERR_SVID_REJECTED', call.sessionProblem);
  if (call.session?.thumbprint !== presented.certificateThumbprint) {
    throw new MayflyError('ERR_TOKEN_INVALID', `access_token is bound to a session certificate (cnf.x5t#S256): ${action} over mutual TLS with that certificate`);
  }
  await ports.checkSession(call.session);
}
