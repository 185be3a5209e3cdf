import { RevocationScope, type RevocationEvent } from '@mayfly/proto';
import { isSpiffeId } from './access-token.js';
import type { HeardRevocation } from './revocation-set.js';

/** An event the edge could not apply; failClosedUntilMs when it cannot safely be ignored either. */
export interface UnreadableRevocation {
  readonly problem: string;
  readonly failClosedUntilMs?: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const KEY_ID = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * An event from the revocation stream, checked before it touches the edge's state. The stream is
 * written only by the revocation service, but an edge trusts nothing it did not verify: ids must
 * be well-formed, and an entry is kept no longer than any token valid now could live — a
 * `not_after` far in the future (a bug, a hostile publisher) cannot pin memory.
 */
export function readRevocationEvent(event: RevocationEvent, maxTokenLifetimeMs: number, nowMs = Date.now()): HeardRevocation | UnreadableRevocation {
  const latest = nowMs + maxTokenLifetimeMs;
  const notAfterMs = event.notAfter ? Math.min(event.notAfter.getTime(), latest) : latest;
  const until = Number.isFinite(notAfterMs) ? notAfterMs : latest;
  const name = JSON.stringify(event.id.slice(0, 64));
  switch (event.scope) {
    case RevocationScope.REVOCATION_SCOPE_UNSPECIFIED:
    case RevocationScope.REVOCATION_SCOPE_GRANT:
      if (!UUID.test(event.grantId)) return { problem: `revocation event ${name} has no valid grant_id` };
      if (event.tokenId !== '' && !UUID.test(event.tokenId)) return { problem: `revocation event for grant ${event.grantId} has an invalid token_id` };
      return { scope: 'grant', grantId: event.grantId, tokenId: event.tokenId, notAfterMs: until, ...(event.consumed ? { consumed: true } : {}) };
    case RevocationScope.REVOCATION_SCOPE_WORKLOAD: {
      if (!isSpiffeId(event.spiffeId)) return { problem: `workload revocation ${name} has no valid spiffe_id` };
      const notBeforeMs = event.notBefore?.getTime();
      if (notBeforeMs === undefined || !Number.isFinite(notBeforeMs)) return { problem: `workload revocation ${name} has no not_before` };
      return { scope: 'workload', spiffeId: event.spiffeId, notBeforeMs, notAfterMs: until };
    }
    case RevocationScope.REVOCATION_SCOPE_KEY:
      if (!KEY_ID.test(event.keyId)) return { problem: `key revocation ${name} has no valid key_id` };
      return { scope: 'key', keyId: event.keyId, notAfterMs: until };
    default:
      // A scope from a newer revocation service: this edge cannot tell which tokens it revokes,
      // so it refuses every token for as long as the revocation could matter.
      return { problem: `revocation event ${name} has a scope this edge does not know (${String(event.scope)}); upgrade the edge`, failClosedUntilMs: until };
  }
}
