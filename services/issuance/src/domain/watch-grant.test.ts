import { type PendingApproval } from '@mayfly/model';
import { describe, expect, it } from 'vitest';
import { isMayflyError } from '@mayfly/core';
import { GrantStatus, type WatchGrantResponse } from '@mayfly/proto';
import type { CredentialFormat } from '../credentials/credential-format.js';
import { claimSecretDigest } from './pending-grant.js';
import { watchGrant } from './watch-grant.js';

const NOW = new Date('2026-11-30T10:00:00Z');
const GRANT_ID = '11111111-1111-4111-8111-111111111111';
const SECRET = 'the-claim-secret-the-workload-got';

function state(fields: { status: PendingApproval['grant']['status']; approvedAt?: Date; votes?: number }): PendingApproval {
  return {
    grant: { id: GRANT_ID, status: fields.status, token_reissue: fields.approvedAt ? 'signing-input' : null, actions: ['write'], policy_ids: [], delegators: [], ancestor_grant_ids: [], break_glass: false, task_id: 't', task_kind: 'change', task_reference: 'CHG-1' } as unknown as PendingApproval['grant'],
    request: {
      grant_id: GRANT_ID,
      rule: 'prod-writes',
      approver_groups: ['sre'],
      threshold: 2,
      pending_until: new Date(NOW.getTime() + 600_000),
      approval_valid_seconds: 60,
      claim_secret_digest: claimSecretDigest(SECRET),
      approved_at: fields.approvedAt ?? null,
      created_at: NOW,
    } as unknown as PendingApproval['request'],
    votes: Array.from({ length: fields.votes ?? 0 }, (_, i) => ({ grant_id: GRANT_ID, approver: `p${i}`, approver_name: null, groups: ['sre'], approved: true, reason: '', at: NOW })),
  };
}

const credentials = { reissue: (saved: string) => `token-from-${saved}` } as unknown as CredentialFormat;

async function follow(states: PendingApproval[], secret = SECRET, clock = () => NOW): Promise<{ sent: WatchGrantResponse[]; error?: unknown }> {
  const sent: WatchGrantResponse[] = [];
  let read = 0;
  try {
    await watchGrant({ grantId: GRANT_ID, claimSecret: secret }, { cancelled: () => false }, credentials, {
      findApproval: async () => states[Math.min(read++, states.length - 1)],
      waitForChange: async () => undefined,
      collectCredential: async (_grant, grantToken) => ({ accessToken: grantToken }),
    }, (message) => sent.push(message), clock);
    return { sent };
  } catch (error) {
    return { sent, error };
  }
}

describe('watchGrant', () => {
  it('sends the state at each change and, once approved, the token — then ends', async () => {
    const { sent, error } = await follow([state({ status: 'pending_approval' }), state({ status: 'pending_approval' }), state({ status: 'pending_approval', votes: 1 }), state({ status: 'active', approvedAt: NOW, votes: 2 })]);
    expect(error).toBeUndefined();
    expect(sent.map((message) => [message.grant?.status, message.grant?.approval?.votes.length, message.accessToken])).toEqual([
      [GrantStatus.GRANT_STATUS_PENDING_APPROVAL, 0, ''],
      [GrantStatus.GRANT_STATUS_PENDING_APPROVAL, 1, ''],
      [GrantStatus.GRANT_STATUS_ACTIVE, 2, 'token-from-signing-input'],
    ]);
  });

  it('ends with the final state, and no token, when the request is rejected or expires', async () => {
    const { sent } = await follow([state({ status: 'pending_approval' }), state({ status: 'denied', votes: 1 })]);
    expect(sent.at(-1)).toMatchObject({ accessToken: '', grant: { status: GrantStatus.GRANT_STATUS_DENIED } });
  });

  it('hands the token out only within the approval validity, counted from the approval', async () => {
    const lapsed = await follow([state({ status: 'active', approvedAt: NOW })], SECRET, () => new Date(NOW.getTime() + 61_000));
    expect(isMayflyError(lapsed.error, 'ERR_GRANT_NOT_PENDING')).toBe(true);
    expect(lapsed.sent).toEqual([]);
  });

  it('refuses a wrong claim secret without saying whether the grant exists', async () => {
    const wrong = await follow([state({ status: 'active', approvedAt: NOW })], 'guessed');
    expect(isMayflyError(wrong.error, 'ERR_TOKEN_INVALID')).toBe(true);
    expect(wrong.sent).toEqual([]);
  });
});
