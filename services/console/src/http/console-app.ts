import type { IncomingMessage, ServerResponse } from 'node:http';
import { isMayflyError, type Logger } from '@mayfly/core';
import { GrpcStatus } from '@mayfly/core';
import type { AuditFilters, AuditReader } from '../api/audit-api.js';
import type { PeopleApi } from '../api/people-api.js';
import type { OidcClient } from '../auth/oidc-client.js';
import { csrfTokenMatches, personFromClaims, type Session, type SessionStore } from '../auth/sessions.js';
import { pendingFingerprint, streamChanges } from '../live/pending-changes.js';
import { approvalsPage, pendingList } from '../pages/approvals-page.js';
import { auditPage } from '../pages/audit-page.js';
import { usagePage } from '../pages/usage-page.js';
import { breakGlassPage } from '../pages/break-glass-page.js';
import { grantPage, grantsPage, newestFirst, type GrantFilters, type GrantStory } from '../pages/grants-page.js';
import { continuePage, errorPage, signInPage, type Flash } from '../pages/layout.js';
import type { ConsoleSettings } from '../settings.js';
import type { ConsoleAssets } from './assets.js';
import { SESSION_COOKIE, SIGN_IN_COOKIE, expiredCookie, readCookie, sessionCookie, signInCookie } from './cookies.js';
import { readForm } from './form.js';
import { httpStatusOf, messageOf } from './http-status.js';
import { SECURITY_HEADERS, redirect, sendHtml, sendText } from './responses.js';

export interface ConsoleAppDeps {
  readonly settings: ConsoleSettings;
  readonly oidc: OidcClient;
  readonly sessions: SessionStore;
  readonly api: PeopleApi;
  readonly audit: AuditReader;
  readonly assets: ConsoleAssets;
  readonly log: Logger;
}

interface Request {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly url: URL;
  readonly params: readonly string[];
}

interface SignedInRequest extends Request {
  readonly session: Session;
  /** The posted form, CSRF-checked (POST only). */
  readonly form: Map<string, string>;
}

type Route =
  | { method: 'GET' | 'POST'; path: RegExp; public: true; handle: (request: Request) => Promise<void> | void }
  | { method: 'GET' | 'POST'; path: RegExp; public?: false; handle: (request: SignedInRequest) => Promise<void> | void };

const GRANT_ID = '([0-9a-fA-F-]{36})';
const FLASHES: Readonly<Record<string, Flash>> = {
  approved: { kind: 'ok', text: 'Approval recorded.' },
  issued: { kind: 'ok', text: 'Approved: the threshold is met and the workload has its token.' },
  rejected: { kind: 'ok', text: 'Rejected: the request has ended.' },
  revoked: { kind: 'ok', text: 'Revoked: edges refuse its token from now on.' },
  reviewed: { kind: 'ok', text: 'Review recorded.' },
  shrunk: { kind: 'ok', text: 'Ceiling shrunk: the workload can no longer be granted what was taken out.' },
  'shrunk-revoked': { kind: 'ok', text: 'Ceiling shrunk, and the live grants it no longer covers were revoked.' },
};

/**
 * The console's pages and actions. Every page but sign-in needs a session; every POST needs the
 * session's CSRF token and, when the browser sends one, an Origin of the console itself. Every
 * action goes to issuance as the signed-in person (PeopleApi); a refusal is shown on the page
 * it came from, with the mesh's own message and the matching HTTP status.
 */
export function consoleApp(deps: ConsoleAppDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const { settings, oidc, sessions, api, audit, assets, log } = deps;
  const origin = new URL(settings.publicUrl).origin;
  const flashOf = (url: URL): Flash | undefined => FLASHES[url.searchParams.get('done') ?? ''];
  const field = (form: Map<string, string>, name: string): string => (form.get(name) ?? '').trim();

  const routes: Route[] = [
    { method: 'GET', path: /^\/assets\/(console\.js|console\.css)$/, public: true, handle: ({ res, params }) => assets.send(res, params[0]!) },
    {
      method: 'GET',
      path: /^\/auth\/sign-in$/,
      public: true,
      handle: async ({ res, url }) => {
        const { attempt, url: providerUrl } = await oidc.startSignIn();
        const key = sessions.beginSignIn(attempt, localPath(url.searchParams.get('return')));
        redirect(res, providerUrl.href, { 'set-cookie': signInCookie(key) });
      },
    },
    {
      method: 'GET',
      path: /^\/auth\/callback$/,
      public: true,
      handle: async ({ req, res, url }) => {
        const started = sessions.takeSignIn(readCookie(req, SIGN_IN_COOKIE));
        if (!started) return sendHtml(res, 400, signInPage('That sign-in was not started here, was used already, or took longer than ten minutes. Start again.'), { 'set-cookie': expiredCookie(SIGN_IN_COOKIE) });
        let signedIn;
        try {
          signedIn = await oidc.finishSignIn(new URL(url.pathname + url.search, origin), started.attempt);
        } catch (error) {
          log.warn({ err: error }, 'sign-in refused');
          return sendHtml(res, 401, signInPage(`The identity provider's answer was not accepted: ${(error as Error).message}`), { 'set-cookie': expiredCookie(SIGN_IN_COOKIE) });
        }
        const person = personFromClaims(signedIn.claims);
        const tokenExpiry = typeof signedIn.claims.exp === 'number' ? signedIn.claims.exp * 1000 : Infinity;
        const session = sessions.open(person, signedIn.idToken, Math.min(Date.now() + settings.sessionSeconds * 1000, tokenExpiry));
        log.info({ person: person.email, groups: person.groups }, 'signed in');
        sendHtml(res, 200, continuePage(started.returnTo), { 'set-cookie': [sessionCookie(session.id, Math.floor((session.expiresAt - Date.now()) / 1000)), expiredCookie(SIGN_IN_COOKIE)] });
      },
    },
    {
      method: 'POST',
      path: /^\/auth\/sign-out$/,
      handle: async ({ res, session }) => {
        sessions.close(session.id);
        log.info({ person: session.person.email }, 'signed out');
        const away = await oidc.signOutUrl(session.idToken, `${settings.publicUrl}/signed-out`);
        // Not a redirect: the CSP's form-action 'self' would block a form's redirect to the provider; a page that moves on is not a form submission.
        sendHtml(res, 200, away ? continuePage(away, 'Signed out of the console; signing out at the identity provider.') : signInPage('You are signed out.'), { 'set-cookie': expiredCookie(SESSION_COOKIE) });
      },
    },
    { method: 'GET', path: /^\/signed-out$/, public: true, handle: ({ res }) => sendHtml(res, 200, signInPage('You are signed out.')) },
    { method: 'GET', path: /^\/$/, handle: ({ res }) => redirect(res, '/approvals') },

    // Approvals
    { method: 'GET', path: /^\/approvals$/, handle: async ({ res, url, session }) => sendHtml(res, 200, approvalsPage(session, await api.pending(session), flashOf(url))) },
    { method: 'GET', path: /^\/approvals\/fragment$/, handle: async ({ res, session }) => sendHtml(res, 200, pendingList(session, await api.pending(session))) },
    {
      method: 'GET',
      path: /^\/events\/approvals$/,
      handle: ({ res, session }) =>
        void streamChanges(
          res,
          {
            intervalMs: settings.livePollMs,
            look: async () => {
              if (!sessions.find(session.id)) throw new Error('signed out');
              return pendingFingerprint(await api.pending(session));
            },
            onError: (error) => log.info({ person: session.person.email, reason: (error as Error).message }, 'live updates ended'),
          },
          SECURITY_HEADERS as Record<string, string>,
        ),
    },
    {
      method: 'POST',
      path: new RegExp(`^/approvals/${GRANT_ID}/answer$`),
      handle: async ({ res, params, form, session }) => {
        const answer = field(form, 'answer');
        if (answer !== 'approve' && answer !== 'reject') return sendHtml(res, 400, approvalsPage(session, await api.pending(session), { kind: 'error', text: 'answer: must be approve or reject' }));
        try {
          const { issued } = await api.answer(session, params[0]!, answer, field(form, 'reason'));
          redirect(res, `/approvals?done=${answer === 'reject' ? 'rejected' : issued ? 'issued' : 'approved'}`);
        } catch (error) {
          await refuse(res, error, session, (flash) => api.pending(session).then((pending) => approvalsPage(session, pending, flash)));
        }
      },
    },

    // Grants
    {
      method: 'GET',
      path: /^\/grants$/,
      handle: async ({ res, url, session }) => {
        const filters: GrantFilters = { status: url.searchParams.get('status') ?? '', workload: url.searchParams.get('workload') ?? '', resource: url.searchParams.get('resource') ?? '', task: url.searchParams.get('task') ?? '' };
        try {
          const page = await api.grants(session, { ...filters, pageToken: url.searchParams.get('page') ?? '' });
          sendHtml(res, 200, grantsPage(session, page.grants, filters, page.nextPageToken, flashOf(url)));
        } catch (error) {
          await refuse(res, error, session, async (flash) => grantsPage(session, [], filters, '', flash));
        }
      },
    },
    {
      method: 'GET',
      path: new RegExp(`^/grants/${GRANT_ID}$`),
      handle: async ({ res, url, params, session }) => {
        try {
          const entry = await api.grant(session, params[0]!);
          if (!entry?.grant) return sendHtml(res, 404, errorPage('No such grant', `There is no grant ${params[0]}.`));
          sendHtml(res, 200, grantPage(session, entry, await storyOf(session, entry.grant.id), flashOf(url)));
        } catch (error) {
          sendHtml(res, httpStatusOf(error), errorPage('Grant', messageOf(error)));
        }
      },
    },
    {
      method: 'POST',
      path: new RegExp(`^/grants/${GRANT_ID}/revoke$`),
      handle: async ({ res, params, form, session }) => {
        const grantId = params[0]!;
        try {
          await api.revoke(session, field(form, 'reason'), { grantId });
          redirect(res, `/grants/${grantId}?done=revoked`);
        } catch (error) {
          await refuse(res, error, session, async (flash) => {
            const entry = await api.grant(session, grantId).catch(() => undefined);
            return entry?.grant ? grantPage(session, entry, await storyOf(session, grantId), flash) : errorPage('Revoke', flash.text);
          });
        }
      },
    },
    {
      method: 'POST',
      path: /^\/revocations$/,
      handle: async ({ res, form, session }) => {
        const workload = field(form, 'workload');
        const task = field(form, 'task');
        const filters: GrantFilters = { status: '', workload, resource: '', task };
        try {
          const { grantsEnded } = await api.revoke(session, field(form, 'reason'), task ? { task: { taskId: task, spiffeId: workload } } : { spiffeId: workload });
          log.info({ person: session.person.email, workload, task, grantsEnded }, 'revoked from the console');
          redirect(res, `/grants?workload=${encodeURIComponent(workload)}&done=revoked`);
        } catch (error) {
          await refuse(res, error, session, async (flash) => grantsPage(session, [], filters, '', flash));
        }
      },
    },

    // Usage review: readers only; the shrink action is checked again by issuance (readers and owners).
    {
      method: 'GET',
      path: /^\/usage$/,
      handle: async ({ res, url, session }) => {
        const me = await api.whoAmI(session);
        if (!me.reader) return sendHtml(res, 403, errorPage('Usage review', `${me.name} may not read the usage review: it is for the reader groups (MAYFLY_GRANT_READER_GROUPS); your token names ${me.groups.join(', ') || 'no groups'}.`));
        const filter = usageFilter(url);
        const report = await audit.usage(filter.workload, new Date(Date.now() - filter.days * 86_400_000));
        sendHtml(res, 200, usagePage(session, report, filter, flashOf(url)));
      },
    },
    {
      method: 'POST',
      path: /^\/usage\/shrink$/,
      handle: async ({ res, form, session }) => {
        const workload = field(form, 'workload');
        const byResource = new Map<string, string[]>();
        for (const [name, value] of form) {
          if (!name.startsWith('remove.')) continue;
          const parsed = entitlementField(value);
          if (!parsed) return sendHtml(res, 400, errorPage('Usage review', `${name}: is not a [resource, action] pair`));
          byResource.set(parsed[0], [...(byResource.get(parsed[0]) ?? []), parsed[1]]);
        }
        const remove = [...byResource].map(([resource, actions]) => ({ resource, actions }));
        try {
          const shrunk = await api.shrinkCeiling(session, workload, remove, field(form, 'revoke') === 'yes', field(form, 'reason'));
          log.info({ person: session.person.email, workload, removed: remove, revoked: shrunk.revoked }, 'ceiling shrunk from the console');
          redirect(res, `/usage?workload=${encodeURIComponent(workload)}&done=${shrunk.revoked > 0 ? 'shrunk-revoked' : 'shrunk'}`);
        } catch (error) {
          await refuse(res, error, session, async (flash) => usagePage(session, await audit.usage(workload, new Date(Date.now() - 30 * 86_400_000)), { workload, days: 30 }, flash));
        }
      },
    },

    // Audit: readers only (issuance says who is one); the chain's state, then a search paged on the server.
    {
      method: 'GET',
      path: /^\/audit$/,
      handle: async ({ res, url, session }) => {
        const me = await api.whoAmI(session);
        if (!me.reader) return sendHtml(res, 403, errorPage('Audit', `${me.name} may not read the audit trail: it is for the reader groups (MAYFLY_GRANT_READER_GROUPS); your token names ${me.groups.join(', ') || 'no groups'}.`));
        const param = (name: string): string => (url.searchParams.get(name) ?? '').trim();
        let filters: AuditFilters;
        try {
          filters = { grant: param('grant'), task: param('task'), workload: param('workload'), kind: param('kind'), since: timeParam(param('since'), 'since'), until: timeParam(param('until'), 'until') };
        } catch (error) {
          return sendHtml(res, 400, errorPage('Audit', (error as Error).message));
        }
        const size = Math.min(Math.max(Number.parseInt(param('size') || '50', 10) || 50, 1), 200);
        const [chain, page] = await Promise.all([audit.chainStatus().catch((error: unknown) => error as Error), audit.events(filters, param('page'), size).catch((error: unknown) => error as Error)]);
        if (page instanceof Error) return sendHtml(res, httpStatusOf(page), auditPage(session, chain, [], filters, '', size, { kind: 'error', text: messageOf(page) }));
        sendHtml(res, 200, auditPage(session, chain, page.events, filters, page.nextPageToken, size));
      },
    },

    // Break-glass
    { method: 'GET', path: /^\/break-glass$/, handle: async ({ res, url, session }) => sendHtml(res, 200, breakGlassPage(session, await api.breakGlass(session), flashOf(url))) },
    {
      method: 'POST',
      path: new RegExp(`^/break-glass/${GRANT_ID}/review$`),
      handle: async ({ res, params, form, session }) => {
        try {
          await api.review(session, params[0]!, field(form, 'review'));
          redirect(res, '/break-glass?done=reviewed');
        } catch (error) {
          await refuse(res, error, session, async (flash) => breakGlassPage(session, await api.breakGlass(session), flash));
        }
      },
    },
  ];

  /**
   * For readers, what the audit trail holds of a grant (uses reported by edges, revocation, each
   * step) and the link to its trace; nothing for others, whose grant page is what issuance shows them.
   */
  async function storyOf(session: Session, grantId: string): Promise<GrantStory | undefined> {
    if (!(await api.whoAmI(session)).reader) return undefined;
    const { events } = await audit.events({ grant: grantId, task: '', workload: '', kind: '', since: undefined, until: undefined }, '', 200);
    const traceId = events.map((event) => event.detail?.['traceId']).find((id): id is string => typeof id === 'string' && /^[0-9a-f]{32}$/.test(id));
    return { events: newestFirst(events), traceUrl: traceId ? settings.traceUrl.replace('{traceId}', traceId) : undefined };
  }

  /** A refused action: the page it came from again, with the refusal; a token no longer accepted means signing in again. */
  async function refuse(res: ServerResponse, error: unknown, session: Session, page: (flash: Flash) => Promise<import('../pages/html.js').SafeHtml>): Promise<void> {
    const status = httpStatusOf(error);
    if (status >= 500) log.error({ err: error, person: session.person.email }, 'action failed');
    else log.info({ person: session.person.email, code: isMayflyError(error) ? error.code : undefined, reason: messageOf(error) }, 'action refused');
    if (isMayflyError(error) && error.status === GrpcStatus.UNAUTHENTICATED) {
      sessions.close(session.id);
      return sendHtml(res, 401, signInPage(`Sign in again: ${error.message}`), { 'set-cookie': expiredCookie(SESSION_COOKIE) });
    }
    sendHtml(res, status, await page({ kind: 'error', text: messageOf(error) }));
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', origin);
    const method = req.method === 'HEAD' ? 'GET' : req.method;
    const matches = routes.filter((route) => route.path.test(url.pathname));
    if (matches.length === 0) return sendHtml(res, 404, errorPage('Not found', `There is no page ${url.pathname}.`));
    const route = matches.find((candidate) => candidate.method === method);
    if (!route) return void res.writeHead(405, { ...SECURITY_HEADERS, allow: matches.map((candidate) => candidate.method).join(', ') }).end();
    const params = route.path.exec(url.pathname)!.slice(1);
    if (route.public) return route.handle({ req, res, url, params });

    const session = sessions.find(readCookie(req, SESSION_COOKIE));
    if (!session) {
      if (method === 'GET' && !url.pathname.startsWith('/events/')) return sendHtml(res, 401, signInPage('Sign in to use the Mayfly console.', url.pathname + url.search), { 'set-cookie': expiredCookie(SESSION_COOKIE) });
      return sendText(res, 401, 'not signed in (or the session has ended): sign in again');
    }
    let form = new Map<string, string>();
    if (method === 'POST') {
      // The browser's Origin, when it sends one, must be the console's; the form's token must be the session's.
      const from = req.headers.origin;
      if (from !== undefined && from !== origin) return sendHtml(res, 403, errorPage('Refused', `A form from ${from} may not act in the console.`));
      try {
        form = await readForm(req);
      } catch (error) {
        return sendHtml(res, 400, errorPage('Refused', messageOf(error)));
      }
      if (!csrfTokenMatches(session, form.get('csrf'))) {
        log.warn({ person: session.person.email, path: url.pathname }, 'form refused: missing or wrong CSRF token');
        return sendHtml(res, 403, errorPage('Refused', 'This form is missing its security token, or it is from an earlier session: open the page again and resubmit.'));
      }
    }
    return route.handle({ req, res, url, params, session, form });
  }

  return (req, res) => {
    handle(req, res).catch((error: unknown) => {
      log.error({ err: error, path: req.url }, 'page failed');
      if (!res.headersSent) sendHtml(res, httpStatusOf(error), errorPage('The console could not do that', messageOf(error)));
      else res.end();
    });
  };
}

/** A checkbox's value on the usage page: a JSON [resource, action] pair; undefined for anything else. */
function entitlementField(value: string): [string, string] | undefined {
  try {
    const parsed: unknown = JSON.parse(value);
    return Array.isArray(parsed) && parsed.length === 2 && typeof parsed[0] === 'string' && typeof parsed[1] === 'string' ? [parsed[0], parsed[1]] : undefined;
  } catch {
    return undefined;
  }
}

/** The usage review's filter: a workload (or all) and a period in days (1–365, default 30). */
function usageFilter(url: URL): { workload: string; days: number } {
  const days = Number.parseInt(url.searchParams.get('days') ?? '30', 10);
  return { workload: (url.searchParams.get('workload') ?? '').trim(), days: Number.isInteger(days) && days >= 1 && days <= 365 ? days : 30 };
}

/** An ISO-8601 time from a search form, or nothing; a person gets told what is wrong with anything else. */
function timeParam(value: string, name: string): Date | undefined {
  if (value === '') return undefined;
  const time = new Date(value);
  if (Number.isNaN(time.getTime())) throw new Error(`${name}: ${JSON.stringify(value.slice(0, 40))} is not a time (use ISO 8601, e.g. 2026-12-04T10:00:00Z)`);
  return time;
}

/** Only a path on this console is a place to return to after sign-in (no open redirect). */
function localPath(value: string | null): string {
  return value && value.startsWith('/') && !value.startsWith('//') && !value.includes('\\') ? value : '/';
}

