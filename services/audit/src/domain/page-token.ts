import { invalidArgument } from '@mayfly/core';

/**
 * ListEvents' paging cursor: the last sequence a page ended at, and which way pages go. Opaque to
 * callers (base64url JSON), checked when it comes back.
 */
export interface PageCursor {
  readonly sequence: string;
  readonly newestFirst: boolean;
}

export function encodePageToken(cursor: PageCursor): string {
  return Buffer.from(JSON.stringify({ s: cursor.sequence, n: cursor.newestFirst })).toString('base64url');
}

export function decodePageToken(token: string): PageCursor {
  try {
    const { s, n } = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { s?: unknown; n?: unknown };
    if (typeof s !== 'string' || !/^[0-9]{1,19}$/.test(s) || typeof n !== 'boolean') throw new Error('malformed');
    return { sequence: s, newestFirst: n };
  } catch {
    throw invalidArgument('page_token', 'is not a token from a previous ListEvents response; start again without it');
  }
}
