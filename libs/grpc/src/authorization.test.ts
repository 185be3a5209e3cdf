import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AttestationServiceService,
  AuditServiceService,
  DecisionServiceService,
  EdgeVerifierServiceService,
  IssuanceServiceService,
  RevocationServiceService,
} from '@mayfly/proto';
import { isMayflyError } from '@mayfly/core';
import { ALLOWED_CALLERS, authorizeCaller } from './authorization.js';

/** Every service Mayfly defines in proto/: each of their RPCs must have a caller rule. */
const SERVICES = [AttestationServiceService, AuditServiceService, DecisionServiceService, EdgeVerifierServiceService, IssuanceServiceService, RevocationServiceService];

const saved = { ...process.env };
beforeEach(() => {
  delete process.env['MAYFLY_INSECURE_DEV'];
  Object.assign(process.env, { MAYFLY_TLS_CA_FILE: '/nonexistent/ca.pem', MAYFLY_TLS_CERT_FILE: '/x.pem', MAYFLY_TLS_KEY_FILE: '/x-key.pem', MAYFLY_TRUST_DOMAIN: 'mayfly.test' });
});
afterEach(() => {
  process.env = { ...saved };
});

const certFor = (...ids: string[]) => ({ subjectaltname: ids.map((id) => `URI:${id}`).join(', ') }) as never;

describe('caller authorization', () => {
  it('has a rule for every RPC of every service in the proto contract', () => {
    const served = SERVICES.flatMap((service) => Object.values(service).map((method) => method.path.slice(1)));
    expect(served.length).toBeGreaterThanOrEqual(8);
    for (const method of served) expect(ALLOWED_CALLERS, method).toHaveProperty([method]);
  });

  it('refuses an RPC missing from the table, whoever calls (default deny)', () => {
    for (const cert of [certFor('spiffe://mayfly.test/mayfly/issuance'), certFor('spiffe://mayfly.test/mayfly/operator'), undefined]) {
      let error: unknown;
      try {
        authorizeCaller('mayfly.v1.IssuanceService/SomethingNew', cert);
      } catch (e) {
        error = e;
      }
      expect(isMayflyError(error, 'ERR_CALLER_NOT_ALLOWED')).toBe(true);
    }
  });

  it('returns the verified caller identity for listed components and refuses the others', () => {
    expect(authorizeCaller('mayfly.v1.DecisionService/Decide', certFor('spiffe://mayfly.test/mayfly/issuance'))).toBe('spiffe://mayfly.test/mayfly/issuance');
    expect(() => authorizeCaller('mayfly.v1.DecisionService/Decide', certFor('spiffe://mayfly.test/mayfly/revocation'))).toThrow(/may not call/);
    expect(() => authorizeCaller('mayfly.v1.DecisionService/Decide', undefined)).toThrow(/client certificate/);
  });

  it('remembers admissions per certificate and method, never refusals', () => {
    const issuance = certFor('spiffe://mayfly.test/mayfly/issuance');
    const revocation = certFor('spiffe://mayfly.test/mayfly/revocation');
    for (let i = 0; i < 3; i++) {
      expect(authorizeCaller('mayfly.v1.DecisionService/DecideBatch', issuance)).toBe('spiffe://mayfly.test/mayfly/issuance');
      expect(() => authorizeCaller('mayfly.v1.DecisionService/DecideBatch', revocation)).toThrow(/may not call/);
    }
    // Admitted for one method is not admitted for another.
    expect(() => authorizeCaller('mayfly.v1.AuditService/ListEvents', issuance)).toThrow(/may not call/);
  });

  it('lets anyone reach workload-facing RPCs, reporting the certificate identity if there is one', () => {
    expect(authorizeCaller('mayfly.v1.IssuanceService/RequestGrant', undefined)).toBeUndefined();
    expect(authorizeCaller('mayfly.v1.EdgeVerifierService/Verify', certFor('spiffe://mayfly.test/app'))).toBe('spiffe://mayfly.test/app');
  });
});
