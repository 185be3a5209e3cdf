import { Periodic } from '@mayfly/telemetry';
import { fileURLToPath } from 'node:url';
import { auditTrailFromEnv } from '@mayfly/audit-trail';
import { DECISION_ANSWERS_REMEMBERED, EnvReader, MAX_TTL_SECONDS, POLICY_CHECK_MS, POLICY_DIR, commonSettings } from '@mayfly/config';
import type { Logger } from '@mayfly/core';
import { PolicySetListener, assertDatabaseReachable, assertSchemaCurrent, createDatabase } from '@mayfly/db';
import { startGrpcServer, type Closer } from '@mayfly/grpc';
import { DecisionServiceService } from '@mayfly/proto';
import { LivePolicies } from './adapters/live-policies.js';
import { checkPolicyFiles, readPolicyDirectory } from './adapters/policy-files.js';
import { PostgresPolicyStore } from './adapters/postgres-policy-store.js';
import { decisionApi } from './api/decision-api.js';

/** Policies shipped with the service: the seed when MAYFLY_POLICY_DIR is not set. */
const DEFAULT_POLICY_DIR = fileURLToPath(new URL('../policies', import.meta.url));

export async function startDecisionService(log: Logger): Promise<Closer[]> {
  const env = new EnvReader(process.env, 'decision');
  const settings = commonSettings('decision', env);
  await assertDatabaseReachable(settings.databaseUrl);
  const db = createDatabase({ url: settings.databaseUrl, applicationName: 'mayfly-decision' });
  await assertSchemaCurrent(db);
  const audit = auditTrailFromEnv('decision', db, log, env);
  audit.start();
  const store = new PostgresPolicyStore(db, audit);

  // The directory seeds an empty database (a fresh local run, a first deployment); after that
  // the stored versions rule, changed with `mayfly policy push|rollback`.
  const policyDir = env.read(POLICY_DIR) ?? DEFAULT_POLICY_DIR;
  const stored = await store.active();
  if (!stored) {
    const files = readPolicyDirectory(policyDir);
    const { version, problems } = checkPolicyFiles(files);
    if (problems.length > 0) {
      throw new Error(`the policies in ${policyDir} do not load: ${problems.map((problem) => `${problem.file}:${problem.line}: ${problem.message}`).join('; ')}`);
    }
    const seeded = await store.seed({ files, digest: version, actor: `decision (seeded from ${policyDir})`, reason: 'first start on an empty database' });
    if (seeded) log.info({ policyDir, policySetVersion: seeded.version }, 'policy set seeded from the policy directory');
  } else {
    // Edited files do not change policy by themselves once a set is stored: say so, once, at start.
    let onDisk: string | undefined;
    try {
      onDisk = checkPolicyFiles(readPolicyDirectory(policyDir)).version;
    } catch {
      onDisk = undefined; // no directory to compare: the stored versions rule either way
    }
    if (onDisk !== undefined && onDisk !== stored.digest) log.info({ policyDir, policySetVersion: stored.version }, `the policy directory differs from the active policy set; to use it: mayfly policy push ${policyDir}`);
  }
  const live = new LivePolicies(store, log, { answersRemembered: env.read(DECISION_ANSWERS_REMEMBERED) });
  await live.load();
  const listener = new PolicySetListener(settings.databaseUrl, (error) => log.warn({ err: error }, 'policy set notifications interrupted; reconnecting (the periodic check still runs)'));
  listener.onNotification(() => void live.refresh());
  listener.start();
  const checking = Periodic.start({ name: 'decision.policy-check', intervalMs: env.read(POLICY_CHECK_MS), log }, () => live.refresh());

  const limits = { maxTtlSeconds: env.read(MAX_TTL_SECONDS) };
  const server = await startGrpcServer({
    host: settings.host,
    port: settings.port,
    healthPort: settings.healthPort,
    log,
    services: [{ name: 'mayfly.v1.DecisionService', definition: DecisionServiceService, implementation: decisionApi(live, store, limits, log) }],
  });
  return [() => server.shutdown(settings.drainSeconds * 1000), () => checking.stop(), () => listener.close(), () => audit.close(), () => db.destroy()];
}
