import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';

function capture(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return { stream, text: () => chunks.join('') };
}

describe('createLogger', () => {
  it('censors tokens, evidence and keys at the top level and one level down', () => {
    const out = capture();
    const log = createLogger('test', { destination: out.stream });
    log.info(
      {
        token: 'eyJ-TOP-SECRET',
        request: { accessToken: 'eyJ-NESTED-1', evidence: 'eyJ-NESTED-2', oidcToken: 'eyJ-NESTED-3', privateKey: 'PRIV', jwtSvid: 'eyJ-NESTED-4', x509Assertion: 'eyJ-NESTED-5', joinToken: 'eyJ-mfjt_NESTED-6' },
        grantId: 'g-1',
      },
      'grant issued',
    );
    const line = JSON.parse(out.text()) as Record<string, unknown>;
    expect(out.text()).not.toMatch(/eyJ-|PRIV/);
    expect(line['token']).toBe('[redacted]');
    expect(line['grantId']).toBe('g-1');
    expect(line['service']).toBe('test');
    expect(line['msg']).toBe('grant issued');
  });
});
