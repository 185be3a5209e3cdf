#!/usr/bin/env node
// The container's entry point: runs one Mayfly service, named by the first argument or by
// MAYFLY_SERVICE (`mayfly-service issuance`), the operator CLI (`mayfly-service mayfly db
// migrate`: init and migration jobs), or the workload agent beside an application
// (`mayfly-service agent --config FILE`, the same as `mayfly agent run --config FILE`).
// Everything else comes from the environment (README: Configuration).
const SERVICES = ['attestation', 'decision', 'issuance', 'revocation', 'audit', 'edge-verifier', 'console'];

const name = process.argv[2] ?? process.env.MAYFLY_SERVICE;
if (name === 'agent') {
  process.argv.splice(2, 1, 'agent', 'run');
  await import('../../libs/cli/dist/main.js');
} else if (name === 'mayfly') {
  // The CLI reads its arguments from process.argv[2] on.
  process.argv.splice(2, 1);
  await import('../../libs/cli/dist/main.js');
} else {
  if (!SERVICES.includes(name ?? '')) {
    process.stderr.write(`mayfly-service: name the service to run, one of: ${SERVICES.join(', ')}, mayfly <noun> <verb> for the CLI, or agent --config FILE (got ${JSON.stringify(name ?? '')})\n`);
    process.exit(2);
  }
  process.env.MAYFLY_SERVICE = name;
  await import(`../../services/${name}/dist/main.js`);
}
