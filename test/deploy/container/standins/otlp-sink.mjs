// OTLP/HTTP sink: accepts POST /v1/traces (protobuf or JSON) and counts requests and bytes;
// GET /stats on the query port says how many arrived. Nothing is stored.
import { createServer } from 'node:http';

const stats = { requests: 0, bytes: 0 };
createServer((request, response) => {
  if (request.method !== 'POST' || request.url !== '/v1/traces') return response.writeHead(404).end();
  request.on('data', (chunk) => (stats.bytes += chunk.length));
  request.on('end', () => {
    stats.requests += 1;
    response.writeHead(200, { 'content-type': request.headers['content-type'] ?? 'application/x-protobuf' }).end();
  });
}).listen(4318, '0.0.0.0');
createServer((request, response) => {
  response.writeHead(request.url === '/stats' ? 200 : 404, { 'content-type': 'application/json' }).end(JSON.stringify(stats));
}).listen(16686, '0.0.0.0');
