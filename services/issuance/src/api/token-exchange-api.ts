import type { IncomingMessage, ServerResponse } from 'node:http';
import { MayflyError, newId, type Logger } from '@mayfly/core';
import { verifiedClientCertificate, type PostHandler } from '@mayfly/grpc';
import { GrantStatus, type RequestGrantResponse } from '@mayfly/proto';
import { SpanKind, context, propagation, recordFailure, trace, tracer, type TextMapGetter } from '@mayfly/telemetry';
import type { GrantCall, GrantFlow } from '../domain/grant-flow.js';
import { TOKEN_ENDPOINT_PATH } from '../http/issuer-endpoints.js';
import { OAuthError, oauthErrorAnswer } from '../http/oauth-error.js';
import { ACCESS_TOKEN_TYPE, readTokenExchangeForm } from '../http/token-exchange-request.js';
import { requestGrantThrough } from './grant-door.js';
import { sessionCertificateOf } from './session-certificate.js';

/** Largest form accepted: evidence with an X.509 chain is a few KiB; anything near this is not a request. */
export const TOKEN_REQUEST_MAX_BYTES = 64 * 1024;

const FORM_CONTENT_TYPE = /^application\/x-www-form-urlencoded\s*(;\s*charset\s*=\s*"?utf-8"?\s*)?$/i;

const headerGetter: TextMapGetter<IncomingMessage['headers']> = {
  keys: (headers) => Object.keys(headers),
  get: (headers, key) => headers[key.toLowerCase()],
};

/**
 * The second door into the grant flow: RFC 8693 token exchange over HTTPS, for workloads that
 * speak OAuth and not gRPC. The form becomes the RequestGrant the gRPC door takes, and from there
 * it is one pipeline — identity, limits, policy, audit, trace. The caller proves what it is with
 * its subject token (evidence) or, with none, by mutual TLS with its session's X.509-SVID.
 */
export function tokenExchangeApi(flow: GrantFlow, log: Logger): PostHandler {
  return (req, res) => {
    const parent = propagation.extract(context.active(), req.headers, headerGetter);
    const span = tracer().startSpan(`POST ${TOKEN_ENDPOINT_PATH}`, { kind: SpanKind.SERVER, attributes: { 'http.request.method': 'POST', 'url.path': TOKEN_ENDPOINT_PATH } }, parent);
    void context
      .with(trace.setSpan(parent, span), () => exchange(req, flow, log))
      .then(
        (response) => answer(res, isPending(response) ? 400 : 200, {}, isPending(response) ? pendingResponse(response) : tokenResponse(response)),
        (error: unknown) => {
          const refusal = refusalOf(error, log);
          if (refusal.httpStatus >= 500) recordFailure(span, error);
          if (refusal.body.mayfly_code) span.setAttribute('mayfly.error.code', refusal.body.mayfly_code);
          answer(res, refusal.httpStatus, refusal.headers, refusal.body);
        },
      )
      .finally(() => {
        span.setAttribute('http.response.status_code', res.statusCode);
        span.end();
      });
  };
}

async function exchange(req: IncomingMessage, flow: GrantFlow, log: Logger): Promise<RequestGrantResponse> {
  const contentType = req.headers['content-type'] ?? '';
  if (!FORM_CONTENT_TYPE.test(contentType)) {
    req.resume();
    throw new OAuthError('invalid_request', `the body must be application/x-www-form-urlencoded (RFC 6749 section 3.2), not ${contentType.slice(0, 100) || 'untyped'}`, 415);
  }
  if (req.headers.authorization !== undefined) {
    req.resume();
    throw new OAuthError('invalid_request', 'no client authentication here: the subject token, or the session certificate over mutual TLS, says who is asking');
  }
  const form = new URLSearchParams(await readBody(req));
  const request = readTokenExchangeForm(form);
  return requestGrantThrough('token-exchange', flow, request, callOf(req), log);
}

/** The body as text, refused past the limit without reading the rest into memory. */
async function readBody(req: IncomingMessage): Promise<string> {
  const declared = Number(req.headers['content-length']);
  const tooLarge = () => new OAuthError('invalid_request', `the request body is larger than ${TOKEN_REQUEST_MAX_BYTES} bytes`, 413);
  if (Number.isFinite(declared) && declared > TOKEN_REQUEST_MAX_BYTES) {
    req.resume();
    throw tooLarge();
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > TOKEN_REQUEST_MAX_BYTES) {
      req.resume();
      throw tooLarge();
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** What the transport knows of the caller: its address, and the session certificate it presented. */
function callOf(req: IncomingMessage): GrantCall {
  const base = { peer: req.socket.remoteAddress };
  try {
    return { ...base, session: sessionCertificateOf(verifiedClientCertificate(req)) };
  } catch (error) {
    return { ...base, sessionProblem: (error as Error).message };
  }
}

const isPending = (response: RequestGrantResponse): boolean => response.grant?.status === GrantStatus.GRANT_STATUS_PENDING_APPROVAL;

/**
 * Policy sent the request for approval: no token yet. RFC 8628's authorization_pending says so
 * to an OAuth client; the grant id and claim secret let the workload collect the token once
 * people have answered (IssuanceService/WatchGrant), as the gRPC door's pending answer does.
 */
function pendingResponse(response: RequestGrantResponse): Record<string, unknown> {
  const id = response.grant?.id ?? '';
  return {
    error: 'authorization_pending',
    error_description: `the grant ${id} waits for approval; collect its token with IssuanceService/WatchGrant and the claim secret`,
    grant_id: id,
    claim_secret: response.claimSecret,
  };
}

/** RFC 8693 §2.2.1, with the grant's id (for its lifecycle calls) and, for a database or cache, its login. */
function tokenResponse(response: RequestGrantResponse): Record<string, unknown> {
  const grant = response.grant;
  const expiresAt = grant?.expiresAt?.getTime() ?? Date.now();
  const login = response.credential?.login;
  return {
    access_token: response.accessToken,
    issued_token_type: ACCESS_TOKEN_TYPE,
    token_type: 'Bearer',
    expires_in: Math.max(0, Math.floor((expiresAt - Date.now()) / 1000)),
    scope: (grant?.actions ?? []).join(' '),
    grant_id: grant?.id,
    ...(login
      ? {
          login: {
            system: login.system,
            host: login.host,
            port: login.port,
            database: login.database,
            user: login.user,
            password: login.password,
            valid_until: login.validUntil?.toISOString(),
          },
        }
      : {}),
  };
}

function refusalOf(error: unknown, log: Logger): ReturnType<typeof oauthErrorAnswer> {
  if (error instanceof OAuthError || error instanceof MayflyError) {
    if (error instanceof MayflyError && error.code === 'ERR_INTERNAL') log.error({ err: error, endpoint: TOKEN_ENDPOINT_PATH }, 'internal error');
    return oauthErrorAnswer(error);
  }
  const ref = newId();
  log.error({ err: error, endpoint: TOKEN_ENDPOINT_PATH, ref }, 'unexpected error');
  return oauthErrorAnswer(new MayflyError('ERR_INTERNAL', `internal error (ref ${ref}); the service log has the details`));
}

/** RFC 6749 §5.1: token responses are never cached. */
function answer(res: ServerResponse, status: number, headers: Readonly<Record<string, string>>, body: unknown): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', pragma: 'no-cache', ...headers }).end(JSON.stringify(body));
}
