import type { Credential } from '@mayfly/proto';

/**
 * What the audit trail records of a credential that lives outside Mayfly (credential.issued): the
 * system's user and where, never its secret. Undefined for the access token (grant.issued records it).
 */
export function credentialIssuedDetail(credential: Credential): Record<string, unknown> | undefined {
  const login = credential.login;
  if (!login) return undefined;
  return { system: login.system, user: login.user, host: login.host, port: login.port, ...(login.database ? { database: login.database } : {}), validUntil: login.validUntil?.toISOString() };
}
