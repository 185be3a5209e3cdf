import { connectivityState, status } from '@grpc/grpc-js';
import { BatchQueue, MayflyError, isErrorCode, type Settled } from '@mayfly/core';
import { AskingStream, StreamEndedError, callUnary } from '@mayfly/grpc';
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
  /** Asks go as messages of one DecideStream instead of a Decide/DecideBatch call each. */
  readonly overStream: boolean;
}

/**
 * Issuance → decision (issue 24, point 4). A request that finds a slot free is asked at once — a
 * grant alone never waits for company. Requests that arrive while `maxInFlight` asks are out go
 * together in the next one: one message, one TLS write instead of one each, on both sides. Each
 * caller gets its own decision or its own error, exactly as Decide would have answered it.
 *
 * Asks go as messages of a long-lived DecideStream (a unary call costs both processes several
 * times what a message on an open stream does). When the stream ends before answering — decision
 * restarted or shut down, a replica of an earlier release refused it — the same requests are
 * asked again by Decide or DecideBatch, the calls this used before the stream.
 */
export function batchedDecisions(client: DecisionServiceClient, batching: DecisionBatching): (request: DecideRequest, deadline: Date | undefined) => Promise<DecideResponse> {
  // A decision replica of an earlier release (a rolling upgrade) has no DecideBatch or
  // DecideStream: its batches go request by request, or by calls instead of a stream, and the
  // newer way is tried again after a while.
  let batchesRefusedUntil = 0;
  let streamRefusedUntil = batching.overStream ? 0 : Number.POSITIVE_INFINITY;
  const stream = new AskingStream(client, () => client.decideStream(), { method: 'mayfly.v1.DecisionService/DecideStream', target: 'decision', maxAgeMs: STREAM_MAX_AGE_MS, streams: DECISION_STREAMS });
  const decideEach = async (pending: readonly PendingDecision[]) => (await Promise.all(pending.map((p) => decideOne(client, p)))).flat();
  const byCalls = async (pending: readonly PendingDecision[]): Promise<Settled<DecideResponse>[]> => {
    if (pending.length === 1) return decideOne(client, pending[0]!);
    if (Date.now() < batchesRefusedUntil) return decideEach(pending);
    try {
      return await decideMany(pending, (requests, deadline) => callUnary(client, client.decideBatch, { requests }, { deadline, target: 'decision' }));
    } catch (error) {
      if (!isUnimplemented(error)) throw error;
      batchesRefusedUntil = Date.now() + BATCH_RETRY_AFTER_MS;
      return decideEach(pending);
    }
  };
  const run = async (pending: readonly PendingDecision[]): Promise<Settled<DecideResponse>[]> => {
    if (Date.now() >= streamRefusedUntil) {
      try {
        return await decideMany(pending, (requests, deadline) => stream.ask({ requests }, deadline));
      } catch (error) {
        if (!(error instanceof StreamEndedError)) throw error;
        // Nothing was decided that anyone saw, and a decision changes nothing: ask again by call…
        if (error.cause.code === status.UNIMPLEMENTED) streamRefusedUntil = Date.now() + BATCH_RETRY_AFTER_MS;
        // …unless no decision replica can be reached: the ask already waited for the channel to
        // reconnect, and a call would wait again only to fail the same way.
        else if (error.cause.code === status.UNAVAILABLE && client.getChannel().getConnectivityState(false) === connectivityState.TRANSIENT_FAILURE) {
          throw new MayflyError('ERR_DEPENDENCY_UNAVAILABLE', `decision is unavailable: ${error.cause.details ?? 'no connection'}`, { cause: error });
        }
      }
    }
    return byCalls(pending);
  };
  const queue = new BatchQueue<PendingDecision, DecideResponse>(run, batching);
  return (request, deadline) => queue.submit({ request, deadline, context: context.active() });
}

/** A DecideStream takes new asks this long, then the next ask opens another (see AskingStream). */
const STREAM_MAX_AGE_MS = 10_000;

/**
 * DecideStreams open at once, asks taking them in turn. A stream stays on the replica it was
 * opened on; four, opened one after another, spread the asks over up to four decision replicas
 * (round robin) where one would put them all on one replica for STREAM_MAX_AGE_MS.
 */
const DECISION_STREAMS = 4;

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

/**
 * Asks for the decisions of `pending` in one message. One request is asked in its grant's own
 * context (its span belongs to that grant's trace); several in a span of their own, linked to
 * every grant whose decision they carry (they belong to no single grant's trace). The deadline
 * is the latest of the requests': one with a nearer deadline may wait for its batch-mates,
 * bounded by the batch's cost (≤ 64 Cedar evaluations), and its own caller's deadline still
 * applies to the grant.
 */
async function decideMany(
  pending: readonly PendingDecision[],
  ask: (requests: DecideRequest[], deadline: Date | undefined) => Promise<{ outcomes: DecideOutcome[] }>,
): Promise<Settled<DecideResponse>[]> {
  const requests = pending.map((p) => p.request);
  const answered = ({ outcomes }: { outcomes: DecideOutcome[] }) => {
    if (outcomes.length !== pending.length) throw new MayflyError('ERR_INTERNAL', `decision answered ${outcomes.length} outcomes for ${pending.length} requests`);
    return outcomes.map(settledOutcome);
  };
  if (pending.length === 1) return context.with(pending[0]!.context, async () => answered(await ask(requests, pending[0]!.deadline)));
  const links = pending.flatMap((p) => {
    const spanContext = trace.getSpanContext(p.context);
    return spanContext ? [{ context: spanContext }] : [];
  });
  const deadlines = pending.map((p) => p.deadline?.getTime());
  const deadline = deadlines.every((t): t is number => t !== undefined) ? new Date(Math.max(...deadlines)) : undefined;
  return tracer().startActiveSpan('decide batch', { links, attributes: { 'mayfly.batch_size': pending.length } }, trace.deleteSpan(context.active()), async (span) => {
    try {
      return answered(await ask(requests, deadline));
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
