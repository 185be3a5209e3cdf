import { resolve } from 'node:path';
import { isListening, resolveInfrastructure } from '@mayfly/mesh';

/**
 * End-to-end tests need PostgreSQL and NATS. They use MAYFLY_TEST_DATABASE_URL and NATS_URL when
 * set; otherwise the same chain as `npm start`: the server on 5432, else an embedded PostgreSQL
 * (reusing one `npm start` runs); the NATS on 4222 — on purpose, unauthenticated: each suite
 * makes its own streams and subjects, and suites that test NATS permissions start a server of
 * their own — else nats-server from PATH, stopped afterwards.
 */
export default async function setup(): Promise<() => Promise<void>> {
  const localNats = !process.env['NATS_URL'] && (await isListening('127.0.0.1', 4222));
  const infra = await resolveInfrastructure(resolve('.mayfly/test-infra'), {
    ...process.env,
    ...(process.env['MAYFLY_TEST_DATABASE_URL'] ? { DATABASE_URL: process.env['MAYFLY_TEST_DATABASE_URL'] } : {}),
    ...(localNats ? { NATS_URL: 'nats://127.0.0.1:4222', MAYFLY_ALLOW_UNAUTHENTICATED_NATS: 'true' } : {}),
  });
  const admin = new URL(infra.databaseUrl);
  admin.pathname = '/postgres';
  process.env['MAYFLY_TEST_DATABASE_URL'] ??= admin.toString();
  process.env['NATS_URL'] ??= infra.natsUrl;
  process.stdout.write(`e2e infrastructure: ${infra.description.join('; ')}\n`);
  return () => infra.stop();
}
