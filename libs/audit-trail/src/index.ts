export { auditEvent, type AuditEventInput, type Outcome } from './audit-event.js';
export { AuditTrail, auditTrailFromEnv, type AuditTrailOptions } from './audit-trail.js';
