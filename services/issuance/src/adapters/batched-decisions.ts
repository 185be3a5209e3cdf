import { status } from '@grpc/grpc-js';
import { BatchQueue, MayflyError, isErrorCode, type Settled } from '@mayfly/core';
import { callUnary } from '@mayfly/grpc';
import type { DecideOutcome, DecideRequest, DecideResponse, DecisionServiceClient } from '@mayfly/proto';
import { context, trace, tracer, type Context } from '@mayfly/telemetry';

interface PendingDecision {
  readonly request: DecideRequest;
  readonly deadline: Date | undefined;
  /** The grant's trace context where the decision was asked for. */
  readonly context: Context;
}

export interface DecisionBatching {
  /** Most requests per DecideBatch; 1 sends every request by Decide. */
  readonly maxBatch: number;
  /** Calls to decision at once; requests arriving while all are busy share the next call. */
  readonly maxInFlight: number;
}

/**
 * Issuance → decision, batched under load (issue 24, point 4). A request that finds a call slot
 * free goes at once by Decide, as before — a grant alone never waits, and its trace is the same.
 * Requests that arrive while `maxInFlight` calls are out go together in the next DecideBatch: one
 * gRPC call, one HTTP/2 stream, one TLS write instead of one each, on both sides. Each caller
 * gets its own decision or its own error, exactly as Decide would have answered it.
 *
 * A batch is traced as a span of its own, linked to every grant whose decision it carries (it
 * belongs to no single grant's trace). Its deadline is the latest of its requests': a request
 * with a nearer deadline may wait for its batch-mates, bounded by the batch's cost (≤ 64 Cedar
 * evaluations), and its own caller's deadline still applies to the grant.
 */
export function batchedDecisions(client: DecisionServiceClient, batching: DecisionBatching): (request: DecideRequest, deadline: Date | undefined) => Promise<DecideResponse> {
  // A decision replica of an earlier release (a rolling upgrade) has no DecideBatch: its batches
  // go request by request, and batching waits a while before it is tried again.
  let batchesRefusedUntil = 0;
  const decideEach = async (pending: readonly PendingDecision[]) => (await Promise.all(pending.map((p) => decideOne(client, p)))).flat();
  const run = async (pending: readonly PendingDecision[]): Promise<Settled<DecideResponse>[]> => {
    if (pending.length === 1) return decideOne(client, pending[0]!);
    if (Date.now() < batchesRefusedUntil) return decideEach(pending);
    try {
      return await decideMany(client, pending);
    } catch (error) {
      if (!isUnimplemented(error)) throw error;
      batchesRefusedUntil = Date.now() + BATCH_RETRY_AFTER_MS;
      return decideEach(pending);
    }
  };
  const queue = new BatchQueue<PendingDecision, DecideResponse>(run, batching);
  return (request, deadline) => queue.submit({ request, deadline, context: context.active() });
}

/** How long issuance sends decisions one by one after a decision replica refused DecideBatch. */
const BATCH_RETRY_AFTER_MS = 30_000;

function isUnimplemented(error: unknown): boolean {
  const cause = (error as { cause?: { code?: unknown } } | null)?.cause;
  return cause?.code === status.UNIMPLEMENTED;
}

async function decideOne(client: DecisionServiceClient, pending: PendingDecision): Promise<Settled<DecideResponse>[]> {
  // In the grant's own context: the Decide client span belongs to that grant's trace.
  try {
    const response = await context.with(pending.context, () => callUnary(client, client.decide, pending.request, { deadline: pending.deadline, target: 'decision' }));
    return [{ ok: true, value: response }];
  } catch (error) {
    return [{ ok: false, error }];
  }
}

async function decideMany(client: DecisionServiceClient, pending: readonly PendingDecision[]): Promise<Settled<DecideResponse>[]> {
  const links = pending.flatMap((p) => {
    const spanContext = trace.getSpanContext(p.context);
    return spanContext ? [{ context: spanContext }] : [];
  });
  const deadlines = pending.map((p) => p.deadline?.getTime());
  const deadline = deadlines.every((t): t is number => t !== undefined) ? new Date(Math.max(...deadlines)) : undefined;
  // A trace of its own, not a child of whichever grant's continuation happened to start it.
  return tracer().startActiveSpan('decide batch', { links, attributes: { 'mayfly.batch_size': pending.length } }, trace.deleteSpan(context.active()), async (span) => {
    try {
      const { outcomes } = await callUnary(client, client.decideBatch, { requests: pending.map((p) => p.request) }, { deadline, target: 'decision' });
      if (outcomes.length !== pending.length) throw new MayflyError('ERR_INTERNAL', `decision answered ${outcomes.length} outcomes for ${pending.length} requests`);
      return outcomes.map(settledOutcome);
    } finally {
      span.end();
    }
  });
}

function settledOutcome(outcome: DecideOutcome): Settled<DecideResponse> {
  if (outcome.decision) return { ok: true, value: outcome.decision };
  const error = outcome.error;
  if (!error) return { ok: false, error: new MayflyError('ERR_INTERNAL', 'decision answered an outcome with neither a decision nor an error') };
  const code = isErrorCode(error.code) ? error.code : 'ERR_INTERNAL';
  return { ok: false, error: new MayflyError(code, error.message, error.field ? { field: error.field } : {}) };
}
