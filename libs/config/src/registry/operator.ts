import { externalSetting, optionalSetting, stringSetting } from '../setting.js';

/** Settings of the operator side: `mayfly` and `npm start` (the embedded mesh), and the OpenTelemetry SDK. */

export const STATE_DIR = stringSetting({ name: 'MAYFLY_STATE_DIR', readBy: ['npm start', 'mayfly CLI'], default: './.mayfly', description: 'dev keys, embedded PostgreSQL data' });
export const SERVICE_NODE_OPTIONS = stringSetting({
  name: 'MAYFLY_SERVICE_NODE_OPTIONS',
  readBy: ['npm start'],
  default: '--max-old-space-size=128 --max-semi-space-size=8',
  description: 'V8 flags for service processes started by `npm start`, tests and bench (keeps resident memory under 200 MB)',
});
export const ALLOW_UNAUTHENTICATED_NATS = optionalSetting({
  name: 'MAYFLY_ALLOW_UNAUTHENTICATED_NATS',
  readBy: ['npm start'],
  description: '`true` lets `npm start` use a `NATS_URL` that accepts anyone (development only)',
});
export const DB_PASSWORD = optionalSetting({
  name: 'MAYFLY_DB_PASSWORD_<SERVICE>',
  readBy: ['mayfly CLI'],
  description: "`mayfly db migrate`: password to set on that service's role (e.g. `MAYFLY_DB_PASSWORD_AUDIT`); unset: left as it is",
});
export const ID_TOKEN = optionalSetting({
  name: 'MAYFLY_ID_TOKEN',
  readBy: ['mayfly CLI'],
  description: '`mayfly approvals`: the OIDC ID token (or `@FILE`) of the person answering, when `--id-token` is not given',
});
export const AGENT_CONFIG = optionalSetting({
  name: 'MAYFLY_AGENT_CONFIG',
  readBy: ['mayfly CLI'],
  description: '`mayfly agent run|check`: the agent config file, when `--config` is not given',
});
export const TRACES_FILE = optionalSetting({
  name: 'MAYFLY_TRACES_FILE',
  readBy: ['attestation', 'decision', 'issuance', 'revocation', 'audit', 'edge-verifier', 'mayfly CLI'],
  description: 'also append every finished span as a JSON line to this file (`mayfly traces` reads it)',
});

export const DEMO_ORDERS_DB = optionalSetting({
  name: 'MAYFLY_DEMO_ORDERS_DB',
  readBy: ['mayfly CLI'],
  description: '`mayfly mesh seed`/`demo`: where workloads reach the demo database with dynamic logins (`postgres://host:port/database`, no credentials); with `MAYFLY_DEMO_ORDERS_ADMIN_FILE`, registered as `pg:orders-live` (compose sets both; `npm start` makes its own)',
});
export const DEMO_ORDERS_ADMIN_FILE = optionalSetting({
  name: 'MAYFLY_DEMO_ORDERS_ADMIN_FILE',
  readBy: ['mayfly CLI'],
  description: "the demo database's admin credential file, as attestation and issuance see it (the registry keeps the path only)",
});

const ALL = ['attestation', 'decision', 'issuance', 'revocation', 'audit', 'edge-verifier'] as const;

export const OTEL_SETTINGS = [
  externalSetting({ name: 'OTEL_TRACES_EXPORTER', readBy: ALL, defaultText: '`none`', description: '`otlp`, `console` or `none`; tracing that is off costs next to nothing' }),
  externalSetting({ name: 'OTEL_EXPORTER_OTLP_PROTOCOL', readBy: ALL, defaultText: '`http/protobuf`', description: '`grpc`, `http/protobuf` or `http/json` (`OTEL_EXPORTER_OTLP_TRACES_PROTOCOL` for traces only)' }),
  externalSetting({ name: 'OTEL_EXPORTER_OTLP_ENDPOINT', readBy: ALL, defaultText: 'exporter default', description: "where spans go, e.g. Jaeger's OTLP port (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` for traces only)" }),
  externalSetting({ name: 'OTEL_SERVICE_NAME', readBy: ALL, defaultText: '`mayfly-<service>`', description: 'service.name of spans and metrics' }),
  externalSetting({ name: 'OTEL_BSP_SCHEDULE_DELAY', readBy: ALL, defaultText: 'SDK default', description: 'span batching (also `OTEL_BSP_MAX_QUEUE_SIZE`, `OTEL_BSP_MAX_EXPORT_BATCH_SIZE`)' }),
  externalSetting({ name: 'OTEL_METRICS_EXPORTER', readBy: ALL, defaultText: '`prometheus`', description: '`prometheus` or `none`' }),
  externalSetting({ name: 'OTEL_SDK_DISABLED', readBy: ALL, defaultText: 'false', description: '`true` turns tracing and metrics off' }),
] as const;
