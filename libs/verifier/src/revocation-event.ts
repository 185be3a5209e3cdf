import type { RevocationEvent } from '@mayfly/proto';
import type { RevokedEntry } from './revocation-set.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * An event from the revocation stream, checked before it touches the edge's state. The stream is
 * written only by the revocation service, but an edge trusts nothing it did not verify: ids must
 * be UUIDs, and an entry is kept no longer than any token valid now could live — a `not_after`
 * far in the future (a bug, a hostile publisher) cannot pin memory.
 */
export function readRevocationEvent(event: RevocationEvent, maxTokenLifetimeMs: number, nowMs = Date.now()): RevokedEntry | { problem: string } {
  if (!UUID.test(event.grantId)) return { problem: `revocation event ${JSON.stringify(event.id.slice(0, 64))} has no valid grant_id` };
  if (event.tokenId !== '' && !UUID.test(event.tokenId)) return { problem: `revocation event for grant ${event.grantId} has an invalid token_id` };
  const latest = nowMs + maxTokenLifetimeMs;
  const notAfterMs = event.notAfter ? Math.min(event.notAfter.getTime(), latest) : latest;
  return { grantId: event.grantId, tokenId: event.tokenId, notAfterMs: Number.isFinite(notAfterMs) ? notAfterMs : latest };
}
