import { MayflyError } from '@mayfly/core';
import { fromServiceError } from '@mayfly/grpc';
import { GrantStatus, type Credential, type Grant, type IssuanceServiceClient, type WatchGrantResponse } from '@mayfly/proto';
import type { ServiceError } from '@grpc/grpc-js';

export interface ApprovalWait {
  /** Give up after this long (default: until the request's own pending_until). */
  readonly timeoutMs?: number;
  /** Abort waiting (the request stays pending until it is answered or expires). */
  readonly signal?: AbortSignal;
  /** Hears each state while waiting: the request, then every approval recorded. */
  readonly onUpdate?: (grant: Grant) => void;
}

/**
 * Follows a pending grant with WatchGrant until it is approved (resolves with the grant and its
 * token), rejected (ERR_APPROVAL_REJECTED), or ends otherwise (ERR_GRANT_NOT_PENDING). The
 * stream is re-opened if it breaks; the token is the same whenever it is collected.
 */
export async function waitForApproval(client: IssuanceServiceClient, grant: Grant, claimSecret: string, wait: ApprovalWait = {}): Promise<{ grant: Grant; accessToken: string; credential: Credential | undefined }> {
  const pendingUntil = grant.approval?.pendingUntil?.getTime() ?? Date.now() + 3_600_000;
  const until = wait.timeoutMs !== undefined ? Math.min(Date.now() + wait.timeoutMs, pendingUntil + 5_000) : pendingUntil + 5_000;
  for (;;) {
    wait.signal?.throwIfAborted();
    const outcome = await watchOnce(client, grant.id, claimSecret, until, wait);
    if (outcome.accessToken) return { grant: outcome.grant!, accessToken: outcome.accessToken, credential: outcome.credential };
    const status = outcome.grant?.status;
    if (status === GrantStatus.GRANT_STATUS_DENIED) throw new MayflyError('ERR_APPROVAL_REJECTED', `grant ${grant.id} was ${outcome.grant?.endReason || 'rejected'}`);
    if (status !== undefined && status !== GrantStatus.GRANT_STATUS_PENDING_APPROVAL) {
      throw new MayflyError('ERR_GRANT_NOT_PENDING', `grant ${grant.id} ended without approval: ${outcome.grant?.endReason || 'it is no longer pending'}`);
    }
    if (Date.now() >= until) throw new MayflyError('ERR_DEADLINE_EXCEEDED', `grant ${grant.id} is still waiting for approval; stopped waiting (it stays pending until ${new Date(pendingUntil).toISOString()})`);
    await new Promise((resolve) => setTimeout(resolve, 250)); // the stream broke: follow it again
  }
}

/** One WatchGrant stream: its last message, once it ends (or breaks). */
function watchOnce(client: IssuanceServiceClient, grantId: string, claimSecret: string, until: number, wait: ApprovalWait): Promise<Partial<WatchGrantResponse>> {
  return new Promise((resolve, reject) => {
    let last: Partial<WatchGrantResponse> = {};
    const stream = client.watchGrant({ grantId, claimSecret }, { deadline: until });
    const onAbort = (): void => stream.cancel();
    wait.signal?.addEventListener('abort', onAbort, { once: true });
    const finish = (settle: () => void): void => {
      wait.signal?.removeEventListener('abort', onAbort);
      settle();
    };
    stream.on('data', (message: WatchGrantResponse) => {
      last = message;
      if (message.grant) wait.onUpdate?.(message.grant);
    });
    stream.on('end', () => finish(() => resolve(last)));
    stream.on('error', (error: ServiceError) => {
      if (wait.signal?.aborted) return finish(() => reject(wait.signal!.reason));
      const failure = fromServiceError(error, 'issuance');
      // A broken stream (issuance restarting, the deadline) is followed again by the caller.
      if (failure instanceof MayflyError && (failure.code === 'ERR_DEPENDENCY_UNAVAILABLE' || failure.code === 'ERR_DEADLINE_EXCEEDED')) return finish(() => resolve(last));
      finish(() => reject(failure));
    });
  });
}
