import type { ServerResponse } from 'node:http';
import type { GrantForReview } from '@mayfly/proto';

/** What a pending list looks like for change detection: each request with its answers so far. */
export function pendingFingerprint(pending: readonly GrantForReview[]): string {
  return pending.map((entry) => `${entry.grant?.id}:${entry.grant?.status}:${entry.grant?.approval?.votes.length ?? 0}`).join('|');
}

export interface LiveStreamOptions {
  readonly intervalMs: number;
  /** The current state's fingerprint; throws when the person may no longer look (signed out, token no longer accepted). */
  readonly look: () => Promise<string>;
  readonly onError: (error: unknown) => void;
}

/**
 * Server-sent events for one open page: it looks every intervalMs (as the person, with their
 * token) and sends `changed` when what it sees differs from last time, `signed-out` when the
 * person may no longer look (then it ends), and a comment every 15 s so proxies keep it open.
 */
export function streamChanges(res: ServerResponse, options: LiveStreamOptions, headers: Record<string, string>): () => void {
  res.writeHead(200, { ...headers, 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive' });
  res.write('retry: 3000\n\n');
  let last: string | undefined;
  let looking = false;
  let beats = 0;
  const beatEvery = Math.max(1, Math.round(15_000 / options.intervalMs));
  const tick = async (): Promise<void> => {
    if (looking) return;
    looking = true;
    try {
      const now = await options.look();
      if (last !== undefined && now !== last) res.write(`event: changed\ndata: ${Date.now()}\n\n`);
      else if (++beats % beatEvery === 0) res.write(': still here\n\n');
      last = now;
    } catch (error) {
      options.onError(error);
      res.write('event: signed-out\ndata: sign in again\n\n');
      stop();
      res.end();
    } finally {
      looking = false;
    }
  };
  const timer = setInterval(() => void tick(), options.intervalMs);
  void tick();
  const stop = (): void => clearInterval(timer);
  res.on('close', stop);
  return stop;
}
