export { MayflyClient, type AcquireRequest, type MayflyClientOptions } from './mayfly-client.js';
export { TaskGrant, type DelegatedGrant, type DelegationRequest } from './task-grant.js';
export { WorkloadSession } from './workload-session.js';
export { waitForApproval, type ApprovalWait } from './approval-wait.js';
