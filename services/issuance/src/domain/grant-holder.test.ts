import { describe, expect, it } from 'vitest';
import { MayflyError } from '@mayfly/core';
import type { CredentialFormat, PresentedCredential } from '../credentials/credential-format.js';
import { completeGrant, type CompletionPorts } from './complete-grant.js';
import { completeTask, type TaskCompletionPorts } from './complete-task.js';
import type { SessionCertificate } from './workload-identity.js';

const GRANT = '0b5f3c2e-8f4e-4a57-9d43-4f3f0a5e3c11';
const bound: PresentedCredential = { grantId: GRANT, tokenId: 't1', spiffeId: 'spiffe://demo.mayfly.local/app', taskId: 'task-1', expired: false, certificateThumbprint: 'thumb-of-session' };
const session: SessionCertificate = { spiffeId: bound.spiffeId, serial: '01', thumbprint: 'thumb-of-session', notBefore: new Date(0), notAfter: new Date(4e12) };

function credentials(presented: PresentedCredential): CredentialFormat {
  return { name: 'test', mint: () => Promise.reject(new Error('unused')), inspect: () => Promise.resolve(presented), reissuable: () => '', reissue: () => undefined };
}

function ports(): CompletionPorts & TaskCompletionPorts & { ended: string[] } {
  const ended: string[] = [];
  return {
    ended,
    checkSession: () => Promise.resolve(),
    checkWorkloadEnabled: () => Promise.resolve(),
    complete: (grantId) => {
      ended.push(grantId);
      return Promise.resolve({ grant: undefined, endedGrantIds: [grantId], revocationId: '' } as never);
    },
    completeTask: (taskId) => {
      ended.push(taskId);
      return Promise.resolve({ grant: undefined, endedGrantIds: [GRANT], revocationId: '' } as never);
    },
  };
}

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    return error instanceof MayflyError ? error.code : String(error);
  }
}

// Red team (issue 20, point 7): a stolen bound token ended its grant with CompleteGrant and
// CompleteTask without the certificate it is bound to.
describe('ending a grant with a bound token', () => {
  it('CompleteGrant refuses a bound token presented without its certificate, and ends nothing', async () => {
    const world = ports();
    expect(await codeOf(completeGrant({ grantId: GRANT, accessToken: 'x.y.z', outcome: '' }, {}, credentials(bound), world))).toBe('ERR_TOKEN_INVALID');
    const other = { ...session, thumbprint: 'another-certificate' };
    expect(await codeOf(completeGrant({ grantId: GRANT, accessToken: 'x.y.z', outcome: '' }, { session: other }, credentials(bound), world))).toBe('ERR_TOKEN_INVALID');
    expect(world.ended).toEqual([]);
  });

  it('CompleteGrant accepts it over mutual TLS with that certificate', async () => {
    const world = ports();
    await completeGrant({ grantId: GRANT, accessToken: 'x.y.z', outcome: 'done' }, { session }, credentials(bound), world);
    expect(world.ended).toEqual([GRANT]);
  });

  it('CompleteTask refuses a bound token presented without its certificate, and ends nothing', async () => {
    const world = ports();
    expect(await codeOf(completeTask({ taskId: 'task-1', accessToken: 'x.y.z', outcome: '' }, {}, credentials(bound), world))).toBe('ERR_TOKEN_INVALID');
    expect(world.ended).toEqual([]);
  });

  it('an unbound token still ends its grant and task while its workload is enabled, and not once it is disabled', async () => {
    const unbound = { ...bound, certificateThumbprint: undefined };
    const world = ports();
    await completeGrant({ grantId: GRANT, accessToken: 'x.y.z', outcome: '' }, {}, credentials(unbound), world);
    await completeTask({ taskId: 'task-1', accessToken: 'x.y.z', outcome: '' }, {}, credentials(unbound), world);
    expect(world.ended).toEqual([GRANT, 'task-1']);
    const disabled = { ...ports(), checkWorkloadEnabled: () => Promise.reject(new MayflyError('ERR_SVID_REJECTED', 'disabled')) };
    expect(await codeOf(completeGrant({ grantId: GRANT, accessToken: 'x.y.z', outcome: '' }, {}, credentials(unbound), disabled))).toBe('ERR_SVID_REJECTED');
  });
});
