import { resolve } from 'node:path';
import { resolveInfrastructure } from '@mayfly/mesh';

/**
 * End-to-end tests need PostgreSQL and NATS. They use MAYFLY_TEST_DATABASE_URL and NATS_URL when
 * set; otherwise the same chain as `npm start`: the servers on 5432 and 4222, else an embedded
 * PostgreSQL (reusing one `npm start` runs) and nats-server from PATH, stopped afterwards.
 * Each suite then makes its own database and stream on them.
 */
export default async function setup(): Promise<() => Promise<void>> {
  const infra = await resolveInfrastructure(resolve('.mayfly/test-infra'), {
    ...process.env,
    ...(process.env['MAYFLY_TEST_DATABASE_URL'] ? { DATABASE_URL: process.env['MAYFLY_TEST_DATABASE_URL'] } : {}),
  });
  const admin = new URL(infra.databaseUrl);
  admin.pathname = '/postgres';
  process.env['MAYFLY_TEST_DATABASE_URL'] ??= admin.toString();
  process.env['NATS_URL'] ??= infra.natsUrl;
  process.stdout.write(`e2e infrastructure: ${infra.description.join('; ')}\n`);
  return () => infra.stop();
}
