import type { GrantForReview } from '@mayfly/proto';
import type { Session } from '../auth/sessions.js';
import { ownerOf, statusBadge, taskOf, when } from './format.js';
import { html, type SafeHtml } from './html.js';
import { layout, type Flash } from './layout.js';

/** Break-glass grants: the unreviewed ones first, each with the after-action review form. */
export function breakGlassPage(session: Session, grants: readonly GrantForReview[], flash?: Flash): SafeHtml {
  const unreviewed = grants.filter((entry) => !entry.grant?.breakGlass?.reviewedAt);
  const reviewed = grants.filter((entry) => entry.grant?.breakGlass?.reviewedAt);
  return layout(
    session,
    'Break-glass',
    '/break-glass',
    html`<h2>Not reviewed (${unreviewed.length})</h2>
${unreviewed.length === 0 ? html`<p class="empty">Every break-glass grant has been reviewed.</p>` : unreviewed.map((entry) => breakGlassEntry(session, entry, true))}
<h2>Reviewed</h2>
${reviewed.length === 0 ? html`<p class="empty">None yet.</p>` : reviewed.map((entry) => breakGlassEntry(session, entry, false))}`,
    flash,
  );
}

function breakGlassEntry(session: Session, entry: GrantForReview, reviewable: boolean): SafeHtml {
  const grant = entry.grant!;
  return html`<article class="break-glass" data-grant="${grant.id}">
  <h3><a href="/grants/${encodeURIComponent(grant.id)}">${grant.spiffeId}</a>: ${grant.actions.join(', ')} on ${grant.resource} ${statusBadge(grant)}</h3>
  <dl>
    <dt>Incident</dt><dd>${grant.breakGlass?.incidentReference ?? ''}</dd>
    <dt>Owner</dt><dd>${ownerOf(entry)}</dd>
    <dt>Task</dt><dd>${taskOf(grant)}</dd>
    <dt>Justification</dt><dd class="justification">${entry.justification}</dd>
    <dt>Issued</dt><dd>${when(grant.issuedAt)}</dd>
    ${grant.breakGlass?.reviewedAt ? html`<dt>Review</dt><dd>${grant.breakGlass.reviewedBy}, ${when(grant.breakGlass.reviewedAt)}: <q>${grant.breakGlass.review}</q></dd>` : ''}
  </dl>
  ${reviewable
    ? html`<form method="post" action="/break-glass/${encodeURIComponent(grant.id)}/review" class="review">
    <input type="hidden" name="csrf" value="${session.csrfToken}">
    <label>Review <textarea name="review" required maxlength="512" placeholder="what happened, and was the access warranted?"></textarea></label>
    <button type="submit">Record the review</button>
  </form>`
    : ''}
</article>`;
}
