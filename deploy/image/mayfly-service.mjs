#!/usr/bin/env node
// The container's entry point: runs one Mayfly service, named by the first argument or by
// MAYFLY_SERVICE (`mayfly-service issuance`). Everything else comes from the environment
// (README: Configuration).
const SERVICES = ['attestation', 'decision', 'issuance', 'revocation', 'audit', 'edge-verifier'];

const name = process.argv[2] ?? process.env.MAYFLY_SERVICE;
if (!SERVICES.includes(name ?? '')) {
  process.stderr.write(`mayfly-service: name the service to run, one of: ${SERVICES.join(', ')} (got ${JSON.stringify(name ?? '')})\n`);
  process.exit(2);
}
process.env.MAYFLY_SERVICE = name;
await import(`../../services/${name}/dist/main.js`);
