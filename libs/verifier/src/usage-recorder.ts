/** What an edge saw of one grant on one resource and action, over a reporting period. */
export interface GrantUsage {
  readonly grantId: string;
  readonly spiffeId: string;
  readonly taskId: string;
  readonly resource: string;
  readonly action: string;
  count: number;
  readonly firstUse: Date;
  lastUse: Date;
}

/**
 * Counts accepted verifications per grant, resource and action, for the usage review: which
 * grants were actually used, for what. One map update per accepted token — nothing on the
 * verification path waits for a report. Bounded: past `maxEntries` distinct keys new ones are
 * dropped (and counted) until the next report empties the map.
 */
export class UsageRecorder {
  private entries = new Map<string, GrantUsage>();
  private droppedSinceReport = 0;

  constructor(readonly maxEntries = 10_000) {}

  record(use: { grantId: string; spiffeId: string; taskId: string; resource: string; action: string }, now: Date): void {
    const key = `${use.grantId}\u0000${use.resource}\u0000${use.action}`;
    const entry = this.entries.get(key);
    if (entry) {
      entry.count += 1;
      entry.lastUse = now;
      return;
    }
    if (this.entries.size >= this.maxEntries) {
      this.droppedSinceReport += 1;
      return;
    }
    this.entries.set(key, { ...use, count: 1, firstUse: now, lastUse: now });
  }

  /** Everything recorded since the last take, and how many uses found no room. */
  take(): { usage: GrantUsage[]; dropped: number } {
    const taken = { usage: [...this.entries.values()], dropped: this.droppedSinceReport };
    this.entries = new Map();
    this.droppedSinceReport = 0;
    return taken;
  }

  get size(): number {
    return this.entries.size;
  }
}
