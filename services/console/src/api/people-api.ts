import { callUnary } from '@mayfly/grpc';
import { GrantStatus, type ApprovalServiceClient, type Grant, type GrantForReview } from '@mayfly/proto';
import type { Session } from '../auth/sessions.js';

const STATUS_BY_NAME: Readonly<Record<string, GrantStatus>> = {
  active: GrantStatus.GRANT_STATUS_ACTIVE,
  pending_approval: GrantStatus.GRANT_STATUS_PENDING_APPROVAL,
  completed: GrantStatus.GRANT_STATUS_COMPLETED,
  revoked: GrantStatus.GRANT_STATUS_REVOKED,
  expired: GrantStatus.GRANT_STATUS_EXPIRED,
  denied: GrantStatus.GRANT_STATUS_DENIED,
};

/**
 * What the console asks of the mesh, always as the signed-in person: every call carries their
 * ID token, and issuance decides what they may see and do by the same rules as for the CLI
 * (separation of duties, thresholds, groups, reader and owner scopes). The console's own mesh
 * identity only opens the connection; it grants no person anything.
 */
export class PeopleApi {
  constructor(private readonly client: ApprovalServiceClient) {}

  /** Who issuance says the person is, and whether they may read everything (the audit trail, the usage review). */
  whoAmI(session: Session): Promise<{ name: string; groups: string[]; reader: boolean }> {
    return callUnary(this.client, this.client.whoAmI, { idToken: session.idToken }, { target: 'issuance' });
  }

  pending(session: Session): Promise<GrantForReview[]> {
    return callUnary(this.client, this.client.listPending, { idToken: session.idToken }, { target: 'issuance' }).then((answer) => answer.grants);
  }

  async answer(session: Session, grantId: string, answer: 'approve' | 'reject', reason: string): Promise<{ issued: boolean }> {
    if (answer === 'approve') {
      const approved = await callUnary(this.client, this.client.approve, { grantId, idToken: session.idToken, reason }, { target: 'issuance' });
      return { issued: approved.issued };
    }
    await callUnary(this.client, this.client.reject, { grantId, idToken: session.idToken, reason }, { target: 'issuance' });
    return { issued: false };
  }

  grants(session: Session, filter: { status: string; workload: string; resource: string; task: string; pageToken?: string; limit?: number }): Promise<{ grants: Grant[]; nextPageToken: string }> {
    const status = STATUS_BY_NAME[filter.status];
    return callUnary(
      this.client,
      this.client.listGrants,
      { idToken: session.idToken, statuses: status === undefined ? [] : [status], spiffeId: filter.workload, resource: filter.resource, taskId: filter.task, pageToken: filter.pageToken ?? '', limit: filter.limit ?? 50 },
      { target: 'issuance' },
    );
  }

  async grant(session: Session, grantId: string): Promise<GrantForReview | undefined> {
    return (await callUnary(this.client, this.client.getGrant, { grantId, idToken: session.idToken }, { target: 'issuance' })).grant;
  }

  breakGlass(session: Session): Promise<GrantForReview[]> {
    return callUnary(this.client, this.client.listBreakGlass, { idToken: session.idToken, includeReviewed: true }, { target: 'issuance' }).then((answer) => answer.grants);
  }

  async review(session: Session, grantId: string, review: string): Promise<void> {
    await callUnary(this.client, this.client.reviewBreakGlass, { grantId, idToken: session.idToken, review }, { target: 'issuance' });
  }

  shrinkCeiling(session: Session, spiffeId: string, remove: { resource: string; actions: string[] }[], revokeUncovered: boolean, reason: string): Promise<{ uncoveredGrantIds: string[]; revoked: number }> {
    return callUnary(this.client, this.client.shrinkCeiling, { idToken: session.idToken, spiffeId, remove, revokeUncovered, reason }, { target: 'issuance', timeoutMs: 15_000 });
  }

  revoke(session: Session, reason: string, target: { grantId: string } | { task: { taskId: string; spiffeId: string } } | { spiffeId: string }): Promise<{ grantsEnded: number }> {
    return callUnary(this.client, this.client.revokeGrants, { idToken: session.idToken, reason, ...target }, { target: 'issuance' });
  }
}
