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
export { presentedEvidence, type EvidenceFields } from './evidence.js';
export { UNVERIFIED_CALLER, actorOf } from './actor.js';
