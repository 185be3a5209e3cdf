import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { MayflyError, createLogger } from '@mayfly/core';
import { Writable } from 'node:stream';
import { fromServiceError, toStatus } from './status-mapping.js';

const quiet = createLogger('test', { destination: new Writable({ write: (_c, _e, done) => done() }) });

describe('status mapping', () => {
  it('carries a MayflyError across the wire with its status, message, code and field', () => {
    const sent = toStatus(new MayflyError('ERR_INVALID_ARGUMENT', 'task.id: is required', { field: 'task.id' }), quiet, 'RequestGrant');
    expect(sent.code).toBe(status.INVALID_ARGUMENT);
    const received = fromServiceError(Object.assign(new Error('x'), sent) as ServiceError, 'issuance');
    expect(received).toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: 'task.id: is required', field: 'task.id' });
  });

  it('hides unexpected errors behind a reference', () => {
    const sent = toStatus(new Error('relation "grants" does not exist'), quiet, 'RequestGrant');
    expect(sent.code).toBe(status.INTERNAL);
    expect(sent.details).not.toContain('grants');
    expect(sent.details).toMatch(/internal error \(ref [0-9a-f-]+\)/);
  });

  it('maps transport failures without a Mayfly code to the nearest code', () => {
    const unavailable = Object.assign(new Error('x'), { code: status.UNAVAILABLE, details: 'No connection established', metadata: new Metadata() });
    expect(fromServiceError(unavailable as ServiceError, 'decision')).toMatchObject({ code: 'ERR_DEPENDENCY_UNAVAILABLE' });
  });
});
