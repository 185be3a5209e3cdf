import type { Session } from '../auth/sessions.js';
import { html, type SafeHtml } from './html.js';

export interface Flash {
  readonly kind: 'ok' | 'error';
  readonly text: string;
}

const NAV = [
  ['/approvals', 'Approvals'],
  ['/grants', 'Grants'],
  ['/break-glass', 'Break-glass'],
  ['/usage', 'Usage'],
  ['/audit', 'Audit'],
] as const;

/** Every signed-in page: navigation, who is signed in, sign-out (a form: it carries the CSRF token), and an optional message. */
export function layout(session: Session, title: string, current: string, body: SafeHtml, flash?: Flash): SafeHtml {
  return document(
    title,
    html`<header>
  <a class="brand" href="/">Mayfly</a>
  <nav>${NAV.map(([href, label]) => html`<a href="${href}"${current === href ? html` aria-current="page"` : ''}>${label}</a>`)}</nav>
  <form class="who" method="post" action="/auth/sign-out">
    <span title="${session.person.groups.join(', ')}">${session.person.name}</span>
    <input type="hidden" name="csrf" value="${session.csrfToken}">
    <button type="submit">Sign out</button>
  </form>
</header>
<main>
  <h1>${title}</h1>
  ${flash ? html`<p class="flash ${flash.kind}" role="${flash.kind === 'error' ? 'alert' : 'status'}">${flash.text}</p>` : ''}
  ${body}
</main>`,
  );
}

/** A whole HTML document: the console's own stylesheet and script, nothing inline. */
export function document(title: string, body: SafeHtml, head?: SafeHtml): SafeHtml {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Mayfly</title>
<link rel="stylesheet" href="/assets/console.css">
<script src="/assets/console.js" defer></script>
${head}
</head>
<body>
${body}
</body>
</html>`;
}

/** The page for someone not signed in, or signed out. */
export function signInPage(message: string, returnTo = '/'): SafeHtml {
  return document(
    'Sign in',
    html`<main class="narrow">
  <h1>Mayfly console</h1>
  <p>${message}</p>
  <p><a class="button" href="/auth/sign-in?return=${encodeURIComponent(returnTo)}">Sign in with your identity provider</a></p>
</main>`,
  );
}

/**
 * A page that moves on by itself (and offers the link): after the provider's redirect, a
 * same-site step to the page, so that the SameSite=Strict session cookie is sent with it; after
 * sign-out, on to the provider's end-session endpoint.
 */
export function continuePage(next: string, message = 'Signed in.'): SafeHtml {
  return document('Continue', html`<main class="narrow"><p>${message} <a id="continue" href="${next}">Continue</a></p></main>`, html`<meta http-equiv="refresh" content="0;url=${next}">`);
}

export function errorPage(title: string, message: string): SafeHtml {
  return document(title, html`<main class="narrow"><h1>${title}</h1><p class="flash error" role="alert">${message}</p><p><a href="/">Back to the console</a></p></main>`);
}
