import { serviceAddress } from '@mayfly/config';
import { callUnary, createClient } from '@mayfly/grpc';
import { useOperatorIdentity } from '@mayfly/mesh';
import { AuditServiceClient, UsageReportRequest, type Entitlement } from '@mayfly/proto';
import type { CommandContext } from '../command.js';
import { parseTime } from './audit.js';

const actionsOn = (entitlements: readonly Entitlement[], resource: string): string =>
  entitlements.find((entry) => entry.resource === resource)?.actions.join(',') ?? '';

/**
 * `mayfly usage report [--workload W] [--since 30d]`: per workload and resource, what the ceiling
 * allows, what was granted, what edges saw used, and the smallest ceiling covering the use.
 */
export async function report(context: CommandContext): Promise<void> {
  useOperatorIdentity(context.stateDir);
  const client = createClient(AuditServiceClient, serviceAddress('audit'), 'audit');
  try {
    const response = await callUnary(
      client,
      client.usageReport,
      UsageReportRequest.fromPartial({ workload: context.flags.workload ?? '', since: parseTime(context.flags.since ?? '30d', '--since') }),
      { target: 'audit' },
    );
    const rows = response.workloads.flatMap((workload) => {
      const resources = [...new Set([...workload.ceiling, ...workload.granted, ...workload.used].map((entry) => entry.resource))].sort();
      return resources.map((resource) => ({
        workload: workload.spiffeId,
        resource,
        ceiling: actionsOn(workload.ceiling, resource),
        granted: actionsOn(workload.granted, resource),
        used: actionsOn(workload.used, resource),
        proposed: actionsOn(workload.proposedCeiling, resource),
      }));
    });
    context.out.say(`usage since ${response.since?.toISOString()} (grants issued; uses reported by edges)`);
    context.out.table(rows);
    for (const workload of response.workloads) {
      const unused = workload.ceiling.flatMap((entry) => entry.actions.filter((action) => !actionsOn(workload.proposedCeiling, entry.resource).split(',').includes(action)).map((action) => `${action} on ${entry.resource}`));
      if (unused.length > 0) context.out.say(`${workload.spiffeId}: ${workload.grants} grants, ${workload.uses} uses; its ceiling could drop ${unused.join(', ')}`);
    }
    context.out.document(response);
  } finally {
    client.close();
  }
}
