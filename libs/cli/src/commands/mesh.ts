import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ServiceName } from '@mayfly/config';
import { DEMO, DEMO_ORDERS_DB, DEV_PEOPLE_DIRECTORY, DevIssuer, approverEnv, startConsoleWithDevProvider, devPeopleIssuer, findDemoOrdersDb, formatLogLine, localMeshOptions, prepareDemoOrdersDb, registerDemo, resolveInfrastructure, runDemo, startMesh, useOperatorIdentity } from '@mayfly/mesh';
import { setupTelemetry, withSpan } from '@mayfly/telemetry';
import type { CommandContext } from '../command.js';
import { withRegistry } from './workloads.js';

const devIssuerKey = (stateDir: string) => join(stateDir, 'dev-issuer.jwk');

/** `mayfly mesh start`: the whole mesh on this machine, on embedded defaults where nothing is configured. */
export async function start(context: CommandContext): Promise<void> {
  const { stateDir } = context;
  const say = (line: string): void => void process.stdout.write(`${line}\n`);
  mkdirSync(stateDir, { recursive: true });
  const infra = await resolveInfrastructure(stateDir);
  say(`mayfly: Node ${process.version}`);
  infra.description.forEach((line) => say(`mayfly: ${line}`));
  const issuer = await DevIssuer.create(DEMO.issuer, devIssuerKey(stateDir));

  // Approvers sign in with the development people issuer (`mayfly people token` mints for them).
  const people = await devPeopleIssuer(stateDir);

  const color = process.stdout.isTTY;
  const index = new Map<ServiceName, number>();
  const mesh = await startMesh({
    ...localMeshOptions(infra, stateDir),
    env: approverEnv(people),
    insecure: process.env['MAYFLY_INSECURE_DEV'] === 'true',
    onLine: (service, line) => {
      if (!index.has(service)) index.set(service, index.size);
      say(formatLogLine(service, index.get(service) ?? 0, line, color));
    },
  }).catch(async (error: unknown) => {
    await infra.stop();
    throw error;
  });
  say(`mayfly: mesh is up: ${Object.entries(mesh.addresses).map(([name, address]) => `${name} ${address}`).join(', ')}`);
  // A database whose grants carry their own login (demo step 11), on the mesh's PostgreSQL.
  const ordersDb = await prepareDemoOrdersDb(infra.databaseUrl, stateDir).then(
    () => findDemoOrdersDb(stateDir),
    (error: unknown) => void say(`mayfly: no demo database with dynamic logins (${(error as Error).message}); demo step 11 is skipped`),
  );
  // The demo's issuer, workloads and bindings go in through the registry API, as an operator's would.
  await withRegistry(context, (registry) => registerDemo(registry, issuer, ordersDb));
  say(`mayfly: registered the demo workloads through RegistryService (${DEMO.spiffeId} and two more; see mayfly workloads list)`);
  if (ordersDb) say(`mayfly: registered ${DEMO_ORDERS_DB.resource} (${ordersDb.address.href}): its grants carry a PostgreSQL login of their own (see mayfly resources list)`);
  say(`mayfly: each service connects to PostgreSQL as its own role (mayfly_<service>); migrations ran first, as the owner`);
  // The console for people, signing in against the development identity provider (the people issuer's key).
  const consoleApp = mesh.env['MAYFLY_INSECURE_DEV'] === 'true'
    ? undefined
    : await startConsoleWithDevProvider({ mesh, pkiDir: join(stateDir, 'pki'), people, onLine: (line) => say(formatLogLine('console', 6, line, color)) }).catch((error: unknown) => {
        say(`mayfly: the console did not start: ${(error as Error).message}`);
        return undefined;
      });
  if (consoleApp) {
    say(`mayfly: console at ${consoleApp.url} (development certificate: your browser will warn); sign in as one of ${Object.entries(DEV_PEOPLE_DIRECTORY).map(([email, person]) => `${email} (${person.groups.join(', ')})`).join(', ')}, any password`);
  }
  say(`mayfly: JWKS at ${mesh.jwksUrl}. Try \`npm run demo\` in another terminal; Ctrl-C stops everything.`);

  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    say('mayfly: stopping');
    await consoleApp?.stop();
    await mesh.stop();
    await infra.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

/** `mayfly mesh demo`: grant → verify → revoke → verify against a running mesh, with timings. */
export async function demo(context: CommandContext): Promise<void> {
  mkdirSync(context.stateDir, { recursive: true });
  useOperatorIdentity(context.stateDir);
  const issuer = await DevIssuer.create(DEMO.issuer, devIssuerKey(context.stateDir));
  const every = context.flags.every === undefined ? undefined : Number(context.flags.every);
  if (every !== undefined && (!Number.isFinite(every) || every < 1)) throw new Error(`--every must be a number of seconds (at least 1), not ${JSON.stringify(context.flags.every)}`);
  // With a trace exporter configured, the demo is a traced workload: each round is one trace
  // rooted here (service mayfly-demo-workload) and continued by every service it reaches.
  const traced = Boolean(process.env['OTEL_TRACES_EXPORTER'] || process.env['MAYFLY_TRACES_FILE']);
  const telemetry = traced ? await setupTelemetry({ service: 'demo-workload', host: '127.0.0.1', metricsPort: 0, env: { ...process.env, OTEL_METRICS_EXPORTER: 'none' } }) : undefined;
  // The approvers' development identity provider, if this state directory has the one npm start trusts.
  const people = existsSync(join(context.stateDir, 'dev-people-issuer.jwk')) ? await devPeopleIssuer(context.stateDir) : undefined;
  const ordersDb = findDemoOrdersDb(context.stateDir) !== undefined;
  const round = (): Promise<void> => withSpan('demo round', { 'mayfly.workload': DEMO.spiffeId }, () => runDemo(issuer, { people, ordersDb }));
  try {
    if (every === undefined) return await round();
    // A demo workload for deployments (compose): grants, verifications and revocations keep
    // flowing, so traces and metrics have something to show. A failed round is reported, not fatal.
    for (;;) {
      await round().catch((error: unknown) => process.stderr.write(`demo round failed: ${(error as Error).message}\n`));
      await new Promise((resolve) => setTimeout(resolve, every * 1000));
    }
  } finally {
    await telemetry?.shutdown(); // flushes the last spans
  }
}

/**
 * `mayfly mesh seed`: registers the demo issuer, workloads and bindings in a running mesh through
 * RegistryService, as an operator (what `npm start` does; compose's demo job runs it first).
 */
export async function seed(context: CommandContext): Promise<void> {
  mkdirSync(context.stateDir, { recursive: true });
  const issuer = await DevIssuer.create(DEMO.issuer, devIssuerKey(context.stateDir));
  // Compose names its example database (MAYFLY_DEMO_ORDERS_DB, MAYFLY_DEMO_ORDERS_ADMIN_FILE).
  const ordersDb = findDemoOrdersDb(context.stateDir);
  await withRegistry(context, (registry) => registerDemo(registry, issuer, ordersDb));
  context.out.say(`registered ${DEMO.spiffeId} and two more through RegistryService (see mayfly workloads list)${ordersDb ? `, and ${DEMO_ORDERS_DB.resource}` : ''}`);
  context.out.document({ seeded: DEMO.spiffeId });
}
