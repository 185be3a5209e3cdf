import { readFileSync } from 'node:fs';
import { serviceAddress } from '@mayfly/config';
import { callUnary, createClient } from '@mayfly/grpc';
import { useOperatorIdentity } from '@mayfly/mesh';
import { ApprovalServiceClient, GrantStatus, grantStatusToJSON, type Grant, type GrantForReview } from '@mayfly/proto';
import type { CommandContext } from '../command.js';
import { LIMIT, oneOf, wholeNumber } from '../flags.js';

/**
 * `mayfly approvals|break-glass|grants …`: what people do with requests that wait for them and
 * with break-glass grants, through issuance's ApprovalService. Every call is made as a person:
 * their OIDC ID token from the approvers' identity provider (--id-token TOKEN, --id-token @FILE,
 * or MAYFLY_ID_TOKEN). The audit trail records that person, and separation of duties is judged
 * on them.
 */
async function withApprovals<T>(context: CommandContext, call: (client: ApprovalServiceClient, idToken: string) => Promise<T>): Promise<T> {
  useOperatorIdentity(context.stateDir); // the mesh CA, to check issuance's certificate
  const idToken = readIdToken(context);
  const client = createClient(ApprovalServiceClient, serviceAddress('issuance'), 'issuance');
  try {
    return await call(client, idToken);
  } finally {
    client.close();
  }
}

function readIdToken(context: CommandContext): string {
  const given = context.flags.idToken ?? process.env['MAYFLY_ID_TOKEN'];
  if (!given) throw new Error('no identity: pass --id-token TOKEN (or @FILE), or set MAYFLY_ID_TOKEN, with your OIDC ID token from the approvers\' identity provider (locally: mayfly people token <email> --groups G)');
  return given.startsWith('@') ? readFileSync(given.slice(1), 'utf8').trim() : given;
}

function argument(context: CommandContext, usage: string): string {
  const value = context.args[0];
  if (!value) throw new Error(`usage: ${usage}`);
  return value;
}

const status = (grant: Grant | undefined): string => (grant ? grantStatusToJSON(grant.status).replace('GRANT_STATUS_', '').toLowerCase() : '');
const when = (date: Date | undefined): string => date?.toISOString() ?? '';
const votes = (grant: Grant | undefined): string => {
  const approval = grant?.approval;
  if (!approval) return '';
  const approvals = approval.votes.filter((vote) => vote.approved).length;
  return `${approvals}/${approval.requirement?.threshold ?? '?'}`;
};

function reviewRow(entry: GrantForReview): Record<string, string> {
  const grant = entry.grant;
  return {
    grant: grant?.id ?? '',
    workload: grant?.spiffeId ?? '',
    owner: entry.workload ? `${entry.workload.ownerTeam} <${entry.workload.ownerContact}>` : '',
    resource: grant?.resource ?? '',
    actions: grant?.actions.join(' ') ?? '',
    task: grant?.task ? `${grant.task.kind} ${grant.task.reference}`.trim() : '',
    rule: grant?.approval?.requirement?.rule ?? '',
    approvals: votes(grant),
    until: when(grant?.approval?.pendingUntil),
  };
}

/** `mayfly approvals list`: requests waiting for approval, oldest first. */
export async function list(context: CommandContext): Promise<void> {
  const response = await withApprovals(context, (client, idToken) => callUnary(client, client.listPending, { idToken }, { target: 'issuance' }));
  if (response.grants.length === 0) context.out.say('nothing waits for approval');
  context.out.table(response.grants.map(reviewRow));
  context.out.document(response.grants);
}

/** `mayfly approvals show <grant-id>`: one request, with why it was asked and who answered. */
export async function show(context: CommandContext): Promise<void> {
  const grantId = argument(context, 'mayfly approvals show <grant-id>');
  const { grant } = await withApprovals(context, (client, idToken) => callUnary(client, client.getGrant, { grantId, idToken }, { target: 'issuance' }));
  if (!grant) throw new Error(`no grant ${grantId}`);
  context.out.table([{ ...reviewRow(grant), status: status(grant.grant), justification: grant.justification }]);
  const answered = grant.grant?.approval?.votes ?? [];
  if (answered.length > 0) {
    context.out.say('');
    context.out.table(answered.map((vote) => ({ by: vote.approver, answer: vote.approved ? 'approve' : 'reject', groups: vote.groups.join(' '), at: when(vote.at), reason: vote.reason })));
  }
  context.out.document(grant);
}

/** `mayfly approvals approve <grant-id> [--reason TEXT]`. */
export async function approve(context: CommandContext): Promise<void> {
  const grantId = argument(context, 'mayfly approvals approve <grant-id> [--reason TEXT]');
  const response = await withApprovals(context, (client, idToken) => callUnary(client, client.approve, { grantId, idToken, reason: context.flags.reason ?? '' }, { target: 'issuance' }));
  context.out.table([{ grant: grantId, approvals: votes(response.grant), status: status(response.grant), issued: response.issued ? 'yes: the workload gets its token now' : 'not yet' }]);
  context.out.document(response);
}

/** `mayfly approvals reject <grant-id> --reason TEXT`: ends the request. */
export async function reject(context: CommandContext): Promise<void> {
  const grantId = argument(context, 'mayfly approvals reject <grant-id> --reason TEXT');
  const response = await withApprovals(context, (client, idToken) => callUnary(client, client.reject, { grantId, idToken, reason: context.flags.reason ?? '' }, { target: 'issuance' }));
  context.out.table([{ grant: grantId, status: status(response.grant), reason: response.grant?.endReason ?? '' }]);
  context.out.document(response);
}

/** `mayfly break-glass list [--all]`: break-glass grants not yet reviewed (--all: every one). */
export async function breakGlassList(context: CommandContext): Promise<void> {
  const response = await withApprovals(context, (client, idToken) => callUnary(client, client.listBreakGlass, { idToken, includeReviewed: context.flags.all }, { target: 'issuance' }));
  if (response.grants.length === 0) context.out.say(context.flags.all ? 'no break-glass grants' : 'no unreviewed break-glass grants');
  context.out.table(
    response.grants.map((entry) => ({
      grant: entry.grant?.id ?? '',
      workload: entry.grant?.spiffeId ?? '',
      incident: entry.grant?.breakGlass?.incidentReference ?? '',
      issued: when(entry.grant?.issuedAt),
      status: status(entry.grant),
      reviewed: entry.grant?.breakGlass?.reviewedBy ? `by ${entry.grant.breakGlass.reviewedBy} at ${when(entry.grant.breakGlass.reviewedAt)}` : 'NOT REVIEWED',
    })),
  );
  context.out.document(response.grants);
}

/** `mayfly break-glass review <grant-id> --review TEXT`: the after-action review. */
export async function breakGlassReview(context: CommandContext): Promise<void> {
  const grantId = argument(context, 'mayfly break-glass review <grant-id> --review TEXT');
  const response = await withApprovals(context, (client, idToken) => callUnary(client, client.reviewBreakGlass, { grantId, idToken, review: context.flags.review ?? '' }, { target: 'issuance' }));
  context.out.table([{ grant: grantId, reviewedBy: response.grant?.breakGlass?.reviewedBy ?? '', at: when(response.grant?.breakGlass?.reviewedAt) }]);
  context.out.document(response);
}

const STATUSES: Record<string, GrantStatus> = {
  pending_approval: GrantStatus.GRANT_STATUS_PENDING_APPROVAL,
  active: GrantStatus.GRANT_STATUS_ACTIVE,
  completed: GrantStatus.GRANT_STATUS_COMPLETED,
  revoked: GrantStatus.GRANT_STATUS_REVOKED,
  expired: GrantStatus.GRANT_STATUS_EXPIRED,
  denied: GrantStatus.GRANT_STATUS_DENIED,
};

/** `mayfly grants list [--status S[,S]] [--workload SPIFFE-ID] [--resource R] [--task ID] [--limit N]`: newest first. */
export async function grantsList(context: CommandContext): Promise<void> {
  const statuses = (context.flags.status ?? '').split(',').filter(Boolean).map((name) => oneOf(STATUSES, name, '--status'));
  const limit = wholeNumber(context.flags.limit, '--limit', LIMIT, 50);
  const response = await withApprovals(context, (client, idToken) =>
    callUnary(client, client.listGrants, { idToken, statuses, spiffeId: context.flags.workload ?? '', resource: context.flags.resource ?? '', taskId: context.flags.task ?? '', pageToken: '', limit }, { target: 'issuance' }),
  );
  context.out.table(
    response.grants.map((grant) => ({
      grant: grant.id,
      status: status(grant),
      workload: grant.spiffeId,
      resource: grant.resource,
      actions: grant.actions.join(' '),
      task: grant.task?.id ?? '',
      issued: when(grant.issuedAt),
      expires: when(grant.expiresAt),
      flags: [grant.breakGlass ? 'break-glass' : '', grant.delegation ? `delegated(${grant.delegation.delegators.length})` : '', grant.approval ? `approved ${votes(grant)}` : ''].filter(Boolean).join(' '),
    })),
  );
  context.out.document(response.grants);
}

/** `mayfly grants show <grant-id>`: one grant, whatever its status. */
export async function grantsShow(context: CommandContext): Promise<void> {
  const grantId = argument(context, 'mayfly grants show <grant-id>');
  const { grant } = await withApprovals(context, (client, idToken) => callUnary(client, client.getGrant, { grantId, idToken }, { target: 'issuance' }));
  const g = grant?.grant;
  if (!g) throw new Error(`no grant ${grantId}`);
  const rows: Record<string, string>[] = [
    { field: 'status', value: status(g) + (g.endReason ? ` (${g.endReason})` : '') },
    { field: 'workload', value: g.spiffeId },
    { field: 'resource', value: `${g.resource} [${g.actions.join(' ')}]` },
    { field: 'task', value: `${g.task?.id ?? ''} ${g.task?.kind ?? ''} ${g.task?.reference ?? ''}`.trim() },
    { field: 'issued', value: when(g.issuedAt) },
    { field: 'expires', value: when(g.expiresAt) },
    { field: 'renewable until', value: when(g.renewableUntil) },
    { field: 'renewals', value: String(g.renewals) },
    { field: 'policies', value: g.policyIds.join(', ') },
  ];
  if (g.delegation) rows.push({ field: 'delegated by', value: g.delegation.delegators.join(' → ') });
  if (g.approval) rows.push({ field: 'approval', value: `${g.approval.requirement?.rule} ${votes(g)}: ${g.approval.votes.map((vote) => `${vote.approved ? '+' : '-'}${vote.approver}`).join(' ')}` });
  if (g.breakGlass) rows.push({ field: 'break-glass', value: `${g.breakGlass.incidentReference}; ${g.breakGlass.reviewedBy ? `reviewed by ${g.breakGlass.reviewedBy}: ${g.breakGlass.review}` : 'NOT REVIEWED'}` });
  context.out.table(rows);
  context.out.document(grant);
}
