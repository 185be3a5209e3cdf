export { auditEvent, type AuditEventInput, type Outcome } from './audit-event.js';
export { AuditTrail, type AuditTrailOptions } from './audit-trail.js';
