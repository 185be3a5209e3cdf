import { connect, type NatsConnection } from '@nats-io/transport-node';
import { MayflyError } from '@mayfly/core';

/**
 * Connects to NATS and keeps reconnecting for as long as the process lives: a service must ride
 * out a NATS restart, not die with it.
 */
export async function connectBus(url: string, name: string): Promise<NatsConnection> {
  try {
    return await connect({
      servers: url.split(','),
      name,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      timeout: 5_000,
    });
  } catch (error) {
    throw new MayflyError(
      'ERR_DEPENDENCY_UNAVAILABLE',
      `cannot reach NATS at ${url}: ${(error as Error).message}. Set NATS_URL or start nats-server -js.`,
      { cause: error },
    );
  }
}
