import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { parseAgentConfig } from '@mayfly/agent';
import { CONSOLE_DEFAULT_PORTS, DEFAULT_HEALTH_PORTS, DEFAULT_METRICS_PORTS, DEFAULT_PORTS, SERVICE_NAMES, type ServiceName } from '@mayfly/config';
import { DATABASE_SERVICES } from '@mayfly/db';
import { ALLOWED_CALLERS, componentOfMethod } from '@mayfly/grpc';

// deploy/helm/mayfly, checked without a helm binary or a cluster: every values file against
// values.schema.json, the call graph the NetworkPolicies are built from against the services'
// own caller table, and the templates for what every workload must have. .ci/run adds helm lint
// and helm template where helm is installed.

const CHART = fileURLToPath(new URL('../../deploy/helm/mayfly/', import.meta.url));
const read = (path: string): string => readFileSync(`${CHART}${path}`, 'utf8');
const values = parse(read('values.yaml')) as Record<string, unknown> & { services: Record<string, unknown> };
const templates = Object.fromEntries(readdirSync(`${CHART}templates`).map((name) => [name, read(`templates/${name}`)]));

/** Helm's merge of a values file over the defaults: maps merge, everything else is replaced. */
function merged(base: unknown, over: unknown): unknown {
  if (typeof base !== 'object' || base === null || Array.isArray(base) || typeof over !== 'object' || over === null || Array.isArray(over)) return over;
  const result: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [key, value] of Object.entries(over)) result[key] = key in result ? merged(result[key], value) : value;
  return result;
}

const ajv = new Ajv({ allErrors: true, strict: false });
const validate = ajv.compile(JSON.parse(read('values.schema.json')) as object);

/** What the call graph holds: the services and the edge verifier, and the console (which only calls). */
type Component = ServiceName | 'console';
const COMPONENTS: readonly Component[] = [...SERVICE_NAMES, 'console'];
const PORTS_OF: Record<Component, { port: number; healthPort: number; metricsPort: number }> = {
  ...(Object.fromEntries(SERVICE_NAMES.map((service) => [service, { port: DEFAULT_PORTS[service], healthPort: DEFAULT_HEALTH_PORTS[service], metricsPort: DEFAULT_METRICS_PORTS[service] }])) as Record<ServiceName, { port: number; healthPort: number; metricsPort: number }>),
  console: { port: CONSOLE_DEFAULT_PORTS.https, healthPort: CONSOLE_DEFAULT_PORTS.health, metricsPort: CONSOLE_DEFAULT_PORTS.metrics },
};

interface GraphEntry {
  port: number;
  healthPort: number;
  metricsPort: number;
  calls: Component[];
  database: boolean;
  nats: boolean;
  workloads: boolean;
  operators: boolean;
}
/** The call graph the chart's templates are built from (a YAML document inside a define). */
function callGraph(): Record<Component, GraphEntry> {
  const body = /\{\{- define "mayfly\.callGraph" -\}\}\n([\s\S]*?)\{\{- end -\}\}/.exec(templates['_helpers.tpl']!)?.[1];
  expect(body, 'mayfly.callGraph in _helpers.tpl').toBeDefined();
  return parse(body!) as Record<Component, GraphEntry>;
}

/** The component serving a method (ApprovalService is served by issuance). */
const serviceOf = (method: string): ServiceName => componentOfMethod(method);

describe('deploy/helm/mayfly', () => {
  it('values.yaml and every example values file validate against values.schema.json', () => {
    expect(validate(values), JSON.stringify(validate.errors, null, 2)).toBe(true);
    for (const file of readdirSync(`${CHART}ci`)) {
      const overrides = parse(read(`ci/${file}`)) as unknown;
      expect(validate(merged(values, overrides)), `${file}: ${JSON.stringify(validate.errors, null, 2)}`).toBe(true);
    }
  });

  it('the schema refuses what would deploy something unsafe or broken', () => {
    const cases: [string, unknown][] = [
      ['a misspelt value', { servcies: {} }],
      ['a service without a memory limit', { services: { issuance: { resources: { limits: { cpu: '1' } } } } }],
      ['a writable root filesystem', { containerSecurityContext: { readOnlyRootFilesystem: false } }],
      ['root', { podSecurityContext: { runAsNonRoot: false } }],
      ['an http token issuer', { tokenIssuer: 'http://issuance:8080' }],
      ['a made-up edge mode', { edgeVerifier: { mode: 'sometimes' } }],
    ];
    for (const [name, overrides] of cases) {
      const candidate = merged(values, overrides) as { services: { issuance: { resources: { limits: Record<string, unknown> } } } };
      if (name === 'a service without a memory limit') candidate.services.issuance.resources.limits = { cpu: '1' };
      expect(validate(candidate), name).toBe(false);
    }
  });

  it("the call graph behind the NetworkPolicies is exactly the services' caller table, on their default ports", () => {
    const graph = callGraph();
    expect(Object.keys(graph).sort()).toEqual([...COMPONENTS].sort());
    const expectedCalls = new Map<Component, Set<Component>>(COMPONENTS.map((component) => [component, new Set()]));
    for (const [method, callers] of Object.entries(ALLOWED_CALLERS)) {
      const callee = serviceOf(method);
      if (callers === 'workloads') {
        expect(graph[callee].workloads, `${method}: workloads call ${callee}`).toBe(true);
        continue;
      }
      for (const caller of callers) {
        if (caller === 'operator') expect(graph[callee].operators, `${method}: operators call ${callee}`).toBe(true);
        else expectedCalls.get(caller)!.add(callee);
      }
    }
    // The console also calls ApprovalService (issuance), which is open to every mesh identity
    // (the person's ID token is what it checks): its egress must reach issuance.
    expectedCalls.get('console')!.add('issuance');
    // So it calls issuance (people's actions) and audit (readers' pages), and nothing calls it.
    expect([...expectedCalls.get('console')!].sort()).toEqual(['audit', 'issuance']);
    for (const service of COMPONENTS) {
      const entry = graph[service];
      expect([...entry.calls].sort(), `${service} calls`).toEqual([...expectedCalls.get(service)!].sort());
      expect(entry, service).toMatchObject(PORTS_OF[service]);
      expect(entry.database, `${service} database`).toBe((DATABASE_SERVICES as readonly string[]).includes(service));
      expect(entry.nats, `${service} nats`).toBe(service === 'revocation' || service === 'edge-verifier' || service === 'issuance' || service === 'audit');
      const calledByWorkloads = Object.entries(ALLOWED_CALLERS).some(([method, callers]) => callers === 'workloads' && serviceOf(method) === service);
      const calledByOperators = Object.entries(ALLOWED_CALLERS).some(([method, callers]) => callers !== 'workloads' && callers.includes('operator') && serviceOf(method) === service);
      expect(entry.workloads, `${service} workloads`).toBe(calledByWorkloads);
      expect(entry.operators, `${service} operators`).toBe(calledByOperators);
    }
  });

  it('every service has probes, requests and limits, a securityContext, a ServiceAccount and a NetworkPolicy', () => {
    // Deployments, Services, HPAs, PDBs are made for each entry of values.services; the edge
    // verifier has its own DaemonSet. Together they must be every service.
    expect([...Object.keys(values.services), 'edge-verifier'].sort()).toEqual([...SERVICE_NAMES].sort());
    for (const file of ['deployments.yaml', 'services.yaml', 'hpa.yaml', 'pdb.yaml']) expect(templates[file], file).toContain('range $service, $values := .Values.services');
    for (const file of ['deployments.yaml', 'edge-verifier.yaml', 'console.yaml']) {
      const template = templates[file]!;
      expect(template, file).toMatch(/include "mayfly\.probes" \$spec/);
      expect(template, file).toMatch(/resources:\n\s+\{\{- toYaml (\$values\.resources|\.Values\.edgeVerifier\.resources|\$console\.resources)/);
      expect(template, file).toMatch(/securityContext:\n\s+\{\{- toYaml \$?\.Values\.podSecurityContext/);
      expect(template, file).toMatch(/securityContext:\n\s+\{\{- toYaml \$?\.Values\.containerSecurityContext/);
      expect(template, file).toContain('serviceAccountName: {{ $fullname }}-');
      expect(template, file).toContain('automountServiceAccountToken: false');
      expect(template, file).not.toContain('subPath:'); // Secret files must update in place (rotation)
    }
    expect(templates['_helpers.tpl']).toMatch(/startupProbe:\n\s+grpc: \{port: \{\{ \.healthPort \}\}\}/);
    expect(templates['_helpers.tpl']).toMatch(/readinessProbe:\n\s+grpc: \{port: \{\{ \.healthPort \}\}\}/);
    expect(templates['_helpers.tpl']).toMatch(/livenessProbe:\n\s+grpc: \{port: \{\{ \.healthPort \}\}, service: mayfly\.liveness\}/); // a stale edge is not a dead one
    // One NetworkPolicy per call-graph entry (every service), plus the migration Job's.
    expect(templates['networkpolicies.yaml']).toContain('range $component, $spec := $graph');
    expect(templates['networkpolicies.yaml']).toContain('policyTypes: [Ingress, Egress]');
    expect(templates['migration-job.yaml']).toContain('helm.sh/hook: pre-install,pre-upgrade');
    expect(templates['migration-job.yaml']).toContain('"mayfly", "db", "migrate"');
    expect(templates['certificates.yaml']).toContain('spiffe://{{ $.Values.trustDomain }}/mayfly/{{ $component }}');
    expect(templates['NOTES.txt']).toBeDefined();
  });

  it('templates are well-formed: balanced actions and blocks in every file', () => {
    for (const [name, text] of Object.entries(templates)) {
      expect(text.split('{{').length, `${name}: {{ and }}`).toBe(text.split('}}').length);
      const actions = [...text.matchAll(/\{\{-?\s*(if|range|with|define|end)\b/g)].map((match) => match[1]);
      let depth = 0;
      for (const action of actions) {
        depth += action === 'end' ? -1 : 1;
        expect(depth, `${name}: an {{ end }} without a block`).toBeGreaterThanOrEqual(0);
      }
      expect(depth, `${name}: a block without its {{ end }}`).toBe(0);
    }
  });
});

describe('the agent sidecar example (examples/agent-sidecar.yaml)', () => {
  type Container = { name: string; args?: string[]; restartPolicy?: string; startupProbe?: { httpGet: { path: string; port: number } }; securityContext?: Record<string, unknown>; volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[] };
  const documents = parseAllDocuments(read('examples/agent-sidecar.yaml')).map((document) => document.toJS() as { kind: string; data?: Record<string, string>; spec?: any });
  const configMap = documents.find((document) => document.kind === 'ConfigMap')!;
  const pod = documents.find((document) => document.kind === 'Deployment')!.spec.template.spec as { initContainers: Container[]; containers: Container[]; volumes: { name: string; emptyDir?: { medium?: string } }[] };

  it("its agent config passes the agent's own validator, and names files in the shared memory volume", () => {
    const config = parseAgentConfig(configMap.data!['agent.yaml']!, 'agent-sidecar.yaml');
    const sidecar = pod.initContainers.find((container) => container.name === 'mayfly-agent')!;
    const shared = sidecar.volumeMounts!.find((mount) => mount.name === 'credentials')!;
    for (const grant of config.grants) {
      for (const file of [grant.tokenFile, grant.dsnFile, grant.pgpassFile, grant.envFile].filter(Boolean)) expect(file!.startsWith(`${shared.mountPath}/`)).toBe(true);
    }
    expect(pod.volumes.find((volume) => volume.name === 'credentials')?.emptyDir?.medium).toBe('Memory');
    expect(config.evidence).toMatchObject({ kind: 'oidc-token', file: expect.stringMatching(/^\/var\/run\/secrets\/mayfly\//) });
    // The application mounts the credentials read-only.
    expect(pod.containers[0]!.volumeMounts!.find((mount) => mount.name === 'credentials')).toMatchObject({ mountPath: shared.mountPath, readOnly: true });
    // A native sidecar, started through the image's entry point, gated on /readyz at the configured health port.
    expect(sidecar).toMatchObject({ restartPolicy: 'Always', args: ['agent', '--config', expect.stringMatching(/^\/etc\/mayfly\/agent\//)], startupProbe: { httpGet: { path: '/readyz', port: config.health!.port } } });
    expect(sidecar.securityContext).toMatchObject(values['containerSecurityContext'] as Record<string, unknown>);
  });
});
