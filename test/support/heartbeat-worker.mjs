// A workload process for e2e 27: acquires a grant that requires liveness through the client
// library (which then sends heartbeats by itself), prints the grant and token as one JSON line,
// and stays alive until it is killed. Evidence and addresses come from the environment.
import { MayflyClient } from '@mayfly/client';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`heartbeat-worker needs ${name}`);
  return value;
};

const client = new MayflyClient({ issuanceAddress: env('WORKER_ISSUANCE_ADDRESS'), evidence: () => env('WORKER_EVIDENCE'), session: false });
const access = await client.acquire({
  task: { id: env('WORKER_TASK_ID'), kind: 'ci-job', reference: 'JOB-12', deadline: undefined },
  resource: env('WORKER_RESOURCE'),
  actions: ['read'],
  ttlSeconds: 120,
  heartbeatSeconds: Number(env('WORKER_HEARTBEAT_SECONDS')),
});
access.on('heartbeat-failed', (error) => process.stderr.write(`heartbeat failed: ${error.message}\n`));
process.stdout.write(`${JSON.stringify({ grantId: access.grant.id, token: access.token, heartbeatIntervalSeconds: access.grant.heartbeatIntervalSeconds })}\n`);
setInterval(() => undefined, 60_000); // the task's work, until the process is killed
