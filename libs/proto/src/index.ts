// The gRPC contract, generated from proto/mayfly/v1 by `npm run codegen` (ts-proto). Only this
// file is written by hand: it names what the rest of Mayfly may import.
import { fileURLToPath } from 'node:url';

export {
  AttestRequest,
  AttestResponse,
  AttestationServiceClient,
  AttestationServiceService,
  IssueSvidRequest,
  IssueSvidResponse,
  RevokeSvidsRequest,
  RevokeSvidsResponse,
  SetWorkloadEnabledRequest,
  SetWorkloadEnabledResponse,
  type AttestationServiceServer,
} from './gen/mayfly/v1/attestation.js';
export {
  AuditEvent,
  AuditOutcome,
  AuditServiceClient,
  AuditServiceService,
  ListEventsRequest,
  ListEventsResponse,
  RecordRequest,
  RecordResponse,
  UsageReportRequest,
  UsageReportResponse,
  WorkloadUsage,
  auditOutcomeToJSON,
  type AuditServiceServer,
} from './gen/mayfly/v1/audit.js';
export {
  Delegation,
  Entitlement,
  Evidence,
  Grant,
  GrantStatus,
  RiskTier,
  Task,
  Workload,
  grantStatusToJSON,
  riskTierFromJSON,
  riskTierToJSON,
} from './gen/mayfly/v1/common.js';
export {
  DecideRequest,
  DecideResponse,
  DecisionServiceClient,
  DecisionServiceService,
  Effect,
  effectToJSON,
  type DecisionServiceServer,
} from './gen/mayfly/v1/decision.js';
export {
  EdgeVerifierServiceClient,
  EdgeVerifierServiceService,
  TokenDelegation,
  Verdict,
  VerifyRequest,
  VerifyResponse,
  verdictToJSON,
  type EdgeVerifierServiceServer,
} from './gen/mayfly/v1/edge_verifier.js';
export {
  CompleteGrantRequest,
  CompleteGrantResponse,
  CompleteTaskRequest,
  CompleteTaskResponse,
  DelegateGrantRequest,
  DelegateGrantResponse,
  HeartbeatRequest,
  HeartbeatResponse,
  RenewGrantRequest,
  RenewGrantResponse,
  IssuanceServiceClient,
  IssuanceServiceService,
  RequestGrantRequest,
  RequestGrantResponse,
  StartSessionRequest,
  StartSessionResponse,
  type IssuanceServiceServer,
} from './gen/mayfly/v1/issuance.js';
export {
  ConsumeRequest,
  ConsumeResponse,
  RevocationEvent,
  RevocationScope,
  RevocationServiceClient,
  RevocationServiceService,
  RevokeRequest,
  RevokeResponse,
  TaskTarget,
  WorkloadTarget,
  type RevocationServiceServer,
} from './gen/mayfly/v1/revocation.js';

/** A FileDescriptorSet of every Mayfly proto (built by `buf build`), served by gRPC reflection. */
export const descriptorSetPath: string = fileURLToPath(new URL('../descriptor.binpb', import.meta.url));
