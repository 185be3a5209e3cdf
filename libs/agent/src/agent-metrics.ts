import { metrics } from '@mayfly/telemetry';
import type { GrantKeeper } from './grant-keeper.js';

/**
 * The agent's gauges, read at each scrape (Prometheus /metrics when the config names a metrics
 * port): whether each grant is held, when its token expires, how often it was renewed, got
 * anew, or failed.
 */
export function observeAgent(keepers: readonly GrantKeeper[]): void {
  const meter = metrics.getMeter('mayfly-agent');
  const gauge = (name: string, description: string, value: (keeper: GrantKeeper) => number | undefined) => {
    meter.createObservableGauge(name, { description }).addCallback((result) => {
      for (const keeper of keepers) {
        const v = value(keeper);
        if (v !== undefined) result.observe(v, { grant: keeper.config.name, resource: keeper.config.resource });
      }
    });
  };
  gauge('mayfly_agent_grant_ready', '1 while the grant is held with an unexpired token', (k) => (k.ready ? 1 : 0));
  gauge('mayfly_agent_token_expiry_seconds', 'seconds until the current token expires', (k) => (k.expiresAt ? Math.max(0, (k.expiresAt.getTime() - Date.now()) / 1000) : undefined));
  gauge('mayfly_agent_renewals', 'tokens renewed since the agent started', (k) => k.renewals);
  gauge('mayfly_agent_acquisitions', 'grants obtained since the agent started (1, more after a grant was lost)', (k) => k.acquisitions);
  gauge('mayfly_agent_failures', 'failed attempts to get, renew or write the credential', (k) => k.failures);
}
