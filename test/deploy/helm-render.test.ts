import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { natsAuthorizationConfig } from '@mayfly/bus';
import { CONSOLE_DEFAULT_PORTS, DEFAULT_HEALTH_PORTS, DEFAULT_PORTS, SERVICE_NAMES, type ServiceName } from '@mayfly/config';
import { ALLOWED_CALLERS, componentOfMethod } from '@mayfly/grpc';

// The Helm chart rendered, and the manifests checked as Kubernetes would receive them. There is
// no helm binary here (nor a download), so test/deploy/helm-render (Go text/template + sprig, the
// engine Helm is built on) renders it; .ci/run installs Go and sprig from Debian. Without Go this
// suite is skipped, and says so.

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CHART = `${ROOT}deploy/helm/mayfly`;
const GO_ENV = { ...process.env, GO111MODULE: 'off', GOPATH: '/usr/share/gocode', GOCACHE: join(tmpdir(), 'mayfly-go-cache') };
const hasGo = spawnSync('go', ['version'], { env: GO_ENV }).status === 0;
let renderer = '';

type Manifest = { kind: string; metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> }; spec: Record<string, any> };

function render(valuesFile?: string): Manifest[] {
  return renderWithNotes(valuesFile).manifests;
}

/** The manifests, and NOTES.txt as Helm would print it after an install (the renderer writes it to stderr). */
function renderWithNotes(valuesFile?: string): { manifests: Manifest[]; notes: string } {
  const result = spawnSync(renderer, [CHART, ...(valuesFile ? [valuesFile] : [])], { encoding: 'utf8' });
  expect(result.status, result.stderr).toBe(0);
  const documents = parseAllDocuments(result.stdout);
  for (const document of documents) expect(document.errors.map(String), 'rendered YAML').toEqual([]);
  const manifests = documents.map((document) => document.toJS() as Manifest | null).filter((manifest): manifest is Manifest => manifest !== null);
  return { manifests, notes: result.stderr };
}

type Pod = { containers: { env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[]; volumeMounts?: { name: string; mountPath: string }[] }[]; volumes?: { name: string; secret?: { secretName: string; items?: { key: string }[] } }[] };

/** Every pod spec the release creates: Deployments, DaemonSets, Jobs, and bare Pods (helm test). */
const podsOf = (manifests: Manifest[]): { name: string; pod: Pod }[] =>
  manifests.flatMap((m) => (m.kind === 'Pod' ? [{ name: `Pod/${m.metadata.name}`, pod: m.spec as Pod }] : m.spec?.['template']?.spec ? [{ name: `${m.kind}/${m.metadata.name}`, pod: m.spec['template'].spec as Pod }] : []));

/**
 * Every Secret a pod needs and the keys it reads from it: secretKeyRef keys, projected items, and
 * for a whole-Secret mount the files the container's environment points into it.
 */
function requiredSecrets(manifests: Manifest[]): Map<string, Set<string>> {
  const required = new Map<string, Set<string>>();
  const need = (secret: string, key?: string) => {
    const keys = required.get(secret) ?? new Set<string>();
    if (key) keys.add(key);
    required.set(secret, keys);
  };
  for (const { pod } of podsOf(manifests)) {
    for (const container of pod.containers) {
      for (const variable of container.env ?? []) if (variable.valueFrom?.secretKeyRef) need(variable.valueFrom.secretKeyRef.name, variable.valueFrom.secretKeyRef.key);
      for (const mount of container.volumeMounts ?? []) {
        const secret = pod.volumes?.find((volume) => volume.name === mount.name)?.secret;
        if (!secret) continue;
        if (secret.items) secret.items.forEach((item) => need(secret.secretName, item.key));
        else {
          need(secret.secretName);
          for (const variable of container.env ?? []) if (variable.value?.startsWith(`${mount.mountPath}/`)) need(secret.secretName, variable.value.slice(mount.mountPath.length + 1));
        }
      }
    }
  }
  return required;
}

const VALUES_FILES = [undefined, ...readdirSync(`${CHART}/ci`).map((file) => `${CHART}/ci/${file}`)];
const label = (file: string | undefined): string => (file ? file.slice(CHART.length + 1) : 'values.yaml');
/** The component serving a method (ApprovalService is served by issuance). */
const serviceOf = (method: string): ServiceName => componentOfMethod(method);
/** Each component's main port (the console's is HTTPS, named https; the others' gRPC) and health port. */
const MAIN_PORT: Record<string, { name: string; port: number; health: number }> = {
  ...Object.fromEntries(SERVICE_NAMES.map((service) => [service, { name: 'grpc', port: DEFAULT_PORTS[service], health: DEFAULT_HEALTH_PORTS[service] }])),
  console: { name: 'https', port: CONSOLE_DEFAULT_PORTS.https, health: CONSOLE_DEFAULT_PORTS.health },
};
const componentOf = (manifest: Manifest): string => manifest.metadata.labels?.['app.kubernetes.io/component'] ?? '';
const matches = (selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean =>
  selector !== undefined && Object.entries(selector).every(([key, value]) => labels?.[key] === value);

describe.skipIf(!hasGo)('deploy/helm/mayfly rendered (Go text/template + sprig; skipped: no Go toolchain)', () => {
  beforeAll(() => {
    renderer = join(mkdtempSync(join(tmpdir(), 'helm-render-')), 'helm-render');
    const build = spawnSync('go', ['build', '-o', renderer, `${ROOT}test/deploy/helm-render/main.go`], { env: GO_ENV, encoding: 'utf8', cwd: tmpdir() });
    expect(build.status, build.stderr).toBe(0);
  }, 120_000);

  for (const valuesFile of VALUES_FILES) {
    describe(label(valuesFile), () => {
      it('every pod is hardened, sized, probed on its health port, and wired to what exists', () => {
        const manifests = render(valuesFile);
        const accounts = new Set(manifests.filter((m) => m.kind === 'ServiceAccount').map((m) => m.metadata.name));
        const workloads = manifests.filter((m) => ['Deployment', 'DaemonSet', 'Job'].includes(m.kind));
        expect(workloads.length).toBeGreaterThan(0);
        for (const workload of workloads) {
          const name = `${workload.kind}/${workload.metadata.name}`;
          const pod = workload.spec['template'].spec;
          expect(pod.securityContext?.runAsNonRoot, name).toBe(true);
          expect(pod.automountServiceAccountToken, name).toBe(false);
          if (workload.kind !== 'Job') expect(accounts.has(pod.serviceAccountName), `${name}: ServiceAccount ${pod.serviceAccountName}`).toBe(true);
          const volumes = new Set((pod.volumes ?? []).map((volume: { name: string }) => volume.name));
          for (const container of pod.containers) {
            const where = `${name}/${container.name}`;
            for (const kind of ['requests', 'limits']) for (const resource of ['cpu', 'memory']) expect(container.resources?.[kind]?.[resource], `${where} ${kind}.${resource}`).toBeDefined();
            expect(container.securityContext, where).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
            expect(container.securityContext.capabilities.drop, where).toContain('ALL');
            const names = (container.env ?? []).map((variable: { name: string }) => variable.name);
            expect(new Set(names).size, `${where}: duplicate environment variables`).toBe(names.length);
            (container.env ?? []).forEach((variable: { name: string; value?: string }, index: number) => {
              for (const [, reference] of (variable.value ?? '').matchAll(/\$\(([A-Z0-9_]+)\)/g)) expect(names.slice(0, index), `${where}: ${variable.name} uses $(${reference})`).toContain(reference);
            });
            for (const mount of container.volumeMounts ?? []) {
              expect(volumes.has(mount.name), `${where}: volume ${mount.name}`).toBe(true);
              expect(mount.subPath, `${where}: subPath mounts never see rotated files`).toBeUndefined();
            }
            if (workload.kind === 'Job') continue;
            const main = MAIN_PORT[componentOf(workload)]!;
            const health = container.ports.find((port: { name: string }) => port.name === 'health')?.containerPort;
            expect(health, where).toBe(main.health);
            expect(container.ports.find((port: { name: string }) => port.name === main.name)?.containerPort, where).toBe(main.port);
            for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) expect(container[probe]?.grpc?.port, `${where} ${probe}`).toBe(health);
          }
        }
      });

      it('Services select pods that exist, on ports they name; autoscalers target Deployments without fixed replicas', () => {
        const manifests = render(valuesFile);
        const pods = manifests.filter((m) => ['Deployment', 'DaemonSet'].includes(m.kind)).map((m) => m.spec['template']);
        for (const service of manifests.filter((m) => m.kind === 'Service')) {
          const pod = pods.find((template) => matches(service.spec['selector'], template.metadata.labels));
          expect(pod, `Service ${service.metadata.name} selects no pod`).toBeDefined();
          const portNames = pod.spec.containers.flatMap((container: { ports: { name: string }[] }) => container.ports.map((port) => port.name));
          for (const port of service.spec['ports']) expect(portNames, `Service ${service.metadata.name}`).toContain(port.targetPort);
        }
        for (const hpa of manifests.filter((m) => m.kind === 'HorizontalPodAutoscaler')) {
          const target = manifests.find((m) => m.kind === 'Deployment' && m.metadata.name === hpa.spec['scaleTargetRef'].name);
          expect(target, `HPA ${hpa.metadata.name}`).toBeDefined();
          expect(target!.spec['replicas'], `Deployment ${target!.metadata.name} is autoscaled: replicas must be left to the HPA`).toBeUndefined();
        }
        // Every peer address a container is given names a rendered Service and one of its ports.
        const services = manifests.filter((m) => m.kind === 'Service');
        for (const workload of manifests.filter((m) => ['Deployment', 'DaemonSet'].includes(m.kind))) {
          for (const variable of workload.spec['template'].spec.containers.flatMap((container: { env: { name: string; value?: string }[] }) => container.env)) {
            if (!variable.name.endsWith('_ADDR')) continue;
            const [, host, port] = /^dns:\/\/\/([^.]+)\.mayfly\.svc:(\d+)$/.exec(variable.value ?? '') ?? [];
            const service = services.find((candidate) => candidate.metadata.name === host);
            expect(service, `${workload.metadata.name}: ${variable.name}=${variable.value}`).toBeDefined();
            expect(service!.spec['clusterIP'], `${variable.name}: a headless Service, so that calls spread over pods`).toBe('None');
            expect(service!.spec['ports'].map((p: { port: number }) => p.port), variable.name).toContain(Number(port));
          }
        }
        for (const pdb of manifests.filter((m) => m.kind === 'PodDisruptionBudget')) {
          expect(pods.some((template) => matches(pdb.spec['selector'].matchLabels, template.metadata.labels)), `PDB ${pdb.metadata.name}`).toBe(true);
        }
        const job = manifests.find((m) => m.kind === 'Job');
        expect(job?.metadata.annotations?.['helm.sh/hook']).toBe('pre-install,pre-upgrade');
        expect(job?.spec['template'].spec.containers[0].args.slice(0, 3)).toEqual(['mayfly', 'db', 'migrate']);
      });

      it('NetworkPolicies allow exactly the call graph: every caller in, nothing else from Mayfly, every callee out', () => {
        const manifests = render(valuesFile);
        const policies = manifests.filter((m) => m.kind === 'NetworkPolicy');
        const workloads = manifests.filter((m) => ['Deployment', 'DaemonSet'].includes(m.kind));
        if (policies.length === 0) {
          expect(label(valuesFile), 'only a values file that turns them off has no NetworkPolicy').toBe('ci/minimal-values.yaml');
          return;
        }
        const policyOf = (component: string): Manifest | undefined =>
          policies.find((policy) => policy.spec['podSelector'].matchLabels['app.kubernetes.io/component'] === component);
        for (const workload of workloads) {
          const policy = policyOf(componentOf(workload));
          expect(policy, `${workload.metadata.name} has a NetworkPolicy`).toBeDefined();
          expect(policy!.spec['policyTypes']).toEqual(['Ingress', 'Egress']);
        }
        const deployed = new Set(workloads.map(componentOf));
        const callers = new Map<string, Set<string>>();
        for (const [method, allowed] of Object.entries(ALLOWED_CALLERS)) {
          if (allowed === 'workloads') continue;
          for (const caller of allowed) if (caller !== 'operator') callers.set(serviceOf(method), (callers.get(serviceOf(method)) ?? new Set()).add(caller));
        }
        for (const component of deployed) {
          const ingressFrom = new Set<string>(
            policyOf(component)!.spec['ingress'].flatMap((rule: { from?: { podSelector?: { matchLabels?: Record<string, string> } }[] }) =>
              (rule.from ?? []).map((peer) => peer.podSelector?.matchLabels?.['app.kubernetes.io/component']).filter((from): from is string => from !== undefined && from in MAIN_PORT),
            ),
          );
          const expected = new Set([...(callers.get(component) ?? [])].filter((caller) => deployed.has(caller)));
          if (component === 'issuance' && deployed.has('edge-verifier')) expected.add('edge-verifier'); // the JWKS
          if (component === 'issuance' && deployed.has('console')) expected.add('console'); // ApprovalService: any mesh identity, as the signed-in person
          expect([...ingressFrom].sort(), `${component} ingress from Mayfly components`).toEqual([...expected].sort());
          for (const caller of expected) {
            if (component === 'issuance' && caller === 'edge-verifier') continue;
            const egress = policyOf(caller)!.spec['egress'] as { to?: { podSelector?: { matchLabels?: Record<string, string> } }[]; ports: { port: number }[] }[];
            expect(
              egress.some((rule) => rule.to?.some((peer) => peer.podSelector?.matchLabels?.['app.kubernetes.io/component'] === component) && rule.ports.some((port) => port.port === MAIN_PORT[component]!.port)),
              `${caller} egress to ${component}`,
            ).toBe(true);
          }
        }
      });
    });
  }

  it('with cert-manager, every component gets a Certificate for its SPIFFE ID, written to the Secret its pods mount', () => {
    const manifests = render(`${CHART}/ci/cert-manager-values.yaml`);
    const certificates = manifests.filter((m) => m.kind === 'Certificate');
    const workloads = manifests.filter((m) => ['Deployment', 'DaemonSet'].includes(m.kind));
    expect(certificates.map(componentOf).sort()).toEqual(workloads.map(componentOf).sort());
    for (const workload of workloads) {
      const component = componentOf(workload);
      const secret = workload.spec['template'].spec.volumes.find((volume: { name: string }) => volume.name === 'tls').secret.secretName;
      const certificate = certificates.find((c) => componentOf(c) === component)!;
      expect(certificate.spec['secretName']).toBe(secret);
      expect(certificate.spec['uris']).toEqual([`spiffe://mayfly.local/mayfly/${component}`]);
      expect(certificate.spec['usages']).toEqual(expect.arrayContaining(['server auth', 'client auth']));
    }
    expect(render().some((m) => m.kind === 'Certificate')).toBe(false);
  });

  it("renders Mayfly's NATS users and permissions for the NATS server exactly as libs/bus generates them, in a config nats-server accepts", () => {
    for (const valuesFile of VALUES_FILES) {
      const values = parse(readFileSync(valuesFile ?? `${CHART}/values.yaml`, 'utf8')) as { nats?: { stream?: string; subjectPrefix?: string; auditHeadStream?: string; auditHeadSubject?: string } };
      const stream = {
        stream: values.nats?.stream ?? 'MAYFLY_REVOCATIONS',
        subjectPrefix: values.nats?.subjectPrefix ?? 'mayfly.revocations',
        auditHead: { stream: values.nats?.auditHeadStream ?? 'MAYFLY_AUDIT_HEAD', subject: values.nats?.auditHeadSubject ?? 'mayfly.audit.head' },
      };
      const configMap = render(valuesFile).find((m) => m.kind === 'ConfigMap' && m.metadata.name === 'mayfly-nats-authorization');
      const roles = ['revocation', 'edge', 'issuance', 'audit', 'auditor'] as const;
      let expected = natsAuthorizationConfig(Object.fromEntries(roles.map((role) => [role, { user: `mayfly-${role}`, password: role.toUpperCase() }])) as unknown as Parameters<typeof natsAuthorizationConfig>[0], stream);
      for (const role of roles) expected = expected.replace(`"${role.toUpperCase()}"`, `$MAYFLY_NATS_${role.toUpperCase()}_PASSWORD`);
      expect((configMap as unknown as { data: Record<string, string> }).data['mayfly-authorization.conf'], label(valuesFile)).toBe(expected);
      const natsServer = ['/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server'].find((path) => existsSync(path));
      if (!natsServer) continue;
      const conf = join(mkdtempSync(join(tmpdir(), 'nats-conf-')), 'nats.conf');
      writeFileSync(conf, `listen: 127.0.0.1:4222\njetstream {}\n${expected}`);
      const check = spawnSync(natsServer, ['-c', conf, '-t'], { env: { MAYFLY_NATS_REVOCATION_PASSWORD: 'a', MAYFLY_NATS_EDGE_PASSWORD: 'b', MAYFLY_NATS_ISSUANCE_PASSWORD: 'c', MAYFLY_NATS_AUDIT_PASSWORD: 'd', MAYFLY_NATS_AUDITOR_PASSWORD: 'e' }, encoding: 'utf8' });
      expect(check.status, check.stderr + check.stdout).toBe(0);
    }
  });

  it("passes the session settings to attestation, and only to it", () => {
    const values = parse(readFileSync(`${CHART}/values.yaml`, 'utf8')) as { sessions: { svidMaxSeconds: number; joinTokenSessionSeconds: number } };
    const env = (name: string) =>
      Object.fromEntries(
        (render().find((m) => m.kind === 'Deployment' && m.metadata.name === `mayfly-${name}`)!.spec['template'].spec.containers[0].env as { name: string; value?: string }[]).map((v) => [v.name, v.value]),
      );
    expect(env('attestation')).toMatchObject({ MAYFLY_SVID_MAX_SECONDS: String(values.sessions.svidMaxSeconds), MAYFLY_JOIN_TOKEN_SESSION_SECONDS: String(values.sessions.joinTokenSessionSeconds) });
    expect(env('issuance')['MAYFLY_JOIN_TOKEN_SESSION_SECONDS']).toBeUndefined();
  });

  // Issue 22, point 11: resources' admin credentials come from Secrets, into the two services that use them only.
  it('mounts each resource admin credential Secret into attestation and issuance only, and lets them reach the system', () => {
    const manifests = render(`${CHART}/ci/resources-values.yaml`);
    const pod = (component: string) => manifests.find((m) => m.kind === 'Deployment' && componentOf(m) === component)!.spec['template'].spec;
    for (const component of ['attestation', 'issuance']) {
      const spec = pod(component);
      expect(spec.containers[0].volumeMounts).toEqual(expect.arrayContaining([
        { name: 'resource-orders-db', mountPath: '/var/run/mayfly/resources/orders-db', readOnly: true },
        { name: 'resource-sessions-cache', mountPath: '/var/run/mayfly/resources/sessions-cache', readOnly: true },
      ]));
      // As read-only as the pod's own TLS Secret (the chart writes 0400 for both).
      const mode = spec.volumes.find((volume: { name: string }) => volume.name === 'tls').secret.defaultMode;
      expect(spec.volumes).toEqual(expect.arrayContaining([
        { name: 'resource-orders-db', secret: { secretName: 'orders-db-admin', defaultMode: mode, items: [{ key: 'url', path: 'url' }] } },
        { name: 'resource-sessions-cache', secret: { secretName: 'sessions-cache-admin', defaultMode: mode, items: [{ key: 'url', path: 'url' }] } },
      ]));
      const egress = manifests.find((m) => m.kind === 'NetworkPolicy' && componentOf(m) === component)!.spec['egress'] as { to?: unknown[]; ports: { port: number }[] }[];
      expect(egress).toContainEqual({ to: [{ ipBlock: { cidr: '10.20.0.0/16' } }], ports: [{ port: 5432, protocol: 'TCP' }] });
      expect(egress).toContainEqual({ ports: [{ port: 6379, protocol: 'TCP' }] });
    }
    for (const component of ['decision', 'revocation', 'audit']) {
      expect(JSON.stringify(pod(component)), component).not.toContain('-admin');
      const egress = manifests.find((m) => m.kind === 'NetworkPolicy' && componentOf(m) === component)!.spec['egress'] as { ports: { port: number }[] }[];
      expect(egress.flatMap((rule) => rule.ports.map((port) => port.port)), component).not.toContain(6379);
    }
    // Without any, nothing is mounted.
    expect(JSON.stringify(render())).not.toContain('/var/run/mayfly/resources');
  });

  // Issue 25, point 1: the console in the chart — off by default, and when on, wired to the
  // people's provider and to exactly the services it calls.
  it('the console: nothing by default; on, one replica with its own identity, the provider, no database, and only issuance and audit reachable', () => {
    expect(render().filter((m) => componentOf(m) === 'console')).toEqual([]);
    const manifests = render(`${CHART}/ci/console-values.yaml`);
    const deployment = manifests.find((m) => m.kind === 'Deployment' && componentOf(m) === 'console')!;
    expect(deployment, 'a console Deployment').toBeDefined();
    expect(deployment.spec['replicas']).toBe(1); // sessions live in memory
    const container = deployment.spec['template'].spec.containers[0];
    expect(container.args).toEqual(['console']);
    const env = Object.fromEntries((container.env as { name: string; value?: string; valueFrom?: unknown }[]).map((variable) => [variable.name, variable.value ?? variable.valueFrom]));
    expect(env).toMatchObject({
      MAYFLY_CONSOLE_URL: 'https://mayfly-console.example.com',
      // The people it signs in are the ones issuance accepts approvals from.
      MAYFLY_CONSOLE_OIDC_ISSUER: 'https://login.example.com',
      MAYFLY_CONSOLE_OIDC_CLIENT_ID: 'mayfly-console',
      MAYFLY_CONSOLE_OIDC_CLIENT_SECRET: { secretKeyRef: { name: 'mayfly-console-oidc', key: 'client-secret' } },
      MAYFLY_CONSOLE_OIDC_CA_FILE: '/var/run/mayfly/oidc-ca/ca.crt',
      MAYFLY_CONSOLE_TLS_CERT_FILE: '/var/run/mayfly/console-tls/tls.crt',
      MAYFLY_CONSOLE_TRACE_URL: 'https://jaeger.example.com/trace/{traceId}',
      MAYFLY_TLS_CERT_FILE: '/var/run/mayfly/tls/tls.crt',
      MAYFLY_ISSUANCE_ADDR: 'dns:///mayfly-issuance-pods.mayfly.svc:7053',
      MAYFLY_AUDIT_ADDR: 'dns:///mayfly-audit-pods.mayfly.svc:7055',
    });
    const issuanceEnv = manifests.find((m) => m.kind === 'Deployment' && componentOf(m) === 'issuance')!.spec['template'].spec.containers[0].env as { name: string; value?: string }[];
    expect(issuanceEnv.find((variable) => variable.name === 'MAYFLY_APPROVER_ISSUER')?.value).toBe(env['MAYFLY_CONSOLE_OIDC_ISSUER']);
    expect(env['DATABASE_URL']).toBeUndefined();
    expect(env['NATS_URL']).toBeUndefined();
    expect(deployment.spec['template'].spec.volumes.find((volume: { name: string }) => volume.name === 'tls').secret.secretName).toBe('mayfly-console-tls');
    expect(manifests.some((m) => m.kind === 'ServiceAccount' && m.metadata.name === 'mayfly-console')).toBe(true);
    // Its NetworkPolicy: people in (console.clients) on 7057, out only to issuance, audit, DNS and the provider.
    const policy = manifests.find((m) => m.kind === 'NetworkPolicy' && componentOf(m) === 'console')!;
    const https = (policy.spec['ingress'] as { from?: unknown[]; ports: { port: number }[] }[]).find((rule) => rule.ports.some((port) => port.port === 7057))!;
    expect(https.from).toEqual([{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } }]);
    const egress = policy.spec['egress'] as { to?: { podSelector?: { matchLabels: Record<string, string> }; ipBlock?: unknown }[]; ports: { port: number }[] }[];
    const mayflyPeers = egress.flatMap((rule) => (rule.to ?? []).map((peer) => peer.podSelector?.matchLabels['app.kubernetes.io/component']).filter(Boolean));
    expect(mayflyPeers.sort()).toEqual(['audit', 'issuance']);
    expect(egress).toContainEqual({ to: [{ ipBlock: { cidr: '203.0.113.0/24' } }], ports: [{ port: 443, protocol: 'TCP' }] });
    expect(egress.some((rule) => rule.ports.some((port) => port.port === 5432 || port.port === 4222))).toBe(false);
    // `helm test` asks its health port too.
    const test = manifests.find((m) => m.kind === 'Pod')!;
    const health = (test.spec['containers'][0].env as { name: string; value: string }[]).find((variable) => variable.name === 'MAYFLY_TEST_HEALTH')!.value;
    expect(health).toContain('console=mayfly-console.mayfly.svc:7067');
  });

  it('the console refuses to render without the address people open or an issuer to sign them in with', () => {
    const dir = mkdtempSync(join(tmpdir(), 'console-values-'));
    writeFileSync(join(dir, 'no-url.yaml'), 'approvers: {issuer: https://login.example.com}\nconsole: {enabled: true}\n');
    writeFileSync(join(dir, 'no-issuer.yaml'), 'console: {enabled: true, url: https://console.example.com}\n');
    const noUrl = spawnSync(renderer, [CHART, join(dir, 'no-url.yaml')], { encoding: 'utf8' });
    expect(noUrl.status).not.toBe(0);
    expect(noUrl.stderr).toContain('console.enabled needs console.url');
    const noIssuer = spawnSync(renderer, [CHART, join(dir, 'no-issuer.yaml')], { encoding: 'utf8' });
    expect(noIssuer.status).not.toBe(0);
    expect(noIssuer.stderr).toContain("console.enabled needs the people's OpenID Connect issuer");
  });

  it('with edgeVerifier.mode none there is no edge DaemonSet, account or policy', () => {
    const manifests = render(`${CHART}/ci/minimal-values.yaml`);
    expect(manifests.filter((m) => componentOf(m) === 'edge-verifier')).toEqual([]);
    expect(manifests.find((m) => m.kind === 'Deployment' && m.metadata.name === 'mayfly-issuance')?.spec['replicas']).toBe(3);
  });

  for (const valuesFile of VALUES_FILES) {
    it(`NOTES.txt names every Secret the templates need, with every key they read (${label(valuesFile)})`, () => {
      const { manifests, notes } = renderWithNotes(valuesFile);
      const written = new Set(manifests.filter((m) => m.kind === 'Certificate').map((m) => m.spec['secretName'] as string));
      for (const [secret, keys] of requiredSecrets(manifests)) {
        if (written.has(secret)) continue; // cert-manager writes it; NOTES says so
        const line = notes.split('\n').find((text) => text.trimStart().startsWith(`${secret}: `));
        expect(line, `NOTES.txt has no line for Secret ${secret}`).toBeDefined();
        for (const key of keys) expect(line, `NOTES.txt: Secret ${secret} must list key ${key}`).toContain(key);
      }
    });
  }

  it('the NOTES check would notice a key the templates read and NOTES leaves out', () => {
    const { manifests, notes } = renderWithNotes();
    const database = [...requiredSecrets(manifests)].find(([secret]) => secret === 'mayfly-database');
    expect(database?.[1].has('decision-password')).toBe(true); // the migration Job provisions decision's role
    expect(notes).toMatch(/mayfly-database: .*decision-password/);
  });

  it('escape hatches and optional objects: digest, annotations, labels, scheduling, extra env and volumes, Service type, Ingress, monitors, CA mounts, helm test', () => {
    const manifests = render(`${CHART}/ci/escape-hatches-values.yaml`);
    const pods = podsOf(manifests).filter(({ name }) => !name.startsWith('Pod/'));
    expect(pods.length).toBeGreaterThan(6);
    for (const { name, pod } of pods) {
      const template = manifests.find((m) => `${m.kind}/${m.metadata.name}` === name)!.spec['template'];
      expect(template.metadata.annotations?.['example.com/team'], name).toBe('identity');
      expect(template.metadata.labels?.['example.com/cost-center'], name).toBe('42');
      expect((pod as any).priorityClassName, name).toBe('mayfly-critical');
      for (const container of pod.containers) {
        expect((container as any).image, name).toMatch(/@sha256:0123456789abcdef/);
        expect(container.env?.find((variable) => variable.name === 'MAYFLY_LOG_LEVEL')?.value, name).toBe('debug');
        expect(container.volumeMounts?.some((mount) => mount.name === 'extra-config' && mount.mountPath === '/etc/mayfly-extra'), name).toBe(true);
      }
      expect(pod.volumes?.some((volume) => volume.name === 'extra-config'), name).toBe(true);
      if (!name.startsWith('Job/')) {
        const spread = (pod as any).topologySpreadConstraints?.[0];
        expect(spread, name).toMatchObject({ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone' });
        expect(spread.labelSelector.matchLabels['app.kubernetes.io/component'], name).toBe(template.metadata.labels['app.kubernetes.io/component']);
      }
    }
    for (const account of manifests.filter((m) => m.kind === 'ServiceAccount')) expect(account.metadata.annotations?.['eks.amazonaws.com/role-arn']).toContain('role/mayfly');
    const issuanceService = manifests.find((m) => m.kind === 'Service' && m.metadata.name === 'mayfly-issuance')!;
    expect(issuanceService.spec['type']).toBe('LoadBalancer');
    expect(issuanceService.metadata.annotations?.['service.beta.kubernetes.io/aws-load-balancer-type']).toBe('nlb');
    expect(manifests.find((m) => m.kind === 'Service' && m.metadata.name === 'mayfly-decision')!.spec['type']).toBeUndefined();
    const ingress = manifests.find((m) => m.kind === 'Ingress')!;
    const paths = ingress.spec['rules'][0].http.paths.map((path: { path: string; backend: { service: { name: string; port: { name: string } } } }) => `${path.path} → ${path.backend.service.name}:${path.backend.service.port.name}`);
    expect(paths).toEqual(['/mayfly.v1.IssuanceService → mayfly-issuance:grpc', '/mayfly.v1.ApprovalService → mayfly-issuance:grpc', '/.well-known/ → mayfly-issuance:jwks', '/oauth2/token → mayfly-issuance:jwks']);
    expect(ingress.spec['rules'][0].host).toBe('mayfly.example.com');
    expect(manifests.find((m) => m.kind === 'ServiceMonitor')?.spec['endpoints']).toEqual([{ port: 'metrics', interval: '15s', path: '/metrics' }]);
    expect(manifests.find((m) => m.kind === 'ServiceMonitor')?.metadata.labels?.['release']).toBe('prometheus');
    expect(manifests.find((m) => m.kind === 'PodMonitor')?.spec['podMetricsEndpoints'][0].port).toBe('metrics');
    // PostgreSQL verify-full with the mounted CA; NATS over TLS with its CA.
    const issuance = manifests.find((m) => m.kind === 'Deployment' && m.metadata.name === 'mayfly-issuance')!.spec['template'].spec as Pod;
    const env = Object.fromEntries((issuance.containers[0]!.env ?? []).map((variable) => [variable.name, variable.value]));
    expect(env['DATABASE_URL']).toMatch(/\?sslmode=verify-full&sslrootcert=\/var\/run\/mayfly\/database-ca\/ca\.crt$/);
    expect(env['NATS_URL']).toMatch(/^tls:\/\//);
    expect(env['MAYFLY_NATS_CA_FILE']).toBe('/var/run/mayfly/nats-ca/ca.crt');
    expect(issuance.containers[0]!.volumeMounts).toEqual(expect.arrayContaining([{ name: 'database-ca', mountPath: '/var/run/mayfly/database-ca', readOnly: true }, { name: 'nats-ca', mountPath: '/var/run/mayfly/nats-ca', readOnly: true }]));
    const decision = manifests.find((m) => m.kind === 'Deployment' && m.metadata.name === 'mayfly-decision')!.spec['template'].spec as Pod;
    expect(decision.volumes?.map((volume) => volume.name)).not.toContain('nats-ca'); // decision does not use NATS
  });

  it('`helm test` has a hook pod that checks every service\'s health port and the JWKS with the mesh CA', () => {
    const manifests = render();
    const test = manifests.find((m) => m.kind === 'Pod' && m.metadata.annotations?.['helm.sh/hook'] === 'test')!;
    expect(test).toBeDefined();
    const container = (test.spec as Pod).containers[0]! as any;
    expect(container.command).toEqual(['node', '/app/deploy/image/chart-test.mjs']);
    const env = Object.fromEntries(container.env.map((variable: { name: string; value: string }) => [variable.name, variable.value]));
    const targets = (env['MAYFLY_TEST_HEALTH'] as string).split(',');
    expect(targets).toEqual(['attestation', 'audit', 'decision', 'issuance', 'revocation'].map((service) => `${service}=mayfly-${service}-pods.mayfly.svc:${DEFAULT_HEALTH_PORTS[service as ServiceName]}`));
    expect(env['MAYFLY_TEST_JWKS_URL']).toBe('https://mayfly-issuance.mayfly.svc:8080/.well-known/jwks.json');
    // The headless Services expose the health port the test asks.
    for (const service of ['attestation', 'audit', 'decision', 'issuance', 'revocation']) {
      const headless = manifests.find((m) => m.kind === 'Service' && m.metadata.name === `mayfly-${service}-pods`)!;
      expect(headless.spec['ports']).toEqual(expect.arrayContaining([{ name: 'health', port: DEFAULT_HEALTH_PORTS[service as ServiceName], targetPort: 'health' }]));
    }
  });

  it("the edge verifier's liveness probe asks mayfly.liveness (a stale feed is not a dead process); readiness asks the server", () => {
    const edge = render().find((m) => m.kind === 'DaemonSet')!.spec['template'].spec.containers[0];
    expect(edge.livenessProbe.grpc).toEqual({ port: DEFAULT_HEALTH_PORTS['edge-verifier'], service: 'mayfly.liveness' });
    expect(edge.readinessProbe.grpc).toEqual({ port: DEFAULT_HEALTH_PORTS['edge-verifier'] });
  });
});
