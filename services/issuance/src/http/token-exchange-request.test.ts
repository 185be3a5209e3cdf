import { describe, expect, it } from 'vitest';
import { MayflyError } from '@mayfly/core';
import { OAuthError, oauthErrorAnswer } from './oauth-error.js';
import { TOKEN_EXCHANGE_GRANT_TYPE, readTokenExchangeForm } from './token-exchange-request.js';

const base = {
  grant_type: TOKEN_EXCHANGE_GRANT_TYPE,
  subject_token: 'eyJ.evidence.sig',
  subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
  resource: 'pg:orders-db',
  scope: 'read write',
  task_id: 'job-7',
  task_kind: 'ci-job',
};
const read = (fields: Record<string, string>, extra = '') => readTokenExchangeForm(new URLSearchParams(new URLSearchParams(fields).toString() + extra));
const refusal = (fields: Record<string, string>, extra = '') => {
  try {
    read(fields, extra);
  } catch (error) {
    return error as OAuthError;
  }
  throw new Error('the form was accepted');
};

describe('token-exchange form → RequestGrant', () => {
  it('maps the RFC 8693 parameters and Mayfly\'s documented extras onto the gRPC request', () => {
    const request = read({ ...base, task_reference: 'JOB-7', justification: 'export', ttl_seconds: '120', idempotency_key: 'k-1', heartbeat_interval_seconds: '30', single_use: 'true', task_deadline: '2030-01-01T00:00:00Z' });
    expect(request).toMatchObject({
      evidence: { oidcToken: 'eyJ.evidence.sig' },
      task: { id: 'job-7', kind: 'ci-job', reference: 'JOB-7', deadline: new Date('2030-01-01T00:00:00Z') },
      resource: 'pg:orders-db',
      actions: ['read', 'write'],
      requestedTtlSeconds: 120,
      justification: 'export',
      idempotencyKey: 'k-1',
      heartbeatIntervalSeconds: 30,
      singleUse: true,
      breakGlass: false,
    });
  });

  it('names each evidence kind by its token type; without a subject token the session certificate speaks', () => {
    expect(read({ ...base, subject_token_type: 'urn:mayfly:params:oauth:token-type:jwt-svid' }).evidence).toEqual({ jwtSvid: base.subject_token });
    expect(read({ ...base, subject_token_type: 'urn:mayfly:params:oauth:token-type:join-token' }).evidence).toEqual({ joinToken: base.subject_token });
    expect(read({ ...base, subject_token_type: 'urn:mayfly:params:oauth:token-type:x509-assertion' }).evidence).toEqual({ x509Assertion: base.subject_token });
    const { subject_token: _token, subject_token_type: _type, ...withoutEvidence } = base;
    expect(read(withoutEvidence).evidence).toBeUndefined();
    expect(read({ ...withoutEvidence, audience: 'pg:orders-db' }).resource).toBe('pg:orders-db');
  });

  it('refuses what RFC 6749 and RFC 8693 refuse, with the error code they name', () => {
    expect(refusal({ ...base, grant_type: 'client_credentials' })).toMatchObject({ error: 'unsupported_grant_type' });
    expect(refusal({ ...base, subject_token_type: 'urn:ietf:params:oauth:token-type:saml2' })).toMatchObject({ error: 'invalid_request', message: expect.stringContaining('not supported') });
    expect(refusal({ ...base, resource: '' })).toMatchObject({ error: 'invalid_request', message: expect.stringContaining('resource is required') });
    expect(refusal(base, '&resource=pg:other')).toMatchObject({ error: 'invalid_target' });
    expect(refusal(base, '&scope=delete')).toMatchObject({ error: 'invalid_request', message: 'scope is sent more than once' });
    expect(refusal({ ...base, audience: 'pg:other' })).toMatchObject({ error: 'invalid_target' });
    expect(refusal({ ...base, actor_token: 'x', actor_token_type: base.subject_token_type })).toMatchObject({ error: 'invalid_request' });
    expect(refusal({ ...base, requested_token_type: 'urn:ietf:params:oauth:token-type:refresh_token' })).toMatchObject({ error: 'invalid_request' });
    expect(refusal({ ...base, subject_token: '' , subject_token_type: base.subject_token_type })).toMatchObject({ error: 'invalid_request' });
    expect(refusal({ ...base, ttl_seconds: '-5' })).toMatchObject({ message: 'ttl_seconds must be a whole number of seconds' });
    expect(refusal({ ...base, single_use: 'yes' })).toMatchObject({ message: 'single_use must be true or false' });
    expect(refusal({ ...base, task_deadline: 'March 7' })).toMatchObject({ message: expect.stringContaining('RFC 3339') });
  });
});

describe('Mayfly errors → RFC 6749 error responses', () => {
  it('keeps Mayfly\'s code first in error_description and as mayfly_code', () => {
    expect(oauthErrorAnswer(new MayflyError('ERR_POLICY_DENIED', 'no policy permits delete'))).toEqual({
      httpStatus: 400,
      headers: {},
      body: { error: 'invalid_target', error_description: 'ERR_POLICY_DENIED: no policy permits delete', mayfly_code: 'ERR_POLICY_DENIED' },
    });
    expect(oauthErrorAnswer(new MayflyError('ERR_ATTESTATION_FAILED', 'bad evidence')).body.error).toBe('invalid_request');
    expect(oauthErrorAnswer(new MayflyError('ERR_INVALID_ARGUMENT', 'actions: unknown', { field: 'actions' })).body.error).toBe('invalid_scope');
    expect(oauthErrorAnswer(new MayflyError('ERR_INVALID_ARGUMENT', 'resource: bad', { field: 'resource' })).body.error).toBe('invalid_target');
  });

  it('says when to retry: 429 with Retry-After for rate limits, 5xx for faults of Mayfly', () => {
    expect(oauthErrorAnswer(new MayflyError('ERR_RATE_LIMITED', 'slow', { retryAfterMs: 1500 }))).toMatchObject({ httpStatus: 429, headers: { 'retry-after': '2' }, body: { error: 'slow_down' } });
    expect(oauthErrorAnswer(new MayflyError('ERR_DEPENDENCY_UNAVAILABLE', 'decision down'))).toMatchObject({ httpStatus: 503, body: { error: 'temporarily_unavailable' } });
    expect(oauthErrorAnswer(new MayflyError('ERR_INTERNAL', 'boom'))).toMatchObject({ httpStatus: 500, body: { error: 'server_error' } });
  });

  it('error_description stays within RFC 6749\'s character set', () => {
    const text = oauthErrorAnswer(new MayflyError('ERR_INVALID_ARGUMENT', 'task.id: "é\\x" is not valid')).body.error_description;
    expect(text).toMatch(/^[\x20\x21\x23-\x5b\x5d-\x7e]*$/);
  });
});
