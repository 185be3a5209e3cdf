import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Agent, parseAgentConfig, type AgentConfig } from '@mayfly/agent';
import { createLogger } from '@mayfly/core';
import { setupTelemetry } from '@mayfly/telemetry';
import type { CommandContext } from '../command.js';

/** Exit codes: 0 stopped by a signal, the command's own code when it ended, 2 config, 1 otherwise. */
const EXIT_CONFIG = 2;

function loadConfig(context: CommandContext): { config: AgentConfig; file: string } {
  const file = context.flags.config ?? process.env['MAYFLY_AGENT_CONFIG'];
  if (!file) throw new Error('no config: --config FILE (or MAYFLY_AGENT_CONFIG); `mayfly agent check --config FILE` validates one');
  const path = resolve(file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`cannot read the agent config ${path}: ${(error as Error).message}`);
  }
  return { config: parseAgentConfig(text, path, process.env), file: path };
}

/** `mayfly agent check --config FILE`: every problem with its line (exit 2), or what the agent would keep. */
export async function check(context: CommandContext): Promise<void> {
  let loaded;
  try {
    loaded = loadConfig(context);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exitCode = EXIT_CONFIG;
    return;
  }
  const { config, file } = loaded;
  context.out.say(`${file}: valid — issuance ${config.issuance}, evidence ${config.evidence.kind} from ${config.evidence.kind === 'x509' ? `${config.evidence.certFile} (audience ${config.evidence.audience})` : config.evidence.file}${config.exec ? `, runs ${config.exec.command.join(' ')} (on rotation: ${config.exec.onRotate})` : ''}`);
  context.out.table(
    config.grants.map((grant) => ({
      grant: grant.name,
      resource: grant.resource,
      actions: grant.actions.join(','),
      files: [grant.tokenFile, grant.dsnFile, grant.pgpassFile, grant.envFile].filter(Boolean).join(' '),
    })),
  );
  context.out.document(config);
}

/**
 * `mayfly agent run --config FILE`: attest, hold the session, keep every declared grant fresh as
 * files, optionally run a command with them; SIGTERM/SIGINT stop the command, release the grants
 * and remove the files.
 */
export async function run(context: CommandContext): Promise<void> {
  let loaded;
  try {
    loaded = loadConfig(context);
  } catch (error) {
    process.stderr.write(`mayfly agent: ${(error as Error).message}\n`);
    process.exitCode = EXIT_CONFIG;
    return;
  }
  const { config } = loaded;
  // The agent is a workload client: it checks issuance against the mesh CA and trust domain.
  if (config.caFile) process.env['MAYFLY_TLS_CA_FILE'] = config.caFile;
  if (config.trustDomain) process.env['MAYFLY_TRUST_DOMAIN'] = config.trustDomain;
  const log = createLogger('agent');
  const telemetry = await setupTelemetry({
    service: 'agent',
    host: config.metrics?.host ?? '127.0.0.1',
    metricsPort: config.metrics?.port ?? 0,
    env: config.metrics === undefined ? { ...process.env, OTEL_METRICS_EXPORTER: 'none' } : process.env,
  });
  if (telemetry.metricsPort !== undefined) log.info({ port: telemetry.metricsPort }, 'metrics: /metrics (Prometheus)');
  const agent = new Agent(config, log);
  const onSignal = (signal: NodeJS.Signals) => {
    log.info({ signal }, 'stopping: releasing grants and removing files');
    void agent.stop();
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  const end = await agent.run();
  await agent.stop();
  await telemetry.shutdown();
  if (end.kind === 'fatal') {
    log.error({ err: end.error.message }, 'the agent cannot do what its config asks');
    process.exitCode = EXIT_CONFIG;
  } else if (end.kind === 'command-exited') {
    process.exitCode = end.exit.code ?? 1;
  }
}
