export { MayflyClient, type AcquireRequest, type MayflyClientOptions } from './mayfly-client.js';
export { TaskGrant, type DelegatedGrant, type DelegationRequest, type GrantLogin } from './task-grant.js';
export { WorkloadSession } from './workload-session.js';
export { waitForApproval, type ApprovalWait } from './approval-wait.js';
export { asEvidence, joinTokenEvidence, jwtSvidEvidence, x509Evidence, type EvidenceSource } from './evidence.js';
