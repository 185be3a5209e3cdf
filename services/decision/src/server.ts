import { fileURLToPath } from 'node:url';
import { EnvReader, commonSettings } from '@mayfly/config';
import type { Logger } from '@mayfly/core';
import { startGrpcServer, type Closer } from '@mayfly/grpc';
import { DecisionServiceService } from '@mayfly/proto';
import { CedarPolicyEngine } from './adapters/cedar-policy-engine.js';
import { decisionApi } from './api/decision-api.js';

/** Policies shipped with the service, used when MAYFLY_POLICY_DIR is not set. */
const DEFAULT_POLICY_DIR = fileURLToPath(new URL('../policies', import.meta.url));

export async function startDecisionService(log: Logger): Promise<Closer[]> {
  const env = new EnvReader();
  const settings = commonSettings('decision', env);
  const policyDir = env.string('MAYFLY_POLICY_DIR', DEFAULT_POLICY_DIR);
  const engine = CedarPolicyEngine.fromDirectory(policyDir);
  log.info({ policyDir, policyVersion: engine.version }, 'policies loaded');

  const limits = { maxTtlSeconds: env.int('MAYFLY_MAX_TTL_SECONDS', 3600, { min: 1, max: 86_400 }) };
  const server = await startGrpcServer({
    host: settings.host,
    port: settings.port,
    healthPort: settings.healthPort,
    log,
    services: [{ name: 'mayfly.v1.DecisionService', definition: DecisionServiceService, implementation: decisionApi(engine, limits, log) }],
  });
  return [() => server.shutdown(settings.drainSeconds * 1000)];
}
