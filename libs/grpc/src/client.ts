import {
  Metadata,
  connectivityState,
  type CallOptions,
  type Client,
  type ClientUnaryCall,
  type ServiceError,
} from '@grpc/grpc-js';
import { isIP } from 'node:net';
import { recordFailure } from '@mayfly/telemetry';
import type { ServiceName } from '@mayfly/config';
import { MayflyError } from '@mayfly/core';
import { channelCredentials } from './credentials.js';
import { startClientSpan } from './rpc-spans.js';
import { fromServiceError } from './status-mapping.js';
import { metadataSetter } from './trace-context.js';

type ClientConstructor<C extends Client> = new (
  address: string,
  credentials: ReturnType<typeof channelCredentials>,
  options?: Record<string, unknown>,
) => C;

/**
 * A client for one Mayfly service, with Mayfly's credentials (checking it is `target`) and
 * keepalive settings; with `identity`, presenting that certificate (a workload's X.509-SVID).
 */
export function createClient<C extends Client>(
  Ctor: ClientConstructor<C>,
  address: string,
  target: ServiceName,
  identity?: { certificatePem: string; privateKeyPem: string },
): C {
  return new Ctor(address, channelCredentials(target, identity), {
    // For an IP address (or a list of them, "ipv4:a:p,b:q"), grpc-js would send the IP as TLS server name, which RFC 6066 forbids
    // (Node warns, DEP0123). The server is checked by its SPIFFE ID, not its host name, so the
    // component's name serves as SNI.
    ...(isIP(address.replace(/^\[|\]?:\d+$/g, '')) || /^ipv[46]:/.test(address) ? { 'grpc.ssl_target_name_override': `mayfly-${target}` } : {}),
    // A peer that restarts should be reachable again within a couple of seconds, not after
    // grpc-js's default backoff (which grows to two minutes).
    'grpc.initial_reconnect_backoff_ms': 100,
    'grpc.max_reconnect_backoff_ms': 2_000,
    'grpc.keepalive_time_ms': 30_000,
    'grpc.keepalive_timeout_ms': 10_000,
    'grpc.max_receive_message_length': 4 * 1024 * 1024,
    // No channelz: its per-call counters and registries serve only a channelz service, which
    // no Mayfly process runs.
    'grpc.enable_channelz': 0,
    // A target that names several addresses ("dns:///" a headless Service's pods, or an
    // "ipv4:a:p,b:q" list) spreads calls over all of them. A plain host:port keeps pick-first:
    // one peer that restarts is reconnected on the next call, where round robin would fail calls
    // fast until its backoff ends.
    ...(/^(dns|ipv4|ipv6):/.test(address) ? { 'grpc.service_config': ROUND_ROBIN } : {}),
  });
}

const ROUND_ROBIN = JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] });

type UnaryMethod<Req, Res> = { readonly path?: string } & ((
  request: Req,
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (error: ServiceError | null, response: Res) => void,
) => ClientUnaryCall);

export interface UnaryOptions {
  /** Absolute deadline; pass the incoming call's deadline so that it bounds the whole chain. */
  deadline?: Date | undefined;
  /** Used when no deadline is given, and to cap a distant one. Default 5 s. */
  timeoutMs?: number;
  /** Names the callee in errors ("attestation", ...). */
  target?: string;
}

/**
 * Calls a unary RPC and returns a promise. The effective deadline is the earlier of the given
 * deadline and now + timeoutMs, so an upstream deadline is honoured all the way down.
 * Failures become MayflyError (see fromServiceError).
 */
export function callUnary<Req, Res>(
  client: Client,
  method: UnaryMethod<Req, Res>,
  request: Req,
  options: UnaryOptions = {},
): Promise<Res> {
  const capMs = Date.now() + (options.timeoutMs ?? 5_000);
  const deadline = options.deadline ? Math.min(options.deadline.getTime(), capMs) : capMs;
  const metadata = new Metadata();
  const span = startClientSpan((method.path ?? '/unknown').slice(1), metadata, metadataSetter);
  const send = () => new Promise<Res>((resolve, reject) => {
    method.call(client, request, metadata, { deadline }, (error, response) => {
      if (error) {
        span.setAttribute('rpc.grpc.status_code', error.code);
        const failure = fromServiceError(error, options.target ?? 'service');
        recordFailure(span, failure);
        span.end();
        reject(failure);
      } else {
        span.setAttribute('rpc.grpc.status_code', 0);
        span.end();
        resolve(response);
      }
    });
  });
  const reconnecting = reconnection(client, deadline);
  return reconnecting ? reconnecting.then(send) : send();
}

/**
 * A channel in TRANSIENT_FAILURE fails every call and stream at once until its backoff timer lets
 * it try again (up to ~2.4 s), even when the peer is back: right after the mesh starts, or after
 * the peer restarted. Such a call never reaches the wire, so waiting for the reconnection first
 * is safe. Returns undefined when the channel is not in that state (no wait, no promise: the hot
 * path), else a promise that settles once the channel is ready or the grace is over. If it is not
 * ready by then, the call is sent anyway, before `deadlineMs`, and fails with the channel's own
 * reason (a refused connection, a TLS error), which says what to fix.
 */
export function reconnection(client: Client, deadlineMs: number): Promise<void> | undefined {
  if (client.getChannel().getConnectivityState(false) !== connectivityState.TRANSIENT_FAILURE) return undefined;
  const graceEnds = Math.min(deadlineMs - SEND_RESERVE_MS, Date.now() + RECONNECT_GRACE_MS);
  if (graceEnds <= Date.now()) return undefined;
  return new Promise<void>((resolve) => client.waitForReady(new Date(graceEnds), () => resolve()));
}

/** Longest wait for a failed channel to reconnect: its largest backoff (2 s) plus jitter (20%). */
const RECONNECT_GRACE_MS = 2_500;
/** Time left for the call itself after the wait, so that it ends with the channel's reason. */
const SEND_RESERVE_MS = 250;

/**
 * Waits until the client's channel is connected, or the deadline passes. Workload-facing
 * clients call it first so that a service restarting behind them costs a short wait, not an
 * UNAVAILABLE; internal callers do not, and fail fast instead.
 */
export function waitForReady(client: Client, deadline: Date, target: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    client.waitForReady(deadline, (error?: Error) => {
      if (error) reject(new MayflyError('ERR_DEPENDENCY_UNAVAILABLE', `${target} could not be reached before the deadline: ${error.message}`, { cause: error }));
      else resolve();
    });
  });
}

/**
 * Starts connecting the client's channel now rather than at its first call. For a target of
 * several replicas (round robin) that connects to all of them, so the first long-lived streams
 * are spread over every replica instead of all going to the one that connected first.
 */
export function connectEagerly<C extends Client>(client: C): C {
  client.getChannel().getConnectivityState(true);
  return client;
}
