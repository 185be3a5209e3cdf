import { isAbsolute } from 'node:path';
import { LineCounter, parseDocument, isMap, isSeq, type Document } from 'yaml';

/**
 * How the agent proves what the workload is: a token file it re-reads at every use (kubelet and
 * CI rotate them), or — kind x509 — the machine's certificate and key files (re-read too, for
 * cert-manager or an enterprise PKI renewing them), signed into an assertion for `audience`.
 */
export type EvidenceConfig =
  | { readonly kind: 'oidc-token' | 'jwt-svid' | 'join-token'; readonly file: string }
  | { readonly kind: 'x509'; readonly certFile: string; readonly keyFile: string; readonly audience: string };
export const EVIDENCE_KINDS = ['oidc-token', 'jwt-svid', 'join-token', 'x509'] as const;
export type EvidenceKind = (typeof EVIDENCE_KINDS)[number];

/** One grant the agent keeps, and where its credential is written. */
export interface GrantConfig {
  /** Names the grant in logs, metrics and environment variables (MAYFLY_<NAME>_TOKEN …). */
  readonly name: string;
  readonly resource: string;
  readonly actions: readonly string[];
  readonly ttlSeconds: number;
  readonly justification: string;
  /** The access token, alone on its line. */
  readonly tokenFile: string | undefined;
  /** A login's connection URL (postgres://…, mysql://…, redis://…). */
  readonly dsnFile: string | undefined;
  /** A PostgreSQL login as a .pgpass line (PGPASSFILE). */
  readonly pgpassFile: string | undefined;
  /** KEY=VALUE lines: <NAME>_TOKEN, and for a login <NAME>_DSN, _HOST, _PORT, _USER, _PASSWORD, _DATABASE. */
  readonly envFile: string | undefined;
}

export const ROTATE_ACTIONS = ['signal', 'restart', 'none'] as const;
export type RotateAction = (typeof ROTATE_ACTIONS)[number];

/** A command the agent runs with the credentials in its environment. */
export interface ExecConfig {
  readonly command: readonly string[];
  /** What happens to it when a credential changes: a signal (it re-reads its files), a restart (new environment), or nothing. */
  readonly onRotate: RotateAction;
  readonly signal: NodeJS.Signals;
}

/** Where an endpoint listens (host default 127.0.0.1; port 0: any free one). */
export interface Listener {
  readonly host: string;
  readonly port: number;
}

export interface AgentConfig {
  /** host:port of the issuance service. */
  readonly issuance: string;
  /** The mesh CA and trust domain to check issuance against (else MAYFLY_TLS_CA_FILE / MAYFLY_TRUST_DOMAIN). */
  readonly caFile: string | undefined;
  readonly trustDomain: string | undefined;
  readonly evidence: EvidenceConfig;
  /** Attest once and ask within a session (tokens bound to its certificate). Default true. */
  readonly session: boolean;
  readonly task: { readonly id: string | undefined; readonly kind: string; readonly reference: string };
  readonly grants: readonly GrantConfig[];
  readonly exec: ExecConfig | undefined;
  /** /healthz and /readyz. Undefined: not served. */
  readonly health: Listener | undefined;
  /** /metrics (Prometheus). Undefined: not served. */
  readonly metrics: Listener | undefined;
}

/** A config that cannot run: every problem, each with where it is (line, and the key's path). */
export class AgentConfigError extends Error {
  override readonly name = 'AgentConfigError';
  constructor(
    readonly file: string,
    readonly problems: readonly string[],
  ) {
    super(`${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}\n${problems.map((p) => `  ${p}`).join('\n')}`);
  }
}

const TOP_LEVEL = ['issuance', 'caFile', 'trustDomain', 'evidence', 'session', 'task', 'grants', 'exec', 'health', 'metrics'];
const GRANT_KEYS = ['name', 'resource', 'actions', 'ttlSeconds', 'justification', 'files'];
const FILE_KEYS = ['token', 'dsn', 'pgpass', 'env'];
const SIGNALS = ['SIGHUP', 'SIGUSR1', 'SIGUSR2', 'SIGINT', 'SIGTERM'];

/**
 * Reads an agent config (YAML; JSON is YAML too) and checks all of it before anything runs, so
 * that one run of `mayfly agent check` names every mistake with its line — not the first one,
 * and not at 3 a.m. when the first renewal needs the field.
 */
export function parseAgentConfig(text: string, file: string, env: Readonly<Record<string, string | undefined>> = {}): AgentConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  const problems: string[] = [];
  const at = (path: readonly (string | number)[]): string => {
    const node = doc.getIn(path, true) as { range?: [number, number, number] } | undefined;
    const offset = node?.range?.[0] ?? (path.length > 1 ? (doc.getIn(path.slice(0, -1), true) as { range?: [number] } | undefined)?.range?.[0] : undefined);
    return offset === undefined ? '' : `line ${lines.linePos(offset).line}: `;
  };
  const problem = (path: readonly (string | number)[], message: string) => problems.push(`${at(path)}${dotted(path)}: ${message}`);
  for (const error of doc.errors) problems.push(`line ${lines.linePos(error.pos[0]).line}: ${error.message.split('\n')[0]}`);
  if (doc.errors.length > 0) throw new AgentConfigError(file, problems);
  const root = doc.toJS() as unknown;
  if (!isRecord(root)) throw new AgentConfigError(file, ['the file must be a mapping (issuance, evidence, grants, ...)']);
  unknownKeys(root, TOP_LEVEL, [], problem);

  const issuance = text_(root, ['issuance'], problem, { required: false }) ?? env['MAYFLY_ISSUANCE_ADDR'];
  if (!issuance) problem(['issuance'], 'is required: host:port of the issuance service (or set MAYFLY_ISSUANCE_ADDR)');
  else if (!/^[^\s/:]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(issuance)) problem(['issuance'], `must be host:port, not ${JSON.stringify(issuance)}`);

  const evidence = readEvidence(root, problem);
  const taskValue = root['task'] ?? {};
  if (!isRecord(taskValue)) problem(['task'], 'must be a mapping (id, kind, reference)');
  const task = isRecord(taskValue) ? taskValue : {};
  unknownKeys(task, ['id', 'kind', 'reference'], ['task'], problem);
  const caFile = text_(root, ['caFile'], problem, { required: false, path: true });
  const trustDomain = text_(root, ['trustDomain'], problem, { required: false });
  const grants = readGrants(root, problem, doc);
  const exec = readExec(root, problem);
  const health = readPort(root, 'health', problem);
  const metrics = readPort(root, 'metrics', problem);
  const session = root['session'] ?? true;
  if (typeof session !== 'boolean') problem(['session'], 'must be true or false');

  if (problems.length > 0) throw new AgentConfigError(file, problems);
  return {
    issuance: issuance!,
    caFile,
    trustDomain,
    evidence: evidence!,
    session: session as boolean,
    task: { id: optionalString(task['id']), kind: optionalString(task['kind']) ?? 'agent', reference: optionalString(task['reference']) ?? '' },
    grants,
    exec,
    health,
    metrics,
  };
}

type Problem = (path: readonly (string | number)[], message: string) => void;

function readEvidence(root: Record<string, unknown>, problem: Problem): EvidenceConfig | undefined {
  const evidence = root['evidence'];
  if (!isRecord(evidence)) {
    problem(['evidence'], `is required: { kind: oidc-token | jwt-svid | join-token, file: /path/to/token } or { kind: x509, certFile, keyFile, audience }`);
    return undefined;
  }
  const kind = evidence['kind'];
  if (!EVIDENCE_KINDS.includes(kind as EvidenceKind)) {
    problem(['evidence', 'kind'], `must be one of ${EVIDENCE_KINDS.join(', ')}`);
    return undefined;
  }
  const here: Problem = (path, message) => problem(['evidence', ...path], message);
  if (kind === 'x509') {
    unknownKeys(evidence, ['kind', 'certFile', 'keyFile', 'audience'], ['evidence'], problem);
    const certFile = text_(evidence, ['certFile'], here, { path: true });
    const keyFile = text_(evidence, ['keyFile'], here, { path: true });
    const audience = text_(evidence, ['audience'], here);
    return certFile && keyFile && audience ? { kind, certFile, keyFile, audience } : undefined;
  }
  unknownKeys(evidence, ['kind', 'file'], ['evidence'], problem);
  const file = text_(evidence, ['file'], here, { path: true });
  return file === undefined ? undefined : { kind: kind as 'oidc-token' | 'jwt-svid' | 'join-token', file };
}

function readGrants(root: Record<string, unknown>, problem: Problem, doc: Document): GrantConfig[] {
  const grants = root['grants'];
  if (!Array.isArray(grants) || grants.length === 0 || !isSeq(doc.get('grants', true))) {
    problem(['grants'], 'is required: a list of grants to keep, each { name, resource, actions, files }');
    return [];
  }
  const names = new Set<string>();
  const paths = new Map<string, string>();
  return grants.flatMap((grant: unknown, index): GrantConfig[] => {
    const here = (path: readonly (string | number)[], message: string) => problem(['grants', index, ...path], message);
    if (!isRecord(grant) || !isMap(doc.getIn(['grants', index], true))) {
      here([], 'must be a mapping { name, resource, actions, files }');
      return [];
    }
    unknownKeys(grant, GRANT_KEYS, ['grants', index], problem);
    const name = text_(grant, ['name'], here);
    if (name !== undefined && !/^[a-z][a-z0-9-]{0,39}$/.test(name)) here(['name'], 'must be 1 to 40 of a-z 0-9 - starting with a letter (it names environment variables)');
    if (name !== undefined && names.has(name)) here(['name'], `${name} is used by another grant`);
    if (name !== undefined) names.add(name);
    const resource = text_(grant, ['resource'], here);
    const actions = grant['actions'];
    if (!Array.isArray(actions) || actions.length === 0 || !actions.every((a) => typeof a === 'string' && a !== '')) here(['actions'], 'must be a list of one or more actions, e.g. [read]');
    const ttl = grant['ttlSeconds'] ?? 0;
    if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 0 || ttl > 86_400) here(['ttlSeconds'], 'must be a whole number of seconds from 0 (the default) to 86400');
    const files = isRecord(grant['files']) ? grant['files'] : undefined;
    if (!files) here(['files'], `is required: where to write the credential (${FILE_KEYS.join(', ')})`);
    else {
      unknownKeys(files, FILE_KEYS, ['grants', index, 'files'], problem);
      if (!FILE_KEYS.some((key) => files[key] !== undefined)) here(['files'], `names no file: give at least one of ${FILE_KEYS.join(', ')}`);
      for (const key of FILE_KEYS) {
        const path = text_(files, [key], (p, m) => here(['files', ...p], m), { required: false, path: true });
        if (path === undefined) continue;
        const other = paths.get(path);
        if (other) here(['files', key], `${path} is also ${other}: each credential needs its own file`);
        paths.set(path, `grants[${index}].files.${key}`);
      }
    }
    const text = (key: string) => optionalString(files?.[key]);
    return name === undefined || resource === undefined
      ? []
      : [
          {
            name,
            resource,
            actions: Array.isArray(actions) ? (actions as string[]) : [],
            ttlSeconds: typeof ttl === 'number' ? ttl : 0,
            justification: optionalString(grant['justification']) ?? '',
            tokenFile: text('token'),
            dsnFile: text('dsn'),
            pgpassFile: text('pgpass'),
            envFile: text('env'),
          },
        ];
  });
}

function readExec(root: Record<string, unknown>, problem: Problem): ExecConfig | undefined {
  const exec = root['exec'];
  if (exec === undefined) return undefined;
  if (!isRecord(exec)) {
    problem(['exec'], 'must be a mapping { command: [program, args…], onRotate, signal }');
    return undefined;
  }
  unknownKeys(exec, ['command', 'onRotate', 'signal'], ['exec'], problem);
  const command = exec['command'];
  if (!Array.isArray(command) || command.length === 0 || !command.every((part) => typeof part === 'string' && part !== '')) {
    problem(['exec', 'command'], 'must be a list: the program and its arguments (no shell: ["sh", "-c", "…"] if you need one)');
  }
  const onRotate = exec['onRotate'] ?? 'signal';
  if (!ROTATE_ACTIONS.includes(onRotate as RotateAction)) problem(['exec', 'onRotate'], `must be one of ${ROTATE_ACTIONS.join(', ')}`);
  const signal = exec['signal'] ?? 'SIGHUP';
  if (!SIGNALS.includes(signal as string)) problem(['exec', 'signal'], `must be one of ${SIGNALS.join(', ')}`);
  return { command: Array.isArray(command) ? (command as string[]) : [], onRotate: onRotate as RotateAction, signal: signal as NodeJS.Signals };
}

function readPort(root: Record<string, unknown>, key: 'health' | 'metrics', problem: Problem): Listener | undefined {
  const value = root[key];
  if (value === undefined) return undefined;
  if (!isRecord(value)) {
    problem([key], 'must be a mapping { host, port }');
    return undefined;
  }
  unknownKeys(value, ['host', 'port'], [key], problem);
  const port = value['port'];
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65_535) problem([key, 'port'], 'must be a port number (0: any free port)');
  const host = value['host'] ?? '127.0.0.1';
  if (typeof host !== 'string' || host === '') problem([key, 'host'], 'must be an address to listen on');
  return { host: String(host), port: Number(port) };
}

function text_(record: Record<string, unknown>, path: [string], problem: Problem, options: { required?: boolean; path?: boolean } = {}): string | undefined {
  const value = record[path[0]];
  if (value === undefined || value === null) {
    if (options.required !== false) problem(path, 'is required');
    return undefined;
  }
  if (typeof value !== 'string' || value.trim() === '') {
    problem(path, 'must be a non-empty string');
    return undefined;
  }
  if (options.path && !isAbsolute(value)) {
    problem(path, `must be an absolute path, not ${JSON.stringify(value)}`);
    return undefined;
  }
  return value;
}

function unknownKeys(record: Record<string, unknown>, known: readonly string[], path: readonly (string | number)[], problem: Problem): void {
  for (const key of Object.keys(record)) {
    if (!known.includes(key)) problem([...path, key], `is not a setting here (known: ${known.join(', ')})`);
  }
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function dotted(path: readonly (string | number)[]): string {
  return path.map((part, i) => (typeof part === 'number' ? `[${part}]` : i === 0 ? part : `.${part}`)).join('') || '(top)';
}
