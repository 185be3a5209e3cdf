import { describe, expect, it } from 'vitest';
import { MayflyError } from '@mayfly/core';
import { EnvReader } from './env.js';
import { tlsSettings } from './settings.js';

describe('tlsSettings', () => {
  it('refuses to run without TLS unless the insecure development flag is set', () => {
    expect(() => tlsSettings(new EnvReader({}), { requireIdentity: true })).toThrow(MayflyError);
    expect(() => tlsSettings(new EnvReader({}), { requireIdentity: true })).toThrow(/MAYFLY_TLS_CA_FILE.*MAYFLY_INSECURE_DEV=true/s);
    expect(tlsSettings(new EnvReader({ MAYFLY_INSECURE_DEV: 'true' }), { requireIdentity: true })).toEqual({ mode: 'insecure' });
  });

  it('lets a workload have only the CA, but a service needs its certificate and key', () => {
    const env = new EnvReader({ MAYFLY_TLS_CA_FILE: '/ca.pem' });
    expect(tlsSettings(env, { requireIdentity: false })).toMatchObject({ mode: 'tls', caFile: '/ca.pem', certFile: undefined, trustDomain: 'mayfly.local' });
    expect(() => tlsSettings(env, { requireIdentity: true })).toThrow(/MAYFLY_TLS_CERT_FILE, MAYFLY_TLS_KEY_FILE/);
    expect(() => tlsSettings(new EnvReader({ MAYFLY_TLS_CA_FILE: '/ca', MAYFLY_TLS_CERT_FILE: '/c' }), { requireIdentity: false })).toThrow(/both/);
  });
});
