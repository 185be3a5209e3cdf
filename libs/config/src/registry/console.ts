import { CONSOLE_DEFAULT_PORTS } from '../ports.js';
import { intSetting, optionalSetting, portSetting, stringSetting } from '../setting.js';

/** The operator console (services/console): a web application for people, served over HTTPS. */

export const CONSOLE_PORT = portSetting({ name: 'MAYFLY_CONSOLE_PORT', readBy: ['console'], default: CONSOLE_DEFAULT_PORTS.https, description: "the console's HTTPS port (the pages people open)" });
export const CONSOLE_HEALTH_PORT = portSetting({ name: 'MAYFLY_CONSOLE_HEALTH_PORT', readBy: ['console'], default: CONSOLE_DEFAULT_PORTS.health, description: "the console's plaintext `grpc.health.v1` port for probes" });
export const CONSOLE_METRICS_PORT = portSetting({ name: 'MAYFLY_CONSOLE_METRICS_PORT', readBy: ['console'], default: CONSOLE_DEFAULT_PORTS.metrics, description: "the console's Prometheus /metrics port" });
export const CONSOLE_URL = optionalSetting({
  name: 'MAYFLY_CONSOLE_URL',
  readBy: ['console', 'issuance'],
  defaultText: '`https://127.0.0.1:<MAYFLY_CONSOLE_PORT>`',
  description: "the address people open the console at (its sign-in callback is `<url>/auth/callback`, registered with the identity provider); issuance's notifications link to it",
});
export const CONSOLE_TLS_CERT_FILE = optionalSetting({ name: 'MAYFLY_CONSOLE_TLS_CERT_FILE', readBy: ['console'], defaultText: '`MAYFLY_TLS_CERT_FILE`', description: "the certificate browsers see (PEM, with its chain); default: the console's mesh certificate" });
export const CONSOLE_TLS_KEY_FILE = optionalSetting({ name: 'MAYFLY_CONSOLE_TLS_KEY_FILE', readBy: ['console'], defaultText: '`MAYFLY_TLS_KEY_FILE`', description: "the key of `MAYFLY_CONSOLE_TLS_CERT_FILE`" });
export const CONSOLE_OIDC_ISSUER = optionalSetting({
  name: 'MAYFLY_CONSOLE_OIDC_ISSUER',
  readBy: ['console'],
  defaultText: 'unset (required)',
  description: "the people's OpenID Connect provider the console signs people in with: the issuer issuance trusts for approvals (`MAYFLY_APPROVER_ISSUER`)",
});
export const CONSOLE_OIDC_DISCOVERY_URL = optionalSetting({
  name: 'MAYFLY_CONSOLE_OIDC_DISCOVERY_URL',
  readBy: ['console'],
  defaultText: '`<issuer>/.well-known/openid-configuration`',
  description: "where the provider's discovery document is, when not under its issuer URL (the development provider of `npm start`)",
});
export const CONSOLE_OIDC_CLIENT_ID = stringSetting({ name: 'MAYFLY_CONSOLE_OIDC_CLIENT_ID', readBy: ['console'], default: 'mayfly-approvals', description: "the console's client id at the provider: its ID tokens' audience, which issuance must accept (`MAYFLY_APPROVER_AUDIENCE`)" });
export const CONSOLE_OIDC_CLIENT_SECRET = optionalSetting({ name: 'MAYFLY_CONSOLE_OIDC_CLIENT_SECRET', readBy: ['console'], description: 'its client secret (client_secret_basic), or a file holding it; unset: a public client (PKCE only)' });
export const CONSOLE_OIDC_CA_FILE = optionalSetting({ name: 'MAYFLY_CONSOLE_OIDC_CA_FILE', readBy: ['console'], defaultText: 'system roots', description: "a CA bundle to check the provider's HTTPS certificate with" });
export const CONSOLE_SESSION_SECONDS = intSetting({
  name: 'MAYFLY_CONSOLE_SESSION_SECONDS',
  readBy: ['console'],
  default: 900,
  min: 60,
  max: 43_200,
  description: 'a signed-in session ends after this long (and when issuance stops accepting its ID token: `MAYFLY_APPROVER_MAX_AGE_SECONDS`)',
});
export const CONSOLE_LIVE_POLL_MS = intSetting({ name: 'MAYFLY_CONSOLE_LIVE_POLL_MS', readBy: ['console'], default: 2000, min: 200, max: 60_000, description: 'how often an open page checks for changes it pushes to the browser (server-sent events)' });
export const CONSOLE_TRACE_URL = stringSetting({
  name: 'MAYFLY_CONSOLE_TRACE_URL',
  readBy: ['console'],
  default: 'http://127.0.0.1:16686/trace/{traceId}',
  description: "a grant's trace in the trace viewer (`{traceId}` is replaced): compose's Jaeger by default",
});
