import type { StreamSnapshot } from './ports.js';

/** Where the live revocations sit in the stream, by sequence (undefined: none is live). */
export type LiveSequences = { readonly lowest: number; readonly highest: number } | undefined;

/**
 * Whether the stream may have lost a live revocation, and why; undefined when it holds them all.
 *
 * A stream that was deleted and made again has a new creation time and restarts its sequences;
 * a purged (or trimmed) one has a first sequence beyond events that should still be there. Live
 * revocations never age out on their own: the stream keeps events at least as long as the
 * longest token lives.
 */
export function findStreamLoss(now: StreamSnapshot, previouslyCreated: string | undefined, live: LiveSequences): string | undefined {
  if (previouslyCreated !== undefined && now.created !== previouslyCreated) return `the stream was recreated (created ${now.created}, was ${previouslyCreated})`;
  if (!live) return undefined;
  if (live.highest > now.lastSequence) return `the stream was recreated (its last sequence ${now.lastSequence} is below live revocation ${live.highest})`;
  if (live.lowest < now.firstSequence) return `the stream lost events (it starts at ${now.firstSequence}, a live revocation is at ${live.lowest}): purged or trimmed`;
  return undefined;
}
