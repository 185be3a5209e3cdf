import type { ServerResponse } from 'node:http';
import type { SafeHtml } from '../pages/html.js';

/**
 * Sent with every answer. The Content-Security-Policy allows scripts and styles from the
 * console's own files only (no inline script, no eval), forms to post only to the console, and no
 * framing; with escaped output it keeps injected markup inert twice over.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'strict-transport-security': 'max-age=31536000',
  'x-content-type-options': 'nosniff',
  // same-origin, not no-referrer: under no-referrer browsers send `Origin: null` with form posts, which the Origin check must refuse.
  'referrer-policy': 'same-origin',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'cache-control': 'no-store',
};

export function sendHtml(res: ServerResponse, status: number, page: SafeHtml, headers: Record<string, string | string[]> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'text/html; charset=utf-8', ...headers }).end(page.value);
}

export function redirect(res: ServerResponse, location: string, headers: Record<string, string | string[]> = {}): void {
  res.writeHead(303, { ...SECURITY_HEADERS, location, ...headers }).end();
}

export function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8' }).end(text);
}
