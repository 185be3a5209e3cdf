import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DATABASE_SERVICES } from '@mayfly/db';
import { natsAuthorizationConfig } from '@mayfly/bus';
import { AUDIT_HEAD_STREAM_DEFAULTS, CONSOLE_DEFAULT_PORTS, DEFAULT_METRICS_PORTS, DEFAULT_PORTS, REVOCATION_STREAM_DEFAULTS, SERVICE_NAMES, addressVariable } from '@mayfly/config';

// deploy/compose: no container engine runs here, so the file is checked statically — against
// the compose-spec JSON schema (vendored from docker-compose 1.29's package), for the wiring
// Mayfly needs, and its NATS config with nats-server's own config test. .ci/run also runs
// `docker-compose config -q` on it.

const DIR = fileURLToPath(new URL('../../deploy/compose/', import.meta.url));
const raw = readFileSync(`${DIR}compose.yaml`, 'utf8');
/** ${VAR:-default} becomes its default, as compose does with nothing set. */
const interpolated = raw.replace(/\$\{([A-Z0-9_]+)(?::-([^}]*))?\}/g, (_, _name: string, fallback: string | undefined) => fallback ?? '');

interface ComposeService {
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  read_only?: boolean;
  cap_drop?: string[];
  security_opt?: string[];
  healthcheck?: { disable?: boolean; test?: string[] };
  ports?: string[];
  networks?: Record<string, { aliases?: string[] }>;
}
const compose = parse(interpolated, { merge: true }) as { services: Record<string, ComposeService>; volumes: Record<string, unknown> };
const services = compose.services;

describe('deploy/compose/compose.yaml', () => {
  it('is valid against the compose-spec schema', () => {
    const ajv = new Ajv2019({ strict: false, allErrors: true, validateFormats: false });
    // Its $schema names draft 2019-09 by an http:// URI Ajv does not know by that spelling, and
    // it labels subschemas with draft-04 "id"s (labels only: every $ref is #/definitions/...).
    const { $schema: _draft, ...schema } = JSON.parse(readFileSync(`${DIR}compose-spec.schema.json`, 'utf8'), (key, value: unknown) =>
      key === 'id' && typeof value === 'string' ? undefined : value,
    ) as Record<string, unknown>;
    const validate = ajv.compile(schema);
    const valid = validate(parse(interpolated, { merge: true }));
    expect(validate.errors ?? [], JSON.stringify(validate.errors, null, 2)).toEqual([]);
    expect(valid).toBe(true);
    // And the schema does refuse what compose would (a misspelt key, a wrong type).
    const broken = parse(interpolated, { merge: true }) as { services: Record<string, Record<string, unknown>> };
    broken.services['issuance']!['depends-on'] = ['audit'];
    broken.services['audit']!['read_only'] = 'yes please';
    expect(validate(broken)).toBe(false);
  });

  it('runs every Mayfly service hardened, on its default ports, after the init jobs, with its own identity', () => {
    for (const service of SERVICE_NAMES) {
      const definition = services[service];
      expect(definition, service).toBeDefined();
      expect(definition!.command, service).toEqual([service]);
      expect(definition!.read_only, service).toBe(true);
      expect(definition!.cap_drop, service).toEqual(['ALL']);
      expect(definition!.security_opt, service).toContain('no-new-privileges:true');
      expect(definition!.depends_on?.['init-pki']?.condition, service).toBe('service_completed_successfully');
      expect(definition!.depends_on?.['migrate']?.condition, service).toBe('service_completed_successfully');
      expect(definition!.environment?.['MAYFLY_TLS_CERT_FILE'], service).toBe(`/var/lib/mayfly/pki/${service}.pem`);
      expect(definition!.environment?.['MAYFLY_TLS_KEY_FILE'], service).toBe(`/var/lib/mayfly/pki/${service}-key.pem`);
      expect(definition!.volumes, service).toContain('pki:/var/lib/mayfly/pki:ro');
      // Every other service reachable at its compose name and default port.
      for (const other of SERVICE_NAMES) expect(definition!.environment?.[addressVariable(other)], `${service} → ${other}`).toBe(`${other}:${DEFAULT_PORTS[other]}`);
      // Depending on a Mayfly service means waiting until it is healthy (its gRPC health port).
      for (const [dependency, { condition }] of Object.entries(definition!.depends_on ?? {})) {
        if ((SERVICE_NAMES as readonly string[]).includes(dependency)) expect(condition, `${service} → ${dependency}`).toBe('service_healthy');
      }
    }
    expect(services['issuance']!.environment?.['MAYFLY_SIGNING_KEYRING_DIR']).toBe('/var/lib/mayfly/keys');
    expect(services['issuance']!.volumes).toContain('keys:/var/lib/mayfly/keys:ro');
    expect(services['init-keys']!.command).toEqual(['mayfly', 'keys', 'init', '--dir', '/var/lib/mayfly/keys']);
    expect(services['init-pki']!.command).toEqual(['mayfly', 'pki', 'init', '--dir', '/var/lib/mayfly/pki']);
    expect(services['migrate']!.command).toEqual(['mayfly', 'db', 'migrate']);
    // The audit checkpoint key: made by its own job, in a volume only audit mounts.
    expect(services['init-audit-key']!.command).toEqual(['mayfly', 'audit', 'keygen', '--out', '/var/lib/mayfly/audit-key/checkpoint-key.jwk']);
    expect(services['audit']!.environment?.['MAYFLY_AUDIT_CHECKPOINT_KEY_FILE']).toBe('/var/lib/mayfly/audit-key/checkpoint-key.jwk');
    expect(Object.entries(services).filter(([, definition]) => definition.volumes?.some((volume) => volume.startsWith('audit-key:'))).map(([name]) => name).sort()).toEqual(['audit', 'init-audit-key', 'operator']);
    // The operator tool container (profile tools) verifies the chain with it, read-only.
    expect(services['operator']!.volumes).toContain('audit-key:/var/lib/mayfly/audit-key:ro');
    // The revocation feed key likewise: only the revocation service signs the feed; edges fetch its public half.
    expect(services['init-revocation-key']!.command).toEqual(['mayfly', 'revocation', 'keygen', '--out', '/var/lib/mayfly/revocation-key/feed-key.jwk']);
    expect(services['revocation']!.environment?.['MAYFLY_REVOCATION_FEED_KEY_FILE']).toBe('/var/lib/mayfly/revocation-key/feed-key.jwk');
    expect(Object.entries(services).filter(([, definition]) => definition.volumes?.some((volume) => volume.startsWith('revocation-key:'))).map(([name]) => name).sort()).toEqual(['init-revocation-key', 'revocation']);
    expect(services['edge-verifier']!.environment?.['MAYFLY_REVOCATION_KEYS_URL']).toBe('https://revocation:8081/.well-known/revocation-keys.json');
  });

  it('gives each service with a database its own role, and NATS users only to revocation (publish) and edges (read)', () => {
    for (const service of DATABASE_SERVICES) {
      expect(services[service]!.environment?.['DATABASE_URL'], service).toMatch(new RegExp(`^postgres://mayfly_${service}:[^@]+@postgres:5432/mayfly$`));
      expect(services['migrate']!.environment?.[`MAYFLY_DB_PASSWORD_${service.toUpperCase()}`], service).toBeTruthy();
    }
    expect(services['edge-verifier']!.environment?.['DATABASE_URL']).toBeUndefined();
    expect(services['revocation']!.environment?.['NATS_URL']).toMatch(/^nats:\/\/mayfly-revocation:[^@]+@nats:4222$/);
    expect(services['edge-verifier']!.environment?.['NATS_URL']).toMatch(/^nats:\/\/mayfly-edge:[^@]+@nats:4222$/);
    expect(services['issuance']!.environment?.['NATS_URL']).toMatch(/^nats:\/\/mayfly-issuance:[^@]+@nats:4222$/);
    expect(services['audit']!.environment?.['NATS_URL']).toMatch(/^nats:\/\/mayfly-audit:[^@]+@nats:4222$/);
    const natsUsers = Object.entries(services).filter(([, definition]) => definition.environment?.['NATS_URL']).map(([name]) => name);
    expect(natsUsers.sort()).toEqual(['audit', 'edge-verifier', 'issuance', 'operator', 'revocation']);
    // The operator tool container reads the audit head only: as the auditor.
    expect(services['operator']!.environment?.['NATS_URL']).toMatch(/^nats:\/\/mayfly-auditor:[^@]+@nats:4222$/);
  });

  it("has NATS users and permissions exactly as Mayfly's own generator makes them, in a config nats-server accepts", () => {
    const conf = readFileSync(`${DIR}nats.conf`, 'utf8');
    const roles = ['revocation', 'edge', 'issuance', 'audit', 'auditor'] as const;
    let generated = natsAuthorizationConfig(
      Object.fromEntries(roles.map((role) => [role, { user: `mayfly-${role}`, password: role.toUpperCase() }])) as unknown as Parameters<typeof natsAuthorizationConfig>[0],
      { ...REVOCATION_STREAM_DEFAULTS, auditHead: AUDIT_HEAD_STREAM_DEFAULTS },
    );
    for (const role of roles) generated = generated.replace(`"${role.toUpperCase()}"`, `$MAYFLY_NATS_${role.toUpperCase()}_PASSWORD`);
    expect(conf).toContain(generated);
    const natsServer = ['/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server'].find((path) => existsSync(path));
    if (!natsServer) return; // .ci/run makes sure one is installed
    const check = spawnSync(natsServer, ['-c', `${DIR}nats.conf`, '-t'], { env: { MAYFLY_NATS_REVOCATION_PASSWORD: 'a', MAYFLY_NATS_EDGE_PASSWORD: 'b', MAYFLY_NATS_ISSUANCE_PASSWORD: 'c', MAYFLY_NATS_AUDIT_PASSWORD: 'd', MAYFLY_NATS_AUDITOR_PASSWORD: 'e' }, encoding: 'utf8' });
    expect(check.status, check.stderr + check.stdout).toBe(0);
  });

  it('make-env.sh passwords are ones nats-server reads as strings (a password like "5g…" broke nats.conf in the container test)', () => {
    const natsServer = ['/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server'].find((path) => existsSync(path));
    const dir = mkdtempSync(join(tmpdir(), 'make-env-'));
    for (let round = 0; round < 20; round++) {
      // make-env.sh writes .env beside itself: run a copy in a scratch directory.
      copyFileSync(`${DIR}make-env.sh`, join(dir, 'make-env.sh'));
      rmSync(join(dir, '.env'), { force: true });
      const made = spawnSync('bash', [join(dir, 'make-env.sh')], { encoding: 'utf8' });
      expect(made.status, made.stderr).toBe(0);
      const env = Object.fromEntries(readFileSync(join(dir, '.env'), 'utf8').trim().split('\n').map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
      for (const [name, value] of Object.entries(env)) expect(value, name).toMatch(/^[A-Za-z][A-Za-z0-9]{30,}$/);
      if (!natsServer) continue;
      const check = spawnSync(natsServer, ['-c', `${DIR}nats.conf`, '-t'], { env, encoding: 'utf8' });
      expect(check.status, check.stderr + check.stdout).toBe(0);
    }
  });

  it('sends traces to Jaeger, has Prometheus scrape every metrics port, and runs a demo workload', () => {
    for (const service of SERVICE_NAMES) {
      expect(services[service]!.environment?.['OTEL_EXPORTER_OTLP_ENDPOINT'], service).toBe('http://jaeger:4318');
      expect(services[service]!.environment?.['OTEL_TRACES_EXPORTER'], service).toBe('otlp');
    }
    expect(services['jaeger']!.image).toMatch(/^jaegertracing\/all-in-one:/);
    const prometheus = parse(readFileSync(`${DIR}prometheus.yml`, 'utf8')) as { scrape_configs: { static_configs: { targets: string[] }[] }[] };
    const targets = prometheus.scrape_configs.flatMap((job) => job.static_configs.flatMap((config) => config.targets));
    expect(targets.sort()).toEqual([...SERVICE_NAMES.map((service) => `${service}:${DEFAULT_METRICS_PORTS[service]}`), `console:${CONSOLE_DEFAULT_PORTS.metrics}`].sort());
    expect(services['demo']!.command?.join(' ')).toMatch(/mesh seed && exec .* mesh demo --every \d+/);
    expect(services['demo']!.depends_on?.['edge-verifier']?.condition).toBe('service_healthy');
    // It registers the demo through RegistryService, as the operator: no database password.
    expect(services['demo']!.depends_on?.['attestation']?.condition).toBe('service_healthy');
    expect(services['demo']!.environment?.['DATABASE_URL']).toBeUndefined();
  });

  // Issue 25, point 1: the console in compose, signing people in at a development provider that
  // browsers (on the host) and the console (in the network) reach by one name.
  it('runs the console hardened with its own identity and no database, signing people in at the development provider issuance trusts', () => {
    const consoleService = services['console']!;
    expect(consoleService.command).toEqual(['console']);
    expect(consoleService.read_only).toBe(true);
    expect(consoleService.cap_drop).toEqual(['ALL']);
    expect(consoleService.security_opt).toContain('no-new-privileges:true');
    expect(consoleService.environment?.['MAYFLY_TLS_CERT_FILE']).toBe('/var/lib/mayfly/pki/console.pem');
    expect(consoleService.environment?.['DATABASE_URL']).toBeUndefined();
    expect(consoleService.environment?.['NATS_URL']).toBeUndefined();
    expect(consoleService.volumes).toEqual(['pki:/var/lib/mayfly/pki:ro']);
    for (const dependency of ['issuance', 'audit', 'people']) expect(consoleService.depends_on?.[dependency]?.condition, dependency).toBe('service_healthy');
    // The people it signs in are the ones issuance accepts approvals from.
    expect(consoleService.environment?.['MAYFLY_CONSOLE_OIDC_ISSUER']).toBe(services['issuance']!.environment?.['MAYFLY_APPROVER_ISSUER']);
    expect(consoleService.ports).toEqual([`${CONSOLE_DEFAULT_PORTS.https}:${CONSOLE_DEFAULT_PORTS.https}`]);
    expect(consoleService.environment?.['MAYFLY_CONSOLE_URL']).toBe(`https://localhost:${CONSOLE_DEFAULT_PORTS.https}`);
    expect(services['issuance']!.environment?.['MAYFLY_CONSOLE_URL']).toBe(consoleService.environment?.['MAYFLY_CONSOLE_URL']);
    // The provider: one host name for the browser and the console, its port published, the same client secret.
    const people = services['people']!;
    const discovery = new URL(consoleService.environment!['MAYFLY_CONSOLE_OIDC_DISCOVERY_URL']!);
    expect(discovery.hostname.endsWith('.localhost')).toBe(true);
    expect(people.networks?.['default']?.aliases).toContain(discovery.hostname);
    expect(people.ports).toEqual([`${discovery.port}:${discovery.port}`]);
    expect(people.command).toEqual(['mayfly', 'people', 'serve', '--port', discovery.port]);
    expect(raw).toMatch(/MAYFLY_CONSOLE_OIDC_CLIENT_SECRET: \$\{MAYFLY_CONSOLE_OIDC_CLIENT_SECRET:\?/);
    expect(people.environment?.['MAYFLY_CONSOLE_URL']).toBe(consoleService.environment?.['MAYFLY_CONSOLE_URL']);
    expect(people.volumes).toEqual(['pki:/var/lib/mayfly/pki:ro', 'demo:/var/lib/mayfly/demo:ro']);
    expect(people.read_only).toBe(true);
    expect(people.healthcheck?.test?.join(' ')).toContain(`https://127.0.0.1:${discovery.port}/.well-known/openid-configuration`);
  });

  // Issue 20, point 10: compose fell back to passwords printed in this repository.
  it('refuses to start without passwords, and make-env.sh gives it fresh ones', () => {
    if (spawnSync('docker-compose', ['version'], { encoding: 'utf8' }).status !== 0) return; // .ci/run installs it
    const dir = mkdtempSync(join(tmpdir(), 'mayfly-compose-'));
    for (const file of ['compose.yaml', 'nats.conf', 'prometheus.yml', 'make-env.sh', 'orders-db.sql']) copyFileSync(`${DIR}${file}`, join(dir, file));
    const env = { PATH: process.env['PATH'] ?? '' };
    const without = spawnSync('docker-compose', ['-f', join(dir, 'compose.yaml'), 'config', '-q'], { env, encoding: 'utf8' });
    expect(without.status).not.toBe(0);
    expect(without.stderr).toMatch(/POSTGRES_PASSWORD.*is not set - run deploy\/compose\/make-env.sh once/);
    expect(spawnSync('bash', [join(dir, 'make-env.sh')], { encoding: 'utf8' }).status).toBe(0);
    const written = readFileSync(join(dir, '.env'), 'utf8');
    expect(written).toMatch(/^MAYFLY_NATS_AUDITOR_PASSWORD=[A-Za-z0-9_-]{20,}$/m);
    expect(written).not.toMatch(/dev-/);
    expect(statSync(join(dir, '.env')).mode & 0o777).toBe(0o600);
    const withEnv = spawnSync('docker-compose', ['-f', join(dir, 'compose.yaml'), 'config', '-q'], { env, encoding: 'utf8' });
    expect(withEnv.status, withEnv.stderr).toBe(0);
    // Run again, it keeps what is there.
    spawnSync('bash', [join(dir, 'make-env.sh')], { encoding: 'utf8' });
    expect(readFileSync(join(dir, '.env'), 'utf8')).toBe(written);
    // An .env from before orders-db lacks its password: make-env.sh adds it and changes nothing else.
    const older = written.replace(/^MAYFLY_ORDERS_DB_PASSWORD=.*\n/m, '');
    writeFileSync(join(dir, '.env'), older, { mode: 0o600 });
    expect(spawnSync('docker-compose', ['-f', join(dir, 'compose.yaml'), 'config', '-q'], { env, encoding: 'utf8' }).stderr).toMatch(/MAYFLY_ORDERS_DB_PASSWORD.*is not set/);
    expect(spawnSync('bash', [join(dir, 'make-env.sh')], { encoding: 'utf8' }).stdout).toContain('added 1 missing password');
    const updated = readFileSync(join(dir, '.env'), 'utf8');
    expect(updated.startsWith(older)).toBe(true);
    expect(updated).toMatch(/^MAYFLY_ORDERS_DB_PASSWORD=[A-Za-z0-9_-]{20,}$/m);
  });

  // Issue 22, point 11: an example database whose grants carry their own login, its admin
  // credential in a file only the services that use it mount, and the demo registering it.
  it('runs an example database with dynamic logins, its admin credential mounted only where it is used', () => {
    expect(services['orders-db']!.volumes).toContain('./orders-db.sql:/docker-entrypoint-initdb.d/orders-db.sql:ro');
    const sql = readFileSync(`${DIR}orders-db.sql`, 'utf8');
    expect(sql).toMatch(/CREATE ROLE demo_orders_reader NOLOGIN/);
    const file = services['demo']!.environment!['MAYFLY_DEMO_ORDERS_ADMIN_FILE']!;
    expect(services['init-resource-credentials']!.command!.join(' ')).toContain(`umask 077 && printf 'postgres://postgres:%s@orders-db:5432/orders\\n' "$$MAYFLY_ORDERS_DB_PASSWORD" > ${file}`);
    const mounting = Object.entries(services).filter(([, service]) => service.volumes?.some((volume) => volume.startsWith('resource-credentials:'))).map(([name]) => name).sort();
    expect(mounting).toEqual(['attestation', 'init-resource-credentials', 'issuance']);
    for (const name of ['attestation', 'issuance']) {
      expect(services[name]!.volumes).toContain('resource-credentials:/var/lib/mayfly/resources:ro');
      expect(services[name]!.depends_on?.['init-resource-credentials']?.condition).toBe('service_completed_successfully');
    }
    expect(services['demo']!.environment!['MAYFLY_DEMO_ORDERS_DB']).toBe('postgres://orders-db:5432/orders');
    expect(services['demo']!.depends_on?.['orders-db']?.condition).toBe('service_healthy');
    // The image has the directory, owned by its user, so the init job may write into the volume.
    expect(existsSync(fileURLToPath(new URL('../../deploy/image/state/resources/README', import.meta.url)))).toBe(true);
  });
});
