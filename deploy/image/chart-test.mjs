#!/usr/bin/env node
// `helm test`: the chart's test pod runs this in the Mayfly image. It asks every service's health
// port (through the headless Services, so every ready pod) and fetches issuance's JWKS over TLS
// with the mesh CA, and fails with each problem named.
//   MAYFLY_TEST_HEALTH="issuance=host:port,decision=host:port,…"
//   MAYFLY_TEST_JWKS_URL=https://…/.well-known/jwks.json  MAYFLY_TEST_CA_FILE=/…/ca.crt
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { askHealth } from './grpc-health.mjs';

const problems = [];
for (const entry of (process.env.MAYFLY_TEST_HEALTH ?? '').split(',').filter(Boolean)) {
  const [name, address] = entry.split('=');
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  const why = await askHealth(host, port, 10_000);
  console.log(`${name.padEnd(14)} ${address}: ${why ? `NOT OK (${why})` : 'SERVING'}`);
  if (why) problems.push(`${name}: ${why}`);
}

const jwksUrl = process.env.MAYFLY_TEST_JWKS_URL;
if (jwksUrl) {
  const ca = process.env.MAYFLY_TEST_CA_FILE ? readFileSync(process.env.MAYFLY_TEST_CA_FILE) : undefined;
  const body = await new Promise((resolve) => {
    const call = request(jwksUrl, { ca, timeout: 10_000 }, (response) => {
      let text = '';
      response.on('data', (chunk) => (text += chunk));
      response.on('end', () => resolve(response.statusCode === 200 ? text : `HTTP ${response.statusCode}`));
    });
    call.on('timeout', () => call.destroy(new Error('no answer in 10 s')));
    call.on('error', (error) => resolve(`error: ${error.message}`));
    call.end();
  });
  let keys = 0;
  try {
    keys = JSON.parse(body).keys?.filter((key) => key.kty === 'OKP' && key.crv === 'Ed25519').length ?? 0;
  } catch {
    /* reported below */
  }
  console.log(`jwks           ${jwksUrl}: ${keys > 0 ? `${keys} Ed25519 key(s)` : `NOT OK (${body.slice(0, 120)})`}`);
  if (keys === 0) problems.push(`JWKS at ${jwksUrl} serves no Ed25519 key`);
}

if (problems.length > 0) {
  console.error(`helm test failed: ${problems.join('; ')}`);
  process.exit(1);
}
console.log('helm test passed');
