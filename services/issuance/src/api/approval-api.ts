import type { Logger } from '@mayfly/core';
import { toGrantMessage, toWorkloadMessage, type GrantStatusName, type StoredGrant } from '@mayfly/model';
import { unary, type CallContext } from '@mayfly/grpc';
import { GrantStatus, type ApprovalServiceServer, type GrantForReview } from '@mayfly/proto';
import { MayflyError, validateUuid } from '@mayfly/core';
import type { CredentialFormat } from '../credentials/credential-format.js';
import type { GrantReads } from '../domain/ports.js';
import { answerRequest, type AnswerOptions, type AnswerPorts } from '../domain/answer-request.js';
import { reviewBreakGlass, type ReviewPorts } from '../domain/review-break-glass.js';
import { revokeAsPerson, type PersonRevocationPorts, type PersonRevocationTarget } from '../domain/revoke-as-person.js';
import { shrinkCeiling, type ShrinkPorts } from '../domain/shrink-ceiling.js';
import { checkIsReader, checkMayRead, isReader, mayAnswerOrRead, mayReview, type ReadScope } from '../domain/people-scope.js';
import { decodePageToken, encodePageToken } from '../domain/grant-page-token.js';
import { peerHost } from './peer-host.js';

const peerOf = (call: CallContext): string => peerHost(call.peer);

export interface ApprovalApiDeps {
  readonly reads: GrantReads;
  readonly credentials: CredentialFormat;
  readonly answers: AnswerPorts;
  readonly reviews: ReviewPorts;
  readonly revocations: PersonRevocationPorts;
  readonly shrinks: ShrinkPorts;
  readonly options: AnswerOptions;
  /** Who may read what (see people-scope.ts). */
  readonly scope: ReadScope;
  readonly log: Logger;
}

const STATUS_NAMES: Partial<Record<GrantStatus, GrantStatusName>> = {
  [GrantStatus.GRANT_STATUS_PENDING_APPROVAL]: 'pending_approval',
  [GrantStatus.GRANT_STATUS_ACTIVE]: 'active',
  [GrantStatus.GRANT_STATUS_COMPLETED]: 'completed',
  [GrantStatus.GRANT_STATUS_REVOKED]: 'revoked',
  [GrantStatus.GRANT_STATUS_EXPIRED]: 'expired',
  [GrantStatus.GRANT_STATUS_DENIED]: 'denied',
};

/**
 * ApprovalService: what people do with requests that wait for them, and with break-glass
 * grants. Every call is made by a person, proven by an OIDC ID token from the approvers'
 * identity provider; reading is scoped (people-scope.ts), answering is ruled by separation of duties.
 */
export function approvalApi({ reads, credentials, answers, reviews, revocations, shrinks, options, scope, log }: ApprovalApiDeps): ApprovalServiceServer {
  /** A grant with its approval and workload, as people review it. */
  const reviewed = async (grant: StoredGrant) => ({ grant, approval: await reads.approval(grant.id), workload: await reads.workload(grant.spiffe_id) });
  const asReview = ({ grant, approval, workload }: Awaited<ReturnType<typeof reviewed>>): GrantForReview => ({
    grant: toGrantMessage(grant, approval),
    workload: workload ? toWorkloadMessage(workload) : undefined,
    justification: approval?.request.justification ?? '',
  });
  const forReview = async (grant: StoredGrant): Promise<GrantForReview> => asReview(await reviewed(grant));
  return {
    listPending: unary(log, 'mayfly.v1.ApprovalService/ListPending', async (request) => {
      const person = await answers.verifyApprover(request.idToken);
      const pending = (await reads.pendingApprovals(200)).filter((entry) => mayAnswerOrRead(person, entry.request, scope));
      return { grants: await Promise.all(pending.map((entry) => forReview(entry.grant))) };
    }),
    approve: unary(log, 'mayfly.v1.ApprovalService/Approve', async (request, call) => {
      const answer = await answerRequest({ kind: 'approve', grantId: request.grantId, idToken: request.idToken, reason: request.reason, peer: peerOf(call) }, credentials, answers, options);
      log.info({ grantId: request.grantId, issued: answer.issued }, answer.issued ? 'request approved: token issued' : 'approval recorded');
      return answer;
    }),
    reject: unary(log, 'mayfly.v1.ApprovalService/Reject', async (request, call) => {
      const answer = await answerRequest({ kind: 'reject', grantId: request.grantId, idToken: request.idToken, reason: request.reason, peer: peerOf(call) }, credentials, answers, options);
      log.info({ grantId: request.grantId }, 'request rejected');
      return { grant: answer.grant };
    }),
    listBreakGlass: unary(log, 'mayfly.v1.ApprovalService/ListBreakGlass', async (request) => {
      const person = await answers.verifyApprover(request.idToken);
      const grants = (await reads.breakGlassGrants({ includeReviewed: request.includeReviewed, limit: 200 })).filter((grant) => mayReview(person, grant, scope));
      return { grants: await Promise.all(grants.map(forReview)) };
    }),
    reviewBreakGlass: unary(log, 'mayfly.v1.ApprovalService/ReviewBreakGlass', async (request, call) => {
      const grant = await reviewBreakGlass({ grantId: request.grantId, idToken: request.idToken, review: request.review, peer: peerOf(call) }, reviews);
      log.info({ grantId: grant.id }, 'break-glass grant reviewed');
      return { grant: toGrantMessage(grant) };
    }),
    listGrants: unary(log, 'mayfly.v1.ApprovalService/ListGrants', async (request) => {
      checkIsReader(await answers.verifyApprover(request.idToken), scope);
      const statuses = request.statuses.map((status) => {
        const name = STATUS_NAMES[status];
        if (!name) throw new MayflyError('ERR_INVALID_ARGUMENT', `statuses: ${status} is not a grant status`, { field: 'statuses' });
        return name;
      });
      const limit = Math.min(request.limit || 50, 500);
      // One more than the page: whether another page follows, without a count over every grant.
      const grants = await reads.grants({
        statuses,
        spiffeId: request.spiffeId || undefined,
        resource: request.resource || undefined,
        taskId: request.taskId || undefined,
        after: decodePageToken(request.pageToken),
        limit: limit + 1,
      });
      const page = grants.slice(0, limit);
      const last = page.at(-1);
      return { grants: page.map((grant) => toGrantMessage(grant)), nextPageToken: grants.length > limit && last ? encodePageToken({ issuedAt: last.issued_at, id: last.id }) : '' };
    }),
    getGrant: unary(log, 'mayfly.v1.ApprovalService/GetGrant', async (request) => {
      validateUuid('grant_id', request.grantId);
      const person = await answers.verifyApprover(request.idToken);
      const grant = await reads.grant(request.grantId);
      if (!grant) throw new MayflyError('ERR_GRANT_NOT_FOUND', `grant ${request.grantId} does not exist`);
      const found = await reviewed(grant);
      const owners = found.workload ? { ownerTeam: found.workload.owner_team, ownerContact: found.workload.owner_contact } : undefined;
      checkMayRead(person, grant, found.approval?.request, owners, scope);
      return { grant: asReview(found) };
    }),
    shrinkCeiling: unary(log, 'mayfly.v1.ApprovalService/ShrinkCeiling', async (request) => {
      const shrunk = await shrinkCeiling(request, shrinks, scope);
      log.info({ spiffeId: request.spiffeId, uncovered: shrunk.uncoveredGrantIds.length, revoked: shrunk.revoked }, 'ceiling shrunk by a person');
      return shrunk;
    }),
    whoAmI: unary(log, 'mayfly.v1.ApprovalService/WhoAmI', async (request) => {
      const person = await answers.verifyApprover(request.idToken);
      return { name: person.name, groups: [...person.groups], reader: isReader(person, scope) };
    }),
    revokeGrants: unary(log, 'mayfly.v1.ApprovalService/RevokeGrants', async (request) => {
      const target: PersonRevocationTarget | undefined =
        request.grantId !== undefined
          ? { kind: 'grant', grantId: request.grantId }
          : request.task !== undefined
            ? { kind: 'task', taskId: request.task.taskId, spiffeId: request.task.spiffeId }
            : request.spiffeId !== undefined
              ? { kind: 'workload', spiffeId: request.spiffeId }
              : undefined;
      const revoked = await revokeAsPerson({ idToken: request.idToken, reason: request.reason, target }, revocations, scope);
      log.info({ target, by: revoked.person.name, grantsEnded: revoked.grantsEnded }, 'revoked by a person');
      return { grantsEnded: revoked.grantsEnded, revocationId: revoked.revocationId };
    }),
  };
}
