import type { Client } from '@grpc/grpc-js';
import { serviceAddress, type ServiceName } from '@mayfly/config';
import { createClient } from '@mayfly/grpc';
import { useOperatorIdentity } from '@mayfly/mesh';
import type { CommandContext } from './command.js';

type ClientConstructor<C> = new (...args: ConstructorParameters<typeof Client>) => C;

/**
 * Runs `call` with a client of `service`, as the operator: its certificate (MAYFLY_TLS_* from the
 * environment, else npm start's development PKI) is the identity the service checks and audits.
 * The channel is closed afterwards.
 */
export async function asOperator<C extends Client, T>(context: CommandContext, Ctor: ClientConstructor<C>, service: ServiceName, call: (client: C) => Promise<T>): Promise<T> {
  useOperatorIdentity(context.stateDir);
  const client = createClient(Ctor, serviceAddress(service), service);
  try {
    return await call(client);
  } finally {
    client.close();
  }
}
