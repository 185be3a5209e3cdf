import type { Logger } from '@mayfly/core';
import { unary } from '@mayfly/grpc';
import type { DecisionServiceServer } from '@mayfly/proto';
import { decide, type DecisionLimits } from '../domain/decide.js';
import type { PolicyEngine } from '../domain/policy-engine.js';

export function decisionApi(engine: PolicyEngine, limits: DecisionLimits, log: Logger): DecisionServiceServer {
  return {
    decide: unary(log, 'Decide', async (request) => decide(request, engine, limits)),
  };
}
