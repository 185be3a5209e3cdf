#!/usr/bin/env node
// The container's entry point: runs one Mayfly service, named by the first argument or by
// MAYFLY_SERVICE (`mayfly-service issuance`), or the operator CLI (`mayfly-service mayfly db
// migrate`: init and migration jobs). Everything else comes from the environment (README:
// Configuration).
const SERVICES = ['attestation', 'decision', 'issuance', 'revocation', 'audit', 'edge-verifier'];

const name = process.argv[2] ?? process.env.MAYFLY_SERVICE;
if (name === 'mayfly') {
  // The CLI reads its arguments from process.argv[2] on.
  process.argv.splice(2, 1);
  await import('../../libs/cli/dist/main.js');
} else {
  if (!SERVICES.includes(name ?? '')) {
    process.stderr.write(`mayfly-service: name the service to run, one of: ${SERVICES.join(', ')}, or mayfly <noun> <verb> for the CLI (got ${JSON.stringify(name ?? '')})\n`);
    process.exit(2);
  }
  process.env.MAYFLY_SERVICE = name;
  await import(`../../services/${name}/dist/main.js`);
}
