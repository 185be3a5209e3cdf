import { auditOutcomeToJSON, type AuditEvent, type ChainStatusResponse } from '@mayfly/proto';
import type { AuditFilters } from '../api/audit-api.js';
import type { Session } from '../auth/sessions.js';
import { when } from './format.js';
import { html, type SafeHtml } from './html.js';
import { layout, type Flash } from './layout.js';

const dateInput = (date: Date | undefined): string => (date ? date.toISOString() : '');

/** The audit trail: the chain's state first, then a search (server-side, newest first, paged). */
export function auditPage(session: Session, chain: ChainStatusResponse | Error, events: readonly AuditEvent[], filters: AuditFilters, nextPageToken: string, size: number, flash?: Flash): SafeHtml {
  const next = new URLSearchParams({ grant: filters.grant, task: filters.task, workload: filters.workload, kind: filters.kind, since: dateInput(filters.since), until: dateInput(filters.until), size: String(size), page: nextPageToken });
  return layout(
    session,
    'Audit',
    '/audit',
    html`${chainPanel(chain)}
<form method="get" action="/audit" class="filters">
  <label>Grant <input name="grant" value="${filters.grant}"></label>
  <label>Task <input name="task" value="${filters.task}"></label>
  <label>Workload <input name="workload" value="${filters.workload}" placeholder="spiffe://…"></label>
  <label>Kind <input name="kind" value="${filters.kind}" placeholder="grant.issued"></label>
  <label>Since <input name="since" value="${dateInput(filters.since)}" placeholder="2026-12-04T10:00:00Z"></label>
  <label>Until <input name="until" value="${dateInput(filters.until)}"></label>
  <input type="hidden" name="size" value="${size}">
  <button type="submit">Search</button>
</form>
${events.length === 0
  ? html`<p class="empty">No event matches.</p>`
  : html`<table class="audit">
  <thead><tr><th>#</th><th>When</th><th>Kind</th><th>Actor</th><th>Outcome</th><th>Grant</th><th>Task</th><th>Detail</th></tr></thead>
  <tbody>${events.map(
    (event) => html`<tr data-sequence="${event.sequence}"><td>${event.sequence}</td><td>${when(event.occurredAt)}</td><td>${event.kind}</td><td>${event.actor}</td><td>${auditOutcomeToJSON(event.outcome).replace('AUDIT_OUTCOME_', '').toLowerCase()}</td><td>${event.grantId ? html`<a href="/grants/${encodeURIComponent(event.grantId)}">${event.grantId.slice(0, 8)}</a>` : ''}</td><td>${event.taskId}</td><td><code>${detailText(event.detail)}</code></td></tr>`,
  )}</tbody>
</table>`}
${nextPageToken ? html`<p class="paging"><a rel="next" href="/audit?${next.toString()}">Older events</a></p>` : ''}`,
    flash,
  );
}

function chainPanel(chain: ChainStatusResponse | Error): SafeHtml {
  if (chain instanceof Error) return html`<section class="chain unknown"><h2>Chain</h2><p class="flash error" role="alert">The chain's state is unknown: ${chain.message}</p></section>`;
  const checked = html`checked ${when(chain.checkedAt)} (${chain.checkMs} ms): ${chain.events} events, ${chain.checkpointsChecked} signed checkpoints`;
  if (chain.problemCount > 0) {
    return html`<section class="chain broken"><h2>Chain: BROKEN</h2><p class="flash error" role="alert">${chain.problemCount} problem(s) — the earliest first; ${checked}</p>
<ul>${chain.problems.map((problem) => html`<li><strong>${problem.kind}</strong> at #${problem.sequence}: ${problem.detail}</li>`)}</ul></section>`;
  }
  if (!chain.complete) return html`<section class="chain unproven"><h2>Chain: intact, completeness not proven</h2><p class="flash error">${chain.incompleteReason}; ${checked}</p></section>`;
  return html`<section class="chain intact"><h2>Chain: intact and complete</h2><p class="flash ok">Through position ${chain.completeThrough} (head signed ${when(chain.headSignedAt)}); ${checked}</p></section>`;
}

/** The detail as one line of JSON, cut at 300 characters (the full record is in the trail). */
function detailText(detail: Record<string, unknown> | undefined): string {
  const text = JSON.stringify(detail ?? {});
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}
