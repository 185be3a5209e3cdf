import {
  Metadata,
  type CallOptions,
  type Client,
  type ClientUnaryCall,
  type ServiceError,
} from '@grpc/grpc-js';
import { channelCredentials } from './credentials.js';
import { fromServiceError } from './status-mapping.js';

type ClientConstructor<C extends Client> = new (
  address: string,
  credentials: ReturnType<typeof channelCredentials>,
  options?: Record<string, unknown>,
) => C;

/** A client for one service, with Mayfly's credentials and keepalive settings. */
export function createClient<C extends Client>(Ctor: ClientConstructor<C>, address: string): C {
  return new Ctor(address, channelCredentials(), {
    // A peer that restarts should be reachable again within a couple of seconds, not after
    // grpc-js's default backoff (which grows to two minutes).
    'grpc.initial_reconnect_backoff_ms': 100,
    'grpc.max_reconnect_backoff_ms': 2_000,
    'grpc.keepalive_time_ms': 30_000,
    'grpc.keepalive_timeout_ms': 10_000,
    'grpc.max_receive_message_length': 4 * 1024 * 1024,
  });
}

type UnaryMethod<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (error: ServiceError | null, response: Res) => void,
) => ClientUnaryCall;

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
  return new Promise<Res>((resolve, reject) => {
    method.call(client, request, new Metadata(), { deadline }, (error, response) => {
      if (error) reject(fromServiceError(error, options.target ?? 'service'));
      else resolve(response);
    });
  });
}
