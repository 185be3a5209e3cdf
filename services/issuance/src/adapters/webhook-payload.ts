import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Announcement } from '../domain/announcements.js';

export type WebhookFormat = 'json' | 'slack';

/**
 * The body a webhook receives. `json`: the announcement's fields with the event name, a delivery
 * id (the same on every retry, so a receiver can drop repeats) and when it happened. `slack`: a
 * Slack-compatible message (text and blocks, with a button to the request's page in the console),
 * postable as is to an incoming-webhook URL.
 */
export function webhookBody(announcement: Announcement, format: WebhookFormat, deliveryId: string, occurredAt: Date): string {
  if (format === 'json') return JSON.stringify({ event: announcement.event, deliveryId, occurredAt: occurredAt.toISOString(), ...announcement.message });
  const title = announcement.event === 'approval.pending' ? ':hourglass: Approval needed' : ':rotating_light: Break-glass access issued';
  return JSON.stringify({
    text: `${title}: ${announcement.summary}`,
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: title.replace(/^:\w+: /, '') } },
      { type: 'section', text: { type: 'mrkdwn', text: slackEscape(announcement.summary) } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: `grant \`${announcement.grantId}\` · delivery ${deliveryId}` }] },
      ...(announcement.link
        ? [{ type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: announcement.event === 'approval.pending' ? 'Review and answer' : 'Review' }, url: announcement.link, style: 'primary' }] }]
        : []),
    ],
  });
}

/** Slack's mrkdwn reads &, < and > as markup: a workload name cannot make a link or a mention. */
function slackEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * `x-mayfly-signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`: the receiver
 * recomputes it with the shared secret and refuses a mismatch, and refuses an old t (a replayed
 * delivery). The time is inside the signed text, so it cannot be changed either.
 */
export function signatureHeader(secret: string, body: string, at: Date): string {
  const t = Math.floor(at.getTime() / 1000);
  return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`;
}

/** The receiver's side (for tests and the README's example): true when the header signs this body within toleranceSeconds of now. */
export function verifySignature(secret: string, body: string, header: string, now = new Date(), toleranceSeconds = 300): boolean {
  const parts = Object.fromEntries(header.split(',').map((part) => part.split('=', 2) as [string, string]));
  const t = Number(parts['t']);
  if (!Number.isInteger(t) || Math.abs(now.getTime() / 1000 - t) > toleranceSeconds || typeof parts['v1'] !== 'string') return false;
  const expected = Buffer.from(createHmac('sha256', secret).update(`${t}.${body}`).digest('hex'));
  const given = Buffer.from(parts['v1']);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** Whether a delivery that got `status` (undefined: no answer at all) is worth another attempt. */
export function worthRetrying(status: number | undefined): boolean {
  return status === undefined || status === 408 || status === 429 || status >= 500;
}

/** The wait before attempt n+1 (n ≥ 1): 1 s doubling to 60 s, with up to 20% jitter so receivers coming back are not hit at once. */
export function retryDelayMs(attempt: number, random = Math.random): number {
  const base = Math.min(1_000 * 2 ** (attempt - 1), 60_000);
  return Math.round(base * (1 + 0.2 * random()));
}
