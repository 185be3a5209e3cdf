export { assertDatabaseReachable, createDatabase, redactUrl, type DatabaseOptions } from './connect.js';
export { MIGRATION_NAMES, appliedMigrations, assertSchemaCurrent, migrateToLatest, migrationsNewerThanThisBuild } from './migrate.js';
export {
  DATABASE_SERVICES,
  DEFAULT_ROLE_PREFIX,
  SERVICE_ACCESS,
  dropServiceRoles,
  provisionServiceRoles,
  serviceRoleName,
  type DatabaseService,
  type ProvisionOptions,
} from './roles.js';
export {
  GRANT_STATUSES,
  RISK_TIERS,
  type AuditEventRow,
  type Database,
  type EntitlementRow,
  type ApprovalRequestRow,
  type ApprovalVoteRow,
  type GrantRecord,
  type GrantRow,
  type GrantStatusName,
  type NewGrant,
  type RevocationRow,
  type RevocationScopeName,
  type ReplayPolicy,
  type IssuerKind,
  type SvidRow,
  type RiskTierName,
  type TrustedIssuerRow,
  type WorkloadRow,
  type BindingRuleRow,
  type JoinTokenRow,
  type ResourceRow,
  type PolicySetRow,
} from './schema.js';
export {
  bindWorkload,
  consumeEvidenceAndFindWorkload,
  pruneEvidenceUses,
  type EvidenceUse,
  findTrustedIssuer,
  upsertTrustedIssuer,
  activeGrantsOf,
  createWorkload,
  listBindings,
  listTrustedIssuers,
  putBinding,
  putTrustedIssuer,
  removeBinding,
  removeTrustedIssuer,
  findWorkload,
  listWorkloads,
  replaceWorkload,
  upsertWorkload,
  type TrustedIssuerInput,
  type WorkloadInput,
} from './repositories/registry.js';
export { bindingRulesMatching, deleteBindingRule, insertBindingRule, listBindingRules, type NewBindingRule } from './repositories/binding-rules.js';
export { POLICY_SETS_CHANNEL, appendPolicySet, findPolicySet, latestPolicySet, listPolicySets, seedPolicySet, type PolicySetFile, type NewPolicySet } from './repositories/policy-sets.js';
export { consumeJoinToken, deleteUnusedJoinToken, insertJoinToken, listJoinTokens, type NewJoinToken } from './repositories/join-tokens.js';
export { sessionRefusal, toGrantMessage, toWorkloadMessage } from '@mayfly/model';
export {
  findRotationSuccessor,
  findSessionState,
  recordSvid,
  recordSvidRotation,
  revokeSvid,
  revokeSvidsIssuedBefore,
  setWorkloadDisabled,
  type NewSvid,
} from './repositories/sessions.js';
export {
  activeGrantIds,
  endedGrantsOnLoginResources,
  endGrant,
  expireDueGrants,
  findGrant,
  findGrantByIdempotencyKey,
  findGrantForUpdate,
  findGrantIdByTokenId,
  insertGrant,
  insertGrantsWithAuditOutbox,
  type GrantWithAuditEntries,
  insertDelegatedGrant,
  isIdempotencyKeyTaken,
  listOverdueHeartbeats,
  lockActiveGrantIdsOfTask,
  lockLiveDescendants,
  markGrantConsumed,
  notifyGrantState,
  GRANT_STATE_CHANNEL,
  recordHeartbeat,
  recordRenewedToken,
  revokeWorkloadGrantsIssuedBefore,
} from './repositories/grants.js';
export {
  findKeyRevocation,
  insertRevocation,
  insertRevocations,
  listRevokedKeyIds,
  latestWorkloadRevocationSince,
  listLiveRevocations,
  listUnpublishedRevocations,
  liveRevocationSequences,
  markRevocationPublished,
} from './repositories/revocations.js';
export { appendAuditEvents, listAuditEvents, listUsageFacts, listWorkloadCeilings, type AuditQuery, type NewAuditEvent } from './repositories/audit-events.js';
export {
  insertAuditCheckpoint,
  latestAuditCheckpoint,
  listAuditChainLinks,
  countAuditChainLinks,
  listAuditCheckpoints,
  listAuditContentHashes,
  readAuditChainHead,
  readAuditChainHashAt,
  type AuditChainLink,
  type AuditCheckpointRow,
} from './repositories/audit-chain.js';
export {
  deadLetterAudit,
  enqueueAuditEvents,
  listPendingAudit,
  recordAuditRefusal,
  removeDeliveredAudit,
  recordAuditDeliveryFailure,
  type OutboxEntry,
} from './repositories/audit-outbox.js';
export { type Kysely, type Transaction } from 'kysely';

export {
  countApprovalState,
  findApproval,
  insertPendingGrant,
  listBreakGlassGrants,
  listGrants,
  listPendingApprovals,
  recordBreakGlassReview,
  recordVote,
  type ApprovalOutcome,
  type NewApprovalRequest,
  type PendingApproval,
} from './repositories/approvals.js';
export { ChannelListener, GRANT_ENDED_CHANNEL, GrantEndedListener, GrantStateListener, PolicySetListener } from './channel-listener.js';
export { countLiveGrantsOn, deleteResource, findResource, listResources, putResource, type ResourceInput } from './repositories/resources.js';
export { GroupCommit, isRowFault, type GroupCommitOptions } from './group-commit.js';
