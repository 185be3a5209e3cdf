import { randomBytes } from 'node:crypto';
import type { ServiceName } from '@mayfly/config';
import { DATABASE_SERVICES, DEFAULT_ROLE_PREFIX, createDatabase, migrateToLatest, serviceRoleName, type DatabaseService } from '@mayfly/db';

/**
 * The deployment step a real installation runs with `mayfly db migrate`, done by the launcher
 * before any service starts: migrations as the owner, then one login role per service with
 * exactly its privileges and a fresh password. Returns each service's own DATABASE_URL.
 */
export async function prepareMeshDatabase(ownerUrl: string, prefix = DEFAULT_ROLE_PREFIX): Promise<(service: ServiceName) => Record<string, string>> {
  const passwords = Object.fromEntries(DATABASE_SERVICES.map((service) => [service, randomBytes(18).toString('base64url')])) as Record<DatabaseService, string>;
  const db = createDatabase({ url: ownerUrl, maxConnections: 1, applicationName: 'mayfly-migrate' });
  try {
    await migrateToLatest(db, ownerUrl, { prefix, passwords });
  } finally {
    await db.destroy();
  }
  return (service): Record<string, string> => {
    if (!(DATABASE_SERVICES as readonly string[]).includes(service)) return {};
    const url = new URL(ownerUrl);
    url.username = serviceRoleName(prefix, service as DatabaseService);
    url.password = passwords[service as DatabaseService];
    return { DATABASE_URL: url.toString() };
  };
}
