import type { Entitlement, UsageReportResponse, WorkloadUsage } from '@mayfly/proto';
import type { Session } from '../auth/sessions.js';
import { when } from './format.js';
import { html, type SafeHtml } from './html.js';
import { layout, type Flash } from './layout.js';

/** (resource, action) pairs of a list of entitlements. */
const pairs = (entries: readonly Entitlement[]): Set<string> => new Set(entries.flatMap((entry) => entry.actions.map((action) => `${entry.resource} ${action}`)));

/** Ceiling entries the workload never used in the period, resource by resource. */
export function neverUsed(usage: WorkloadUsage): { resource: string; action: string; granted: boolean }[] {
  const used = pairs(usage.used);
  const granted = pairs(usage.granted);
  return usage.ceiling.flatMap((entry) => entry.actions.filter((action) => !used.has(`${entry.resource} ${action}`)).map((action) => ({ resource: entry.resource, action, granted: granted.has(`${entry.resource} ${action}`) })));
}

/** The usage review: per workload, what its ceiling allows, what it was granted and what edges saw it use; what it never used can be taken out. */
export function usagePage(session: Session, report: UsageReportResponse, filter: { workload: string; days: number }, flash?: Flash): SafeHtml {
  return layout(
    session,
    'Usage review',
    '/usage',
    html`<form method="get" action="/usage" class="filters">
  <label>Workload <input name="workload" value="${filter.workload}" placeholder="spiffe://… (empty: all)"></label>
  <label>Days <input name="days" value="${filter.days}" inputmode="numeric"></label>
  <button type="submit">Review</button>
</form>
<p class="muted">Since ${when(report.since)}: granted from the audit trail (grant.issued), used from what edges reported (grant.used).</p>
${report.workloads.length === 0 ? html`<p class="empty">No registered workload matches.</p>` : report.workloads.map((usage) => workloadUsage(session, usage))}`,
    flash,
  );
}

function workloadUsage(session: Session, usage: WorkloadUsage): SafeHtml {
  const used = pairs(usage.used);
  const granted = pairs(usage.granted);
  const unused = neverUsed(usage);
  return html`<article class="usage" data-workload="${usage.spiffeId}">
  <h2><a href="/grants?workload=${encodeURIComponent(usage.spiffeId)}">${usage.spiffeId}</a></h2>
  <p class="muted">${usage.grants} grants, ${usage.uses} uses reported</p>
  <table>
    <thead><tr><th>Resource</th><th>Action</th><th>Granted</th><th>Used</th></tr></thead>
    <tbody>${usage.ceiling.flatMap((entry) =>
      entry.actions.map((action) => {
        const key = `${entry.resource} ${action}`;
        return html`<tr class="${used.has(key) ? 'used' : 'unused'}"><td>${entry.resource}</td><td>${action}</td><td>${granted.has(key) ? 'yes' : 'no'}</td><td>${used.has(key) ? 'yes' : html`<strong>never</strong>`}</td></tr>`;
      }),
    )}</tbody>
  </table>
  ${unused.length === 0
    ? html`<p class="ok">Everything the ceiling allows was used.</p>`
    : html`<form method="post" action="/usage/shrink" class="shrink">
    <input type="hidden" name="csrf" value="${session.csrfToken}">
    <input type="hidden" name="workload" value="${usage.spiffeId}">
    <fieldset><legend>Take out of the ceiling</legend>
    ${unused.map((entry, index) => html`<label class="check"><input type="checkbox" name="remove.${index}" value="${JSON.stringify([entry.resource, entry.action])}" checked> ${entry.action} on ${entry.resource}${entry.granted ? ' (granted, never used)' : ''}</label>`)}
    </fieldset>
    <label class="check"><input type="checkbox" name="revoke" value="yes" checked> also revoke live grants the smaller ceiling no longer covers</label>
    <label>Reason <input name="reason" required maxlength="512" value="never used in the review period"></label>
    <button type="submit" class="danger">Shrink the ceiling</button>
  </form>`}
</article>`;
}
