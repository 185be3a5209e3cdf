import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Logger } from '@mayfly/core';
import { Agent, fetch } from 'undici';
import type { Announcement } from '../domain/announcements.js';
import { retryDelayMs, signatureHeader, webhookBody, worthRetrying, type WebhookFormat } from './webhook-payload.js';

export interface WebhookOptions {
  readonly url: string;
  /** The shared HMAC secret (x-mayfly-signature). */
  readonly secret: string;
  readonly format: WebhookFormat;
  /** Attempts per delivery before it is given up (and logged). */
  readonly maxAttempts: number;
  /** A CA bundle for the receiver's certificate (system roots when unset). */
  readonly caFile: string | undefined;
  readonly timeoutMs?: number;
}

/** Deliveries waiting or retrying at once; beyond this the oldest is dropped, with an error in the log. */
const MAX_QUEUED = 1_000;

/**
 * Posts announcements to a webhook (a chat, a pager, a ticketing bridge): signed with HMAC,
 * retried with backoff on no answer, 408, 429 and 5xx, each delivery keeping its id across
 * retries. Never on a grant's path: announce() queues and returns; a receiver that is down costs
 * retries in the background, and what it never got is in the log (the audit trail has every
 * request either way).
 */
export class WebhookAnnouncer {
  private readonly dispatcher: Agent;
  private readonly timers = new Set<NodeJS.Timeout>();
  private queued = 0;
  private closed = false;

  constructor(private readonly options: WebhookOptions, private readonly log: Logger) {
    this.dispatcher = new Agent({ connect: options.caFile ? { ca: readFileSync(options.caFile) } : {}, keepAliveTimeout: 10_000 });
  }

  announce(announcement: Announcement): void {
    if (this.closed) return;
    if (this.queued >= MAX_QUEUED) {
      this.log.error({ event: announcement.event, grantId: announcement.grantId, url: this.options.url }, `webhook queue full (${MAX_QUEUED}): this announcement is not delivered`);
      return;
    }
    this.queued += 1;
    const deliveryId = randomUUID();
    const body = webhookBody(announcement, this.options.format, deliveryId, new Date());
    void this.attempt(announcement, deliveryId, body, 1);
  }

  private async attempt(announcement: Announcement, deliveryId: string, body: string, attempt: number): Promise<void> {
    let status: number | undefined;
    let problem = '';
    try {
      const response = await fetch(this.options.url, {
        method: 'POST',
        dispatcher: this.dispatcher,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'mayfly-issuance',
          'x-mayfly-event': announcement.event,
          'x-mayfly-delivery': deliveryId,
          'x-mayfly-attempt': String(attempt),
          'x-mayfly-signature': signatureHeader(this.options.secret, body, new Date()),
        },
        body,
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 5_000),
      });
      status = response.status;
      await response.body?.cancel().catch(() => undefined);
      if (status < 300) {
        this.queued -= 1;
        this.log.info({ event: announcement.event, grantId: announcement.grantId, deliveryId, attempt }, 'webhook delivered');
        return;
      }
      problem = `answered ${status}`;
    } catch (error) {
      problem = (error as Error).message;
    }
    if (!worthRetrying(status) || attempt >= this.options.maxAttempts || this.closed) {
      this.queued -= 1;
      this.log.error({ event: announcement.event, grantId: announcement.grantId, deliveryId, attempt, problem, url: this.options.url }, 'webhook not delivered: given up');
      return;
    }
    const delay = retryDelayMs(attempt);
    this.log.warn({ event: announcement.event, grantId: announcement.grantId, deliveryId, attempt, problem, retryInMs: delay }, 'webhook delivery failed; retrying');
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.attempt(announcement, deliveryId, body, attempt + 1);
    }, delay);
    timer.unref();
    this.timers.add(timer);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    if (this.queued > 0) this.log.warn({ undelivered: this.queued }, 'stopping with webhook deliveries not done');
    await this.dispatcher.close().catch(() => undefined);
  }
}
