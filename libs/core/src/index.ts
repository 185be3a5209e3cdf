export { GrpcStatus, type GrpcStatusCode } from './grpc-status.js';
export {
  ERROR_STATUS,
  MayflyError,
  invalidArgument,
  isErrorCode,
  isMayflyError,
  type ErrorCode,
  type MayflyErrorOptions,
} from './errors.js';
export { createLogger, type Logger, type LoggerOptions } from './logger.js';
export {
  LIMITS,
  sanitizeText,
  validateActions,
  validateOptionalText,
  validateResource,
  validateSpiffeId,
  validateTaskId,
  validateToken,
  validateUuid,
  isUuid,
} from './validation.js';
export { sha256Hex, newId } from './ids.js';
export { SPIFFE_ID_MAX_LENGTH, TRUST_DOMAIN, isSpiffeId, spiffeIdProblem } from './spiffe-id.js';
export { checkCeiling, entitlementCovers, type Entitlement } from './ceiling.js';
export { EVIDENCE_CLAIMS, allEvidenceClaimNames, isEvidenceIssuerKind, type EvidenceClaims, type EvidenceIssuerKind } from './evidence-claims.js';
export {
  EVIDENCE_KINDS,
  EVIDENCE_KINDS_SENTENCE,
  EVIDENCE_LOG_PATHS,
  EVIDENCE_TABLE,
  presentedEvidence,
  setEvidence,
  type EvidenceField,
  type EvidenceFields,
  type EvidenceKind,
} from './evidence.js';
export {
  ISSUER_KINDS,
  ISSUER_KIND_NAMES,
  defaultReplayPolicy,
  isIssuerKindName,
  issuerKindByContractName,
  type IssuerKindContractName,
  type IssuerKindName,
  type ReplayPolicyName,
} from './issuer-kinds.js';
export { UNVERIFIED_CALLER, actorOf } from './actor.js';
export {
  ACCESS_TOKEN_ALGORITHM,
  ACCESS_TOKEN_ALGORITHMS,
  DEFAULT_ISSUER_ALGORITHMS,
  EVIDENCE_ALGORITHMS,
  ID_TOKEN_ALGORITHMS,
  RECORD_SIGNATURE_ALGORITHM,
  isEvidenceAlgorithm,
  type EvidenceAlgorithm,
} from './crypto-policy.js';
export { BatchQueue, type BatchQueueOptions, type Settled } from './batch-queue.js';
