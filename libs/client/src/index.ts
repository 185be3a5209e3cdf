export { MayflyClient, type AcquireRequest, type MayflyClientOptions } from './mayfly-client.js';
export { TaskGrant } from './task-grant.js';
export { WorkloadSession } from './workload-session.js';
