import { join } from 'node:path';

/**
 * Makes this process talk to the mesh that `npm start` runs as its operator: the TLS files in
 * <stateDir>/pki, unless the environment already names others (or MAYFLY_INSECURE_DEV=true).
 */
export function useOperatorIdentity(stateDir: string): void {
  const pki = join(stateDir, 'pki');
  process.env['MAYFLY_TLS_CA_FILE'] ??= join(pki, 'ca.pem');
  process.env['MAYFLY_TLS_CERT_FILE'] ??= join(pki, 'operator.pem');
  process.env['MAYFLY_TLS_KEY_FILE'] ??= join(pki, 'operator-key.pem');
}
