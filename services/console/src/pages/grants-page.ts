import { auditOutcomeToJSON, type AuditEvent, type Grant, type GrantForReview } from '@mayfly/proto';
import type { Session } from '../auth/sessions.js';
import { answerForm } from './approvals-page.js';
import { ownerOf, statusBadge, statusName, taskOf, votesList, when } from './format.js';
import { html, type SafeHtml } from './html.js';
import { layout, type Flash } from './layout.js';

export interface GrantFilters {
  readonly status: string;
  readonly workload: string;
  readonly resource: string;
  readonly task: string;
}

export const GRANT_STATUSES = ['active', 'pending_approval', 'completed', 'revoked', 'expired', 'denied'] as const;

/** Grants, newest first, with filters (a form that GETs this page again) and revoke actions by task or workload. */
export function grantsPage(session: Session, grants: readonly Grant[], filters: GrantFilters, nextPageToken: string, flash?: Flash): SafeHtml {
  const next = new URLSearchParams({ ...filters, page: nextPageToken });
  return layout(
    session,
    'Grants',
    '/grants',
    html`<form method="get" action="/grants" class="filters">
  <label>Status <select name="status"><option value="">any</option>${GRANT_STATUSES.map((status) => html`<option value="${status}"${filters.status === status ? html` selected` : ''}>${status.replace('_', ' ')}</option>`)}</select></label>
  <label>Workload <input name="workload" value="${filters.workload}" placeholder="spiffe://…"></label>
  <label>Resource <input name="resource" value="${filters.resource}"></label>
  <label>Task <input name="task" value="${filters.task}"></label>
  <button type="submit">Filter</button>
</form>
${grants.length === 0
  ? html`<p class="empty">No grant matches.</p>`
  : html`<table class="grants">
  <thead><tr><th>Grant</th><th>Workload</th><th>Resource</th><th>Actions</th><th>Task</th><th>Status</th><th>Issued</th><th>Expires</th></tr></thead>
  <tbody>${grants.map((grant) => html`<tr data-grant="${grant.id}"><td><a href="/grants/${encodeURIComponent(grant.id)}">${grant.id.slice(0, 8)}</a></td><td>${grant.spiffeId}</td><td>${grant.resource}</td><td>${grant.actions.join(' ')}</td><td>${taskOf(grant)}</td><td>${statusBadge(grant)}</td><td>${when(grant.issuedAt)}</td><td>${when(grant.expiresAt)}</td></tr>`)}</tbody>
</table>`}
${nextPageToken ? html`<p class="paging"><a rel="next" href="/grants?${next.toString()}">Older grants</a></p>` : ''}
<section class="bulk">
  <h2>Revoke by task or workload</h2>
  <form method="post" action="/revocations" class="revoke">
    <input type="hidden" name="csrf" value="${session.csrfToken}">
    <label>Workload <input name="workload" required placeholder="spiffe://…" value="${filters.workload}"></label>
    <label>Task id <input name="task" placeholder="empty: every credential of the workload" value="${filters.task}"></label>
    <label>Reason <input name="reason" required maxlength="512"></label>
    <button type="submit" class="danger">Revoke</button>
  </form>
</section>`,
    flash,
  );
}

/** What readers also see of a grant: its audit events, newest first (newestFirst), and its trace. */
export interface GrantStory {
  readonly events: readonly AuditEvent[];
  readonly traceUrl: string | undefined;
}

/**
 * A grant's events as they happened, newest first. The sequence is the order the audit service
 * recorded them in, and each service delivers its own records (after a short linger): a task
 * completed by the revocation service a moment after issue can be recorded before the grant's
 * own grant.issued. When it happened is occurredAt; the sequence breaks ties.
 */
export function newestFirst(events: readonly AuditEvent[]): AuditEvent[] {
  const at = (event: AuditEvent) => event.occurredAt?.getTime() ?? 0;
  return [...events].sort((a, b) => at(b) - at(a) || b.sequence - a.sequence);
}

/** One grant's story: what was asked and why, the decision's policies, who approved, the token, and how it ended. */
export function grantPage(session: Session, entry: GrantForReview, story: GrantStory | undefined, flash?: Flash): SafeHtml {
  const grant = entry.grant!;
  const live = statusName(grant) === 'active' || statusName(grant) === 'pending_approval';
  return layout(
    session,
    `Grant ${grant.id}`,
    '/grants',
    html`<section class="story">
  <h2>Request</h2>
  <dl>
    <dt>Workload</dt><dd>${grant.spiffeId}</dd>
    <dt>Owner</dt><dd>${ownerOf(entry)}</dd>
    <dt>Resource</dt><dd>${grant.resource}</dd>
    <dt>Actions</dt><dd>${grant.actions.join(', ')}</dd>
    <dt>Task</dt><dd>${taskOf(grant)}</dd>
    <dt>Justification</dt><dd class="justification">${entry.justification}</dd>
    ${grant.delegation && grant.delegation.parentGrantIds.length > 0 ? html`<dt>Delegated from</dt><dd>${grant.delegation.parentGrantIds.map((id) => html`<a href="/grants/${encodeURIComponent(id)}">${id}</a> `)} (by ${grant.delegation.delegators.join(' → ')})</dd>` : ''}
  </dl>
  <h2>Decision</h2>
  <dl>
    <dt>Status</dt><dd>${statusBadge(grant)}</dd>
    <dt>Policies that allowed it</dt><dd>${grant.policyIds.length > 0 ? grant.policyIds.join(', ') : '—'}</dd>
    ${grant.breakGlass ? html`<dt>Break-glass</dt><dd>incident ${grant.breakGlass.incidentReference}${grant.breakGlass.reviewedAt ? html` — reviewed by ${grant.breakGlass.reviewedBy} at ${when(grant.breakGlass.reviewedAt)}: <q>${grant.breakGlass.review}</q>` : ' — not reviewed yet'}</dd>` : ''}
  </dl>
  ${grant.approval ? html`<h2>Approvals (${grant.approval.requirement?.rule ?? ''})</h2>${votesList(grant)}` : ''}
  <h2>Token</h2>
  <dl>
    <dt>Token id</dt><dd>${grant.tokenId || '—'}</dd>
    <dt>Issued</dt><dd>${when(grant.issuedAt)}</dd>
    <dt>Expires</dt><dd>${when(grant.expiresAt)}</dd>
    <dt>Renewals</dt><dd>${grant.renewals}${grant.renewableUntil ? html` (renewable until ${when(grant.renewableUntil)})` : ''}</dd>
    ${grant.singleUse ? html`<dt>Single use</dt><dd>yes</dd>` : ''}
  </dl>
  <h2>End</h2>
  <dl>
    <dt>Ended</dt><dd>${when(grant.endedAt) || 'not yet'}</dd>
    <dt>Why</dt><dd>${grant.endReason || '—'}</dd>
  </dl>
  ${story?.traceUrl ? html`<p><a class="trace" href="${story.traceUrl}" rel="noreferrer" target="_blank">Its trace in the trace viewer</a></p>` : ''}
</section>
${story
  ? html`<section class="events"><h2>What happened (audit trail)</h2>
  <table class="audit"><thead><tr><th>#</th><th>When</th><th>Kind</th><th>Actor</th><th>Outcome</th><th>Detail</th></tr></thead>
  <tbody>${story.events.map((event) => html`<tr data-kind="${event.kind}"><td>${event.sequence}</td><td>${when(event.occurredAt)}</td><td>${event.kind}</td><td>${event.actor}</td><td>${auditOutcomeToJSON(event.outcome).replace('AUDIT_OUTCOME_', '').toLowerCase()}</td><td><code>${JSON.stringify(event.detail ?? {}).slice(0, 300)}</code></td></tr>`)}</tbody></table>
</section>`
  : ''}
${statusName(grant) === 'pending_approval'
  ? html`<section class="answer-request">
  <h2>Answer this request</h2>
  ${answerForm(session, grant.id)}
</section>`
  : ''}
${live
  ? html`<section class="revoke-grant">
  <h2>Revoke</h2>
  <form method="post" action="/grants/${encodeURIComponent(grant.id)}/revoke" class="revoke">
    <input type="hidden" name="csrf" value="${session.csrfToken}">
    <label>Reason <input name="reason" required maxlength="512"></label>
    <button type="submit" class="danger">Revoke this grant</button>
  </form>
</section>`
  : ''}`,
    flash,
  );
}
