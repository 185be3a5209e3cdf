// The database stores what the domain reads (@mayfly/model): each selected row type must be the
// model's record type exactly. A column added, dropped or retyped on one side only fails here, at
// build time, rather than as a field the domain silently never sees.
import type { ApprovalRequestRecord, AuditEventRecord, BindingRuleRecord, JoinTokenRecord, PolicySetRecord, ResourceRecord, ApprovalVoteRecord, RevocationRecord, StoredGrant, SvidRecord, TrustedIssuerRecord, WorkloadRecord } from '@mayfly/model';
import type { ApprovalRequestRow, AuditEventRow, BindingRuleRow, JoinTokenRow, PolicySetRow, ResourceRow, ApprovalVoteRow, GrantRow, RevocationRow, SvidRow, TrustedIssuerRow, WorkloadRow } from './schema.js';

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Holds<T extends true> = T;

export type SchemaMatchesModel = [
  Holds<Same<GrantRow, StoredGrant>>,
  Holds<Same<ApprovalRequestRow, ApprovalRequestRecord>>,
  Holds<Same<ApprovalVoteRow, ApprovalVoteRecord>>,
  Holds<Same<WorkloadRow, WorkloadRecord>>,
  Holds<Same<SvidRow, SvidRecord>>,
  Holds<Same<TrustedIssuerRow, TrustedIssuerRecord>>,
  Holds<Same<RevocationRow, RevocationRecord>>,
  Holds<Same<AuditEventRow, AuditEventRecord>>,
  Holds<Same<BindingRuleRow, BindingRuleRecord>>,
  Holds<Same<JoinTokenRow, JoinTokenRecord>>,
  Holds<Same<PolicySetRow, PolicySetRecord>>,
  Holds<Same<ResourceRow, ResourceRecord>>,
];
