import type { GrantForReview } from '@mayfly/proto';
import type { Session } from '../auth/sessions.js';
import { approvalsSoFar, ownerOf, taskOf, votesList, when } from './format.js';
import { html, type SafeHtml } from './html.js';
import { layout, type Flash } from './layout.js';

/** Requests waiting for this person (or for anyone, to readers), live: the list is fetched again when the server says it changed. */
export function approvalsPage(session: Session, pending: readonly GrantForReview[], flash?: Flash): SafeHtml {
  return layout(
    session,
    'Approvals',
    '/approvals',
    html`<p class="muted">Requests that need a person before a workload gets its token. This list updates by itself when someone answers or a request ends.</p>
<section id="pending" data-live="/events/approvals" data-fragment="/approvals/fragment">${pendingList(session, pending)}</section>`,
    flash,
  );
}

/** The list alone: what the page shows, and what it fetches again on a change. */
export function pendingList(session: Session, pending: readonly GrantForReview[]): SafeHtml {
  if (pending.length === 0) return html`<p class="empty">Nothing waits for you.</p>`;
  return html`${pending.map((entry) => pendingRequest(session, entry))}`;
}

function pendingRequest(session: Session, entry: GrantForReview): SafeHtml {
  const grant = entry.grant!;
  const rule = grant.approval?.requirement;
  return html`<article class="request" data-grant="${grant.id}">
  <h2><a href="/grants/${encodeURIComponent(grant.id)}">${grant.spiffeId}</a> asks to ${grant.actions.join(', ')} on ${grant.resource}</h2>
  <dl>
    <dt>Owner</dt><dd>${ownerOf(entry)}</dd>
    <dt>Task</dt><dd>${taskOf(grant)}</dd>
    <dt>Justification</dt><dd class="justification">${entry.justification}</dd>
    <dt>Rule</dt><dd>${rule?.rule ?? ''} — ${rule?.approverGroups.join(', ') ?? ''} (${approvalsSoFar(grant)})</dd>
    <dt>Waits until</dt><dd>${when(grant.approval?.pendingUntil)}</dd>
  </dl>
  ${votesList(grant)}
  ${answerForm(session, grant.id)}
</article>`;
}

/** Approve or reject, with a reason: on the approvals list and on a pending grant's own page (where notifications link). */
export function answerForm(session: Session, grantId: string): SafeHtml {
  return html`<form method="post" action="/approvals/${encodeURIComponent(grantId)}/answer" class="answer">
    <input type="hidden" name="csrf" value="${session.csrfToken}">
    <label>Reason <input name="reason" maxlength="512" placeholder="why (required to reject)"></label>
    <button type="submit" name="answer" value="approve" class="approve">Approve</button>
    <button type="submit" name="answer" value="reject" class="reject">Reject</button>
  </form>`;
}
