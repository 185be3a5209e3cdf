import { grantStatusToJSON, type Grant, type GrantForReview } from '@mayfly/proto';
import { html, type SafeHtml } from './html.js';

export const statusName = (grant: Grant | undefined): string => (grant ? grantStatusToJSON(grant.status).replace('GRANT_STATUS_', '').toLowerCase() : '');

export const when = (date: Date | undefined): string => (date ? date.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '');

export const taskOf = (grant: Grant | undefined): string => (grant?.task ? [grant.task.kind, grant.task.id, grant.task.reference].filter(Boolean).join(' · ') : '');

export function ownerOf(entry: GrantForReview): string {
  return entry.workload ? `${entry.workload.ownerTeam} <${entry.workload.ownerContact}>` : '';
}

/** "1 of 2" approvals so far. */
export function approvalsSoFar(grant: Grant | undefined): string {
  const approval = grant?.approval;
  if (!approval) return '';
  return `${approval.votes.filter((vote) => vote.approved).length} of ${approval.requirement?.threshold ?? '?'}`;
}

/** Who answered so far, each with their reason. */
export function votesList(grant: Grant | undefined): SafeHtml {
  const votes = grant?.approval?.votes ?? [];
  if (votes.length === 0) return html`<p class="muted">Nobody has answered yet.</p>`;
  return html`<ul class="votes">${votes.map((vote) => html`<li><strong>${vote.approver}</strong> ${vote.approved ? 'approved' : 'rejected'} at ${when(vote.at)}${vote.reason ? html`: <q>${vote.reason}</q>` : ''}</li>`)}</ul>`;
}

export const statusBadge = (grant: Grant | undefined): SafeHtml => html`<span class="status ${statusName(grant)}">${statusName(grant).replace('_', ' ')}</span>`;
