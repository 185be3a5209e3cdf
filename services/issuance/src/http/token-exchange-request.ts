import { Evidence, RequestGrantRequest } from '@mayfly/proto';
import { OAuthError } from './oauth-error.js';

/** RFC 8693 §2.1: the only grant type the token endpoint serves. */
export const TOKEN_EXCHANGE_GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:token-exchange';
/** RFC 8693 §3: what the endpoint issues — a JWT access token (RFC 9068). */
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
const JWT_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:jwt';

/**
 * subject_token_type → the kind of evidence it is. RFC 8693's own URNs name OIDC tokens
 * (a Kubernetes service-account token or a CI job's OIDC token is a JWT and an ID token); the
 * evidence kinds RFC 8693 has no URN for get Mayfly's own.
 */
export const SUBJECT_TOKEN_TYPES: Readonly<Record<string, (token: string) => Evidence>> = {
  [JWT_TOKEN_TYPE]: (token) => Evidence.fromPartial({ oidcToken: token }),
  'urn:ietf:params:oauth:token-type:id_token': (token) => Evidence.fromPartial({ oidcToken: token }),
  'urn:mayfly:params:oauth:token-type:jwt-svid': (token) => Evidence.fromPartial({ jwtSvid: token }),
  'urn:mayfly:params:oauth:token-type:x509-assertion': (token) => Evidence.fromPartial({ x509Assertion: token }),
  'urn:mayfly:params:oauth:token-type:join-token': (token) => Evidence.fromPartial({ joinToken: token }),
};

/** Token types a client may ask for (requested_token_type): Mayfly issues JWT access tokens. */
const ISSUABLE_TOKEN_TYPES = new Set([ACCESS_TOKEN_TYPE, JWT_TOKEN_TYPE]);

/** Every parameter the endpoint reads; any other is ignored (RFC 6749 §3.2: unknown ones MUST be). */
const SINGLE_VALUED = [
  'grant_type',
  'subject_token',
  'subject_token_type',
  'resource',
  'audience',
  'scope',
  'requested_token_type',
  'actor_token',
  'actor_token_type',
  'client_id',
  'task_id',
  'task_kind',
  'task_reference',
  'task_deadline',
  'justification',
  'ttl_seconds',
  'idempotency_key',
  'heartbeat_interval_seconds',
  'single_use',
  'break_glass',
] as const;

/**
 * Reads a token-exchange form into the RequestGrant the gRPC door takes, so that both doors run
 * one pipeline: everything past the form (limits, identity, policy, audit) is the grant flow's.
 * Only the form's own rules are checked here; the flow validates the values.
 */
export function readTokenExchangeForm(form: URLSearchParams): RequestGrantRequest {
  // RFC 6749 §3.2: a parameter sent twice is an error, never a silent pick of one value.
  for (const name of SINGLE_VALUED) {
    if (form.getAll(name).length > 1) {
      if (name === 'resource') throw new OAuthError('invalid_target', 'one resource per request: a grant is for exactly one resource');
      throw new OAuthError('invalid_request', `${name} is sent more than once`);
    }
  }
  const grantType = form.get('grant_type');
  if (grantType === null) throw new OAuthError('invalid_request', `grant_type is required (${TOKEN_EXCHANGE_GRANT_TYPE})`);
  if (grantType !== TOKEN_EXCHANGE_GRANT_TYPE) throw new OAuthError('unsupported_grant_type', `only ${TOKEN_EXCHANGE_GRANT_TYPE} is served here`);
  if (form.has('actor_token') || form.has('actor_token_type')) {
    throw new OAuthError('invalid_request', 'actor_token is not accepted here: pass a grant on with IssuanceService/DelegateGrant');
  }
  const requestedType = form.get('requested_token_type');
  if (requestedType !== null && !ISSUABLE_TOKEN_TYPES.has(requestedType)) {
    throw new OAuthError('invalid_request', `requested_token_type ${requestedType} is not issued here (only ${ACCESS_TOKEN_TYPE})`);
  }
  const resource = form.get('resource') ?? form.get('audience');
  if (resource === null || resource === '') throw new OAuthError('invalid_request', 'resource is required: the registered resource the grant is for (e.g. pg:orders-db)');
  if (form.has('resource') && form.has('audience') && form.get('audience') !== resource) {
    throw new OAuthError('invalid_target', 'resource and audience name different resources: send one');
  }
  const scope = form.get('scope') ?? '';
  return RequestGrantRequest.fromPartial({
    evidence: evidenceOf(form),
    task: {
      id: form.get('task_id') ?? '',
      kind: form.get('task_kind') ?? '',
      reference: form.get('task_reference') ?? '',
      deadline: optionalTime('task_deadline', form.get('task_deadline')),
    },
    resource,
    actions: scope.split(' ').filter((action) => action !== ''),
    requestedTtlSeconds: wholeNumber('ttl_seconds', form.get('ttl_seconds')),
    justification: form.get('justification') ?? '',
    idempotencyKey: form.get('idempotency_key') ?? '',
    heartbeatIntervalSeconds: wholeNumber('heartbeat_interval_seconds', form.get('heartbeat_interval_seconds')),
    singleUse: flag('single_use', form.get('single_use')),
    breakGlass: flag('break_glass', form.get('break_glass')),
  });
}

/** The subject token as evidence; none when the caller relies on its session certificate (mTLS). */
function evidenceOf(form: URLSearchParams): Evidence | undefined {
  // A token read from a file (curl's --data-urlencode name@file) may end with a newline; no token holds whitespace.
  const token = form.get('subject_token')?.trim() ?? null;
  const type = form.get('subject_token_type');
  if (token === null || token === '') {
    if (type !== null) throw new OAuthError('invalid_request', 'subject_token_type is sent without a subject_token');
    return undefined;
  }
  if (type === null) throw new OAuthError('invalid_request', 'subject_token_type is required with a subject_token');
  const evidence = Object.hasOwn(SUBJECT_TOKEN_TYPES, type) ? SUBJECT_TOKEN_TYPES[type] : undefined;
  if (!evidence) throw new OAuthError('invalid_request', `subject_token_type ${type} is not supported; one of: ${Object.keys(SUBJECT_TOKEN_TYPES).join(', ')}`);
  return evidence(token);
}

function wholeNumber(name: string, value: string | null): number {
  if (value === null || value === '') return 0;
  if (!/^\d{1,9}$/.test(value)) throw new OAuthError('invalid_request', `${name} must be a whole number of seconds`);
  return Number(value);
}

function flag(name: string, value: string | null): boolean {
  if (value === null || value === '' || value === 'false') return false;
  if (value === 'true') return true;
  throw new OAuthError('invalid_request', `${name} must be true or false`);
}

function optionalTime(name: string, value: string | null): Date | undefined {
  if (value === null || value === '') return undefined;
  const time = new Date(value);
  // RFC 3339 only: Date also parses forms ("March 7") a script would not mean.
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(value) || Number.isNaN(time.getTime())) {
    throw new OAuthError('invalid_request', `${name} must be an RFC 3339 time (2026-12-04T10:00:00Z)`);
  }
  return time;
}
