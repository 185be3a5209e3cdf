// One grpc.health.v1.Health/Check over node:http2, with no library: gRPC's framing by hand.
// Used by the image's HEALTHCHECK (healthcheck.mjs) and the chart's `helm test` pod
// (chart-test.mjs), both of which must stay cheap.
import { connect } from 'node:http2';

/** Resolves to undefined when the server says SERVING, else to why not. */
export function askHealth(host, port, timeoutMs, service = '') {
  return new Promise((resolve) => {
    const session = connect(`http://${host.includes(':') ? `[${host}]` : host}:${port}`);
    let settled = false;
    const done = (why) => {
      if (settled) return;
      settled = true;
      session.destroy();
      resolve(why);
    };
    session.on('error', (error) => done(error.message));
    session.setTimeout(timeoutMs, () => done(`no answer in ${timeoutMs} ms`));
    const call = session.request({ ':method': 'POST', ':path': '/grpc.health.v1.Health/Check', 'content-type': 'application/grpc', te: 'trailers' });
    const chunks = [];
    call.on('data', (chunk) => chunks.push(chunk));
    call.on('error', (error) => done(error.message));
    call.on('end', () => {
      // One length-prefixed message: flag (1 byte), length (4), then HealthCheckResponse whose
      // field 1 (status, varint) is tag 0x08. SERVING = 1; an empty message means UNKNOWN (0).
      const frame = Buffer.concat(chunks);
      const message = frame.subarray(5, 5 + (frame.length >= 5 ? frame.readUInt32BE(1) : 0));
      done(message.length === 2 && message[0] === 0x08 && message[1] === 1 ? undefined : 'not SERVING');
    });
    // HealthCheckRequest { service }: field 1, length-delimited; empty for the server as a whole.
    const name = Buffer.from(service, 'utf8');
    const body = name.length === 0 ? Buffer.alloc(0) : Buffer.concat([Buffer.from([0x0a, name.length]), name]);
    const header = Buffer.alloc(5);
    header.writeUInt32BE(body.length, 1);
    call.end(Buffer.concat([header, body]));
  });
}
