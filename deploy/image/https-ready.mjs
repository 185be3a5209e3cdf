#!/usr/bin/env node
// A health check for an HTTPS endpoint in the image (compose's development sign-in provider):
// exits 0 when the URL answers 200, its certificate checked against the mesh CA
// (MAYFLY_TLS_CA_FILE, default /var/lib/mayfly/pki/ca.pem).
//   node /app/deploy/image/https-ready.mjs https://127.0.0.1:7458/.well-known/openid-configuration
import { readFileSync } from 'node:fs';
import { request } from 'node:https';

const url = process.argv[2];
if (!url) {
  process.stderr.write('usage: https-ready.mjs URL\n');
  process.exit(2);
}
const ca = readFileSync(process.env.MAYFLY_TLS_CA_FILE ?? '/var/lib/mayfly/pki/ca.pem');
const call = request(url, { ca, timeout: 5_000 }, (response) => {
  response.resume();
  if (response.statusCode !== 200) process.stderr.write(`https-ready: ${url}: HTTP ${response.statusCode}\n`);
  process.exit(response.statusCode === 200 ? 0 : 1);
});
call.on('timeout', () => call.destroy(new Error('no answer in 5 s')));
call.on('error', (error) => {
  process.stderr.write(`https-ready: ${url}: ${error.message}\n`);
  process.exit(1);
});
call.end();
