import { Server, ServerCredentials, status, type ServerDuplexStream } from '@grpc/grpc-js';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MayflyError } from '@mayfly/core';
import { createClient } from '@mayfly/grpc';
import { IssuanceServiceClient, IssuanceServiceService, RequestGrantRequest, type RequestGrantResponse, type RequestGrantStreamRequest, type RequestGrantStreamResponse } from '@mayfly/proto';
import { GrantRequests, errorOf } from './grant-stream.js';

// The client side of RequestGrantStream against real grpc-js servers in this process: one of an
// earlier release (no stream), one whose stream ends before answering, one answering refusals.

const closers: Array<() => void> = [];
beforeAll(() => {
  process.env['MAYFLY_INSECURE_DEV'] = 'true'; // plaintext in this process, explicitly
});
afterEach(() => {
  for (const close of closers.splice(0)) close();
});

const BY_CALL: RequestGrantResponse = { grant: undefined, accessToken: 'token-by-call', claimSecret: '', credential: undefined };
const request = RequestGrantRequest.fromPartial({ resource: 'pg:orders-db', actions: ['read'], idempotencyKey: 'k-1' });

/** A server with `handlers` for IssuanceService (others answer UNIMPLEMENTED), and a client to it. */
async function serve(handlers: Record<string, unknown>): Promise<GrantRequests> {
  const server = new Server();
  server.addService(IssuanceServiceService, handlers as never);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  const client = createClient(IssuanceServiceClient, `127.0.0.1:${port}`, 'issuance');
  const grants = new GrantRequests(client);
  closers.push(() => {
    grants.close();
    client.close();
    server.forceShutdown();
  });
  return grants;
}

const byCall = { requestGrant: (_call: unknown, callback: (error: null, response: RequestGrantResponse) => void) => callback(null, BY_CALL) };

describe('GrantRequests (RequestGrantStream, client side)', () => {
  it('asks by RequestGrant call when issuance has no stream (UNIMPLEMENTED: nothing was granted)', async () => {
    const grants = await serve(byCall);
    expect((await grants.request(request, 2_000)).accessToken).toBe('token-by-call');
    expect((await grants.request(request, 2_000)).accessToken).toBe('token-by-call');
  });

  it('answers from the stream: the grant, or the error RequestGrant would have thrown', async () => {
    const grants = await serve({
      ...byCall,
      requestGrantStream: (call: ServerDuplexStream<RequestGrantStreamRequest, RequestGrantStreamResponse>) => {
        call.on('data', ({ id, request: asked }: RequestGrantStreamRequest) => {
          if (asked?.resource === 'refused') call.write({ id, error: { status: status.RESOURCE_EXHAUSTED, code: 'ERR_RATE_LIMITED', message: 'slow down', field: '', retryAfterMs: 250 } });
          else call.write({ id, grant: { ...BY_CALL, accessToken: `token-by-stream-${asked?.idempotencyKey}` } });
        });
        call.on('end', () => call.end());
      },
    });
    expect((await grants.request(request, 2_000)).accessToken).toBe('token-by-stream-k-1');
    const refused = await grants.request({ ...request, resource: 'refused' }, 2_000).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(MayflyError);
    expect(refused).toMatchObject({ code: 'ERR_RATE_LIMITED', message: 'slow down', retryAfterMs: 250 });
  });

  it('a stream that ends before answering leaves the grant unknown: ERR_DEPENDENCY_UNAVAILABLE, retried with the same key', async () => {
    const grants = await serve({
      ...byCall,
      requestGrantStream: (call: ServerDuplexStream<RequestGrantStreamRequest, RequestGrantStreamResponse>) => {
        call.on('data', () => call.emit('error', { code: status.UNAVAILABLE, details: 'shutting down' }));
      },
    });
    const lost = await grants.request(request, 2_000).catch((error: unknown) => error);
    expect(lost).toMatchObject({ code: 'ERR_DEPENDENCY_UNAVAILABLE' });
    expect((lost as Error).message).toMatch(/same idempotency key/);
  });
});

describe('errorOf', () => {
  it('keeps a Mayfly error code, field and retry hint; reads the status when there is no code', () => {
    expect(errorOf({ status: status.INVALID_ARGUMENT, code: 'ERR_INVALID_ARGUMENT', message: 'task.id: is required', field: 'task.id', retryAfterMs: 0 })).toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
      field: 'task.id',
      retryAfterMs: undefined,
    });
    expect(errorOf({ status: status.UNAVAILABLE, code: '', message: 'down', field: '', retryAfterMs: 0 }).code).toBe('ERR_DEPENDENCY_UNAVAILABLE');
    expect(errorOf({ status: status.INTERNAL, code: 'NOT_A_CODE', message: 'boom', field: '', retryAfterMs: 0 }).code).toBe('ERR_INTERNAL');
  });
});
