/**
 * Finds the database and cache users Mayfly made that no live grant backs — a crash between
 * "create user" and "commit grant", a revocation event the reaper missed, a reaper that was down —
 * and destroys them (issue 22, point 5).
 *
 * A user is destroyed only when two passes in a row find it unbacked: a grant being issued right
 * now has its user before its row commits, and the interval between passes (longer than any
 * issuance takes) lets that commit land first. Destroying is idempotent, so a race with the
 * reaper costs nothing.
 */
export interface ReconcilePorts {
  /** Grant ids of the users that exist in the system now. */
  liveLogins(): Promise<readonly string[]>;
  /** Of these grant ids, the ones whose grant is still active (its credential must live). */
  activeGrants(grantIds: readonly string[]): Promise<ReadonlySet<string>>;
  destroy(grantId: string): Promise<'destroyed' | 'absent'>;
}

export interface ReconcileReport {
  readonly live: number;
  /** Unbacked for the first time: destroyed on the next pass if still unbacked. */
  readonly suspected: number;
  readonly destroyed: readonly string[];
  readonly failed: readonly { grantId: string; error: string }[];
}

export class LoginReconciler {
  /** Unbacked at the last pass. */
  private suspects = new Set<string>();

  constructor(private readonly ports: ReconcilePorts) {}

  async pass(): Promise<ReconcileReport> {
    const live = await this.ports.liveLogins();
    const active = await this.ports.activeGrants(live);
    const unbacked = live.filter((grantId) => !active.has(grantId));
    const destroyed: string[] = [];
    const failed: { grantId: string; error: string }[] = [];
    const stillSuspect = new Set<string>();
    for (const grantId of unbacked) {
      if (!this.suspects.has(grantId)) {
        stillSuspect.add(grantId);
        continue;
      }
      try {
        if ((await this.ports.destroy(grantId)) === 'destroyed') destroyed.push(grantId);
      } catch (error) {
        failed.push({ grantId, error: (error as Error).message });
        stillSuspect.add(grantId); // tried again next pass
      }
    }
    this.suspects = stillSuspect;
    return { live: live.length, suspected: [...stillSuspect].filter((id) => !failed.some((f) => f.grantId === id)).length, destroyed, failed };
  }
}
