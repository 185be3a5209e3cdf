import { SERVICE_NAMES } from '@mayfly/config';
import { ensureDevPki } from '@mayfly/pki';
import type { CommandContext } from '../command.js';

/**
 * The identities a local stack needs: the services, the console, the operator, and compose's
 * development sign-in provider (`people`).
 */
const IDENTITIES = [...SERVICE_NAMES, 'console', 'operator', 'people'];

/**
 * Host names beyond the identity's own: the browser and the console both reach the development
 * sign-in provider as people.localhost — browsers resolve *.localhost to this machine (where
 * compose publishes its port), and compose's network knows it as an alias of the container.
 */
const EXTRA_DNS_NAMES: Readonly<Record<string, readonly string[]>> = { people: ['people.localhost'] };

/**
 * `mayfly pki init --dir DIR [--trust-domain TD]`: a development CA, a workload CA and one
 * certificate per identity, each also naming its service as a host name (compose reaches
 * issuance's JWKS at https://issuance:8080). Existing files that are still valid are kept, so
 * running it again changes nothing. Production certificates come from your own CA or
 * cert-manager (deploy/README.md).
 */
export async function init(context: CommandContext): Promise<void> {
  const dir = context.flags.dir;
  if (!dir) throw new Error('usage: mayfly pki init --dir DIR [--trust-domain mayfly.local]');
  const trustDomain = context.flags.trustDomain ?? process.env['MAYFLY_TRUST_DOMAIN'] ?? 'mayfly.local';
  const pki = await ensureDevPki(dir, trustDomain, IDENTITIES, { dnsNames: (name) => [name, ...(EXTRA_DNS_NAMES[name] ?? [])] });
  const rows = IDENTITIES.map((name) => ({ identity: pki.identity(name).spiffeId, certificate: pki.identity(name).certFile }));
  context.out.table(rows);
  context.out.say(`CA ${pki.caFile}; workload CA ${pki.workloadCaFile}`);
  context.out.document({ caFile: pki.caFile, workloadCaFile: pki.workloadCaFile, identities: rows });
}
