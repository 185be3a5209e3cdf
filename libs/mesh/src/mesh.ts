import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import {
  DEFAULT_HEALTH_PORTS,
  DEFAULT_METRICS_PORTS,
  healthPortVariable,
  DEFAULT_PORTS,
  metricsPortVariable,
  REVOCATION_STREAM_DEFAULTS,
  REVOCATION_KEYS_PATH,
  AUDIT_HEAD_STREAM_DEFAULTS,
  SERVICE_NAMES,
  addressVariable,
  portVariable,
  type ServiceName,
} from '@mayfly/config';
import { waitForHealthy } from '@mayfly/grpc';
import { ensureDevPki } from '@mayfly/pki';
import { ensureDevEd25519Key, ensureDevKeyring } from './dev-keyring.js';
import { prepareMeshDatabase } from './database-roles.js';
import { ServiceProcess } from './service-process.js';

export type MeshPorts = Record<ServiceName | 'issuance-http' | 'revocation-http', number> & {
  readonly metrics: Record<ServiceName, number>;
  readonly health: Record<ServiceName, number>;
};

export interface MeshOptions {
  /**
   * The database, as its owner: the launcher migrates it and provisions one role per service
   * (see @mayfly/db roles); each service then connects as its own role, never as the owner.
   */
  readonly databaseUrl: string;
  /** Prefix of the services' database roles. Default "mayfly_". */
  readonly databaseRolePrefix?: string;
  readonly natsUrl: string;
  /** NATS URL for the edge verifier, when it has credentials of its own (default: natsUrl). */
  readonly edgeNatsUrl?: string;
  /** NATS URL for issuance, when it has credentials of its own (default: natsUrl). */
  readonly issuanceNatsUrl?: string;
  /** NATS URL for the audit service, when it has credentials of its own (default: natsUrl). */
  readonly auditNatsUrl?: string;
  /** The audit chain's external head (default: @mayfly/config AUDIT_HEAD_STREAM_DEFAULTS). */
  readonly auditHeadStream?: { stream: string; subject: string };
  /** Use these ports (default: Mayfly's default ports), or pick free ones with 'free'. */
  readonly ports?: MeshPorts | 'free';
  readonly revocationStream?: { stream: string; subjectPrefix: string };
  /**
   * Issuance's signing keyring (a directory of <kid>.json keys, see @mayfly/keyring); one
   * active key is generated there if it holds none. Without it, each issuance process signs
   * with a key of its own that lives as long as the process.
   */
  readonly signingKeyringDir?: string;
  /**
   * The audit service's checkpoint key (an Ed25519 private JWK), made if missing. Without it the
   * audit service signs checkpoints with a key of its own that lives as long as the process.
   */
  readonly auditCheckpointKeyFile?: string;
  /**
   * The revocation service's feed key (an Ed25519 private JWK), made if missing: every replica
   * signs the feed with it. Without it each revocation process signs with a key of its own.
   */
  readonly revocationFeedKeyFile?: string;
  /** Further environment for every service (MAYFLY_POLICY_DIR, MAYFLY_LOG_LEVEL, ...). */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * Where the development CA and certificates live (made if missing). Every service gets its own
   * certificate; `operatorEnv` holds an operator identity for tools and tests. Ignored with
   * `insecure`.
   */
  readonly pkiDir: string;
  /** Plaintext gRPC, no caller authentication: development only. */
  readonly insecure?: boolean;
  /** Trust domain of the services' SPIFFE IDs. Default mayfly.local. */
  readonly trustDomain?: string;
  /** Receives every line every service prints. */
  readonly onLine?: (service: ServiceName, line: string) => void;
  readonly startupTimeoutMs?: number;
}

export interface Mesh {
  readonly ports: MeshPorts;
  readonly addresses: Readonly<Record<ServiceName, string>>;
  readonly issuer: string;
  readonly jwksUrl: string;
  /** The environment the services run with (without their own certificates). */
  readonly env: Readonly<Record<string, string>>;
  /** Environment for a tool or test acting as the mesh's operator (TLS files, addresses). */
  readonly operatorEnv: Readonly<Record<string, string>>;
  /** Plaintext grpc.health.v1 endpoints. */
  readonly healthAddresses: Readonly<Record<ServiceName, string>>;
  /** The DATABASE_URL each service connects with (its own role); none for decision. */
  readonly databaseUrls: Readonly<Partial<Record<ServiceName, string>>>;
  readonly processes: ReadonlyMap<ServiceName, ServiceProcess>;
  /** Stops one service (SIGTERM: it drains), e.g. to test what survives its absence. */
  stopService(name: ServiceName, signal?: NodeJS.Signals): Promise<void>;
  /** Starts a stopped service again and waits until it is healthy. */
  startService(name: ServiceName): Promise<void>;
  /**
   * Starts one more process of `service`, configured like the first (same database, stream,
   * keyring, identity) on free ports: a second replica, as a deployment runs them. Stopped with
   * the mesh. `env` adds to or overrides its environment (e.g. where it finds its peers).
   */
  startReplica(service: ServiceName, options?: { env?: Readonly<Record<string, string>> }): Promise<MeshReplica>;
  stop(): Promise<void>;
}

export interface MeshReplica {
  readonly address: string;
  readonly healthAddress: string;
  /** Its Prometheus /metrics endpoint (host:port). */
  readonly metricsAddress: string;
  /** Issuance only: this replica's own JWKS URL (it serves the same issuer). */
  readonly jwksUrl?: string;
  stop(): Promise<void>;
}

/**
 * The options of a mesh run on this machine from a state directory (`npm start`, the bench):
 * the infrastructure found or started, the signing key and development PKI kept in `stateDir`.
 */
export function localMeshOptions(
  infra: { databaseUrl: string; natsUrl: string; edgeNatsUrl: string; issuanceNatsUrl: string; auditNatsUrl: string },
  stateDir: string,
): Pick<MeshOptions, 'databaseUrl' | 'natsUrl' | 'edgeNatsUrl' | 'issuanceNatsUrl' | 'auditNatsUrl' | 'signingKeyringDir' | 'auditCheckpointKeyFile' | 'revocationFeedKeyFile' | 'pkiDir'> {
  return {
    databaseUrl: infra.databaseUrl,
    natsUrl: infra.natsUrl,
    edgeNatsUrl: infra.edgeNatsUrl,
    issuanceNatsUrl: infra.issuanceNatsUrl,
    auditNatsUrl: infra.auditNatsUrl,
    signingKeyringDir: join(stateDir, 'signing-keys'),
    auditCheckpointKeyFile: join(stateDir, 'audit-checkpoint-key.jwk'),
    revocationFeedKeyFile: join(stateDir, 'revocation-feed-key.jwk'),
    pkiDir: join(stateDir, 'pki'),
  };
}

/** A port nothing listens on right now. */
export async function freePort(): Promise<number> {
  return (await freePorts(1))[0]!;
}

/**
 * `count` distinct free ports. All are held open until every one is chosen, so the system
 * cannot hand out the same port twice within one mesh.
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<Server>((resolve, reject) => {
          const server = createServer();
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((server) => {
    const address = server.address();
    return typeof address === 'object' && address ? address.port : 0;
  });
  await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  return ports;
}

async function choosePorts(ports: MeshOptions['ports']): Promise<MeshPorts> {
  if (ports === 'free') {
    const names = Object.keys(DEFAULT_PORTS) as (keyof typeof DEFAULT_PORTS)[];
    const free = await freePorts(names.length + 2 * SERVICE_NAMES.length);
    const take = (): number => free.shift()!;
    return {
      ...(Object.fromEntries(names.map((name) => [name, take()])) as Record<keyof typeof DEFAULT_PORTS, number>),
      metrics: Object.fromEntries(SERVICE_NAMES.map((service) => [service, take()])) as Record<ServiceName, number>,
      health: Object.fromEntries(SERVICE_NAMES.map((service) => [service, take()])) as Record<ServiceName, number>,
    };
  }
  return ports ?? { ...DEFAULT_PORTS, metrics: { ...DEFAULT_METRICS_PORTS }, health: { ...DEFAULT_HEALTH_PORTS } };
}

/**
 * Starts every Mayfly service as its own process and waits until each reports SERVING on
 * grpc.health.v1. Used by `npm start` and by the end-to-end tests alike.
 */
export async function startMesh(options: MeshOptions): Promise<Mesh> {
  const ports = await choosePorts(options.ports);
  const issuer = `${options.insecure ? 'http' : 'https'}://127.0.0.1:${ports['issuance-http']}`;
  const stream = options.revocationStream ?? REVOCATION_STREAM_DEFAULTS;
  const env: Record<string, string> = {
    DATABASE_URL: options.databaseUrl,
    NATS_URL: options.natsUrl,
    MAYFLY_ISSUANCE_HTTP_PORT: String(ports['issuance-http']),
    MAYFLY_REVOCATION_HTTP_PORT: String(ports['revocation-http']),
    MAYFLY_REVOCATION_KEYS_URL: `${options.insecure ? 'http' : 'https'}://127.0.0.1:${ports['revocation-http']}${REVOCATION_KEYS_PATH}`,
    MAYFLY_TOKEN_ISSUER: issuer,
    MAYFLY_REVOCATION_STREAM: stream.stream,
    MAYFLY_REVOCATION_SUBJECT_PREFIX: stream.subjectPrefix,
    MAYFLY_AUDIT_HEAD_STREAM: (options.auditHeadStream ?? AUDIT_HEAD_STREAM_DEFAULTS).stream,
    MAYFLY_AUDIT_HEAD_SUBJECT: (options.auditHeadStream ?? AUDIT_HEAD_STREAM_DEFAULTS).subject,
    ...(options.signingKeyringDir ? { MAYFLY_SIGNING_KEYRING_DIR: ensureDevKeyring(options.signingKeyringDir) } : {}),
    ...(options.auditCheckpointKeyFile ? { MAYFLY_AUDIT_CHECKPOINT_KEY_FILE: ensureDevEd25519Key(options.auditCheckpointKeyFile) } : {}),
    ...(options.revocationFeedKeyFile ? { MAYFLY_REVOCATION_FEED_KEY_FILE: ensureDevEd25519Key(options.revocationFeedKeyFile) } : {}),
    ...options.env,
  };
  const addresses = {} as Record<ServiceName, string>;
  const healthAddresses = {} as Record<ServiceName, string>;
  for (const service of SERVICE_NAMES) {
    env[portVariable(service)] = String(ports[service]);
    env[metricsPortVariable(service)] = String(ports.metrics[service]);
    env[healthPortVariable(service)] = String(ports.health[service]);
    env[addressVariable(service)] = addresses[service] = `127.0.0.1:${ports[service]}`;
    healthAddresses[service] = `127.0.0.1:${ports.health[service]}`;
  }

  // Each service's own identity; everything else in the environment is shared.
  const identityEnv: (name: ServiceName | 'operator') => Record<string, string> = await (async () => {
    if (options.insecure) {
      env['MAYFLY_INSECURE_DEV'] = 'true';
      return () => ({});
    }
    const trustDomain = options.trustDomain ?? 'mayfly.local';
    const pki = await ensureDevPki(options.pkiDir, trustDomain, [...SERVICE_NAMES, 'operator']);
    env['MAYFLY_TRUST_DOMAIN'] = trustDomain;
    env['MAYFLY_TLS_CA_FILE'] = pki.caFile;
    // Workloads' X.509-SVIDs: issuance trusts the workload CA; only attestation holds its key.
    env['MAYFLY_WORKLOAD_CA_FILE'] = pki.workloadCaFile;
    return (name) => ({
      MAYFLY_TLS_CERT_FILE: pki.identity(name).certFile,
      MAYFLY_TLS_KEY_FILE: pki.identity(name).keyFile,
      ...(name === 'attestation' ? { MAYFLY_WORKLOAD_CA_KEY_FILE: pki.workloadCaKeyFile } : {}),
    });
  })();

  // Migrations are a step of their own, before any service starts; services only check them.
  const databaseEnv = await prepareMeshDatabase(options.databaseUrl, options.databaseRolePrefix);

  const onLine = options.onLine ?? (() => undefined);
  const natsEnv = (service: ServiceName): Record<string, string> =>
    service === 'edge-verifier' && options.edgeNatsUrl
      ? { NATS_URL: options.edgeNatsUrl }
      : service === 'issuance' && options.issuanceNatsUrl
        ? { NATS_URL: options.issuanceNatsUrl }
        : service === 'audit' && options.auditNatsUrl
          ? { NATS_URL: options.auditNatsUrl }
          : {};
  const serviceEnv = (service: ServiceName): NodeJS.ProcessEnv => ({ ...process.env, ...env, ...identityEnv(service), ...databaseEnv(service), ...natsEnv(service) });
  const processes = new Map<ServiceName, ServiceProcess>(SERVICE_NAMES.map((service) => [service, new ServiceProcess(service, serviceEnv(service), onLine)]));
  const replicas: ServiceProcess[] = [];
  const timeoutMs = options.startupTimeoutMs ?? 30_000;

  const startProcess = async (child: ServiceProcess, service: ServiceName, healthAddress: string): Promise<void> => {
    child.start();
    let starting = true;
    const exited = new Promise<never>((_, reject) =>
      child.onExit((code) => {
        if (starting) reject(new Error(`${service} exited (code ${code}) while starting:\n${child.lastLines}`));
      }),
    );
    try {
      await Promise.race([waitForHealthy(healthAddress, timeoutMs), exited]);
    } finally {
      starting = false;
    }
  };
  const startOne = (service: ServiceName): Promise<void> => startProcess(processes.get(service)!, service, healthAddresses[service]);

  const startReplica = async (service: ServiceName, replicaOptions: { env?: Readonly<Record<string, string>> } = {}): Promise<MeshReplica> => {
    const [port, healthPort, metricsPort, httpPort] = await freePorts(4);
    const replica = new ServiceProcess(
      service,
      {
        ...serviceEnv(service),
        [portVariable(service)]: String(port),
        [healthPortVariable(service)]: String(healthPort),
        [metricsPortVariable(service)]: String(metricsPort),
        ...(service === 'issuance' ? { MAYFLY_ISSUANCE_HTTP_PORT: String(httpPort) } : {}),
        // A revocation replica serves the same feed keys (the same key file) on a port of its own.
        ...(service === 'revocation' ? { MAYFLY_REVOCATION_HTTP_PORT: String(httpPort) } : {}),
        ...replicaOptions.env,
      },
      onLine,
    );
    replicas.push(replica);
    await startProcess(replica, service, `127.0.0.1:${healthPort}`);
    return {
      address: `127.0.0.1:${port}`,
      healthAddress: `127.0.0.1:${healthPort}`,
      metricsAddress: `127.0.0.1:${metricsPort}`,
      ...(service === 'issuance' ? { jwksUrl: `${options.insecure ? 'http' : 'https'}://127.0.0.1:${httpPort}/.well-known/jwks.json` } : {}),
      stop: () => replica.stop(),
    };
  };

  const stopAll = async (): Promise<void> => {
    await Promise.all(replicas.map((replica) => replica.stop()));
    // Edges and the entry point first, the services they call last.
    for (const service of ['edge-verifier', 'issuance', 'revocation', 'decision', 'attestation', 'audit'] as const) {
      await processes.get(service)?.stop();
    }
  };

  try {
    await Promise.all(SERVICE_NAMES.map(startOne));
  } catch (error) {
    await stopAll();
    throw error;
  }

  return {
    ports,
    addresses,
    issuer,
    jwksUrl: `${issuer}/.well-known/jwks.json`,
    env,
    operatorEnv: { ...env, ...identityEnv('operator') },
    healthAddresses,
    databaseUrls: Object.fromEntries(SERVICE_NAMES.flatMap((service) => Object.values(databaseEnv(service)).map((url) => [service, url]))),
    processes,
    stopService: async (name, signal) => processes.get(name)?.stop(signal),
    startService: startOne,
    startReplica,
    stop: stopAll,
  };
}
