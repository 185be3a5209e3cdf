import { isMayflyError } from '@mayfly/core';
import type { Grant } from '@mayfly/proto';

/**
 * Access for one task. Release it when the task ends; with `await using` that happens on scope
 * exit, also when the task throws:
 *
 *     await using access = await client.acquire({ task, resource, actions });
 *     await callTheResource(access.accessToken);
 *
 * Releasing completes the grant, which revokes its token at every edge.
 */
export class TaskGrant implements AsyncDisposable {
  private released: Promise<void> | undefined;

  constructor(
    readonly grant: Grant,
    readonly accessToken: string,
    private readonly complete: (outcome: string) => Promise<void>,
    /**
     * The session certificate (DER) the token is bound to, if it was granted within a session:
     * present it (mutual TLS) to the resource, whose edge refuses the token without it.
     */
    readonly certificate?: Buffer | undefined,
  ) {}

  get expiresAt(): Date | undefined {
    return this.grant.expiresAt;
  }

  /**
   * Ends the grant. Safe to call more than once; a grant that has already ended (expired or
   * revoked) counts as released. Any other failure is thrown: the token may still be live.
   */
  release(outcome = 'released'): Promise<void> {
    this.released ??= this.complete(outcome).catch((error: unknown) => {
      if (isMayflyError(error, 'ERR_GRANT_NOT_ACTIVE')) return;
      this.released = undefined;
      throw error;
    });
    return this.released;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.release('released at end of scope');
  }
}
